"""The home page, fitted to the user's roles, and health check."""
from flask import jsonify, render_template
from flask_login import login_required
from sqlalchemy import text

from caseapp.extensions import csrf, db
from caseapp.web.main import bp


@bp.route("/")
@login_required
def home():
    return render_template("main/home.html")


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """Liveness and database check for load balancers; says nothing about data."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
