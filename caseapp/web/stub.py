"""A placeholder page for areas under construction."""
from flask import render_template


def placeholder():
    return render_template("main/placeholder.html")
