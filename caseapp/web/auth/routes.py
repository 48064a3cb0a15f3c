"""Login, second factor, logout (stub until the accounts work lands)."""
from flask import render_template

from caseapp.web.auth import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    return render_template("auth/login.html")


@bp.route("/account")
def account():
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    return render_template("auth/login.html")
