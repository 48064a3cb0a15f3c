from flask import Blueprint

bp = Blueprint("route", __name__, url_prefix="/route")

from caseapp.web.route import admin, routes  # noqa: E402,F401
