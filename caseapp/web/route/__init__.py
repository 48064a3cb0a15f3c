from flask import Blueprint

bp = Blueprint("route", __name__, url_prefix="/route")

from caseapp.web.route import routes  # noqa: E402,F401
