from flask import Blueprint

bp = Blueprint("indicators", __name__, url_prefix="/indicators")

from caseapp.web.indicators import routes  # noqa: E402,F401
