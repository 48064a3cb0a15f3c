from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

from caseapp.web.cases import routes, timeline  # noqa: E402,F401  (timeline: the case timeline and its PDF summary)
