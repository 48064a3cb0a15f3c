from flask import Blueprint

bp = Blueprint("legal", __name__, url_prefix="/legal")

from caseapp.web.legal import routes  # noqa: E402,F401
