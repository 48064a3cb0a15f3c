from flask import Blueprint

bp = Blueprint("family", __name__, url_prefix="/cases")

from caseapp.web.family import routes  # noqa: E402,F401
