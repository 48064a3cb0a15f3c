from flask import Blueprint

bp = Blueprint("safety", __name__, url_prefix="/cases")

from caseapp.web.safety import routes  # noqa: E402,F401
