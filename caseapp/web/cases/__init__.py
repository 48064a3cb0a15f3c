from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

from caseapp.web.cases import routes, timeline  # noqa: E402,F401  (timeline: the case timeline and its PDF summary)
from caseapp.web.cases.table import case_rows  # noqa: E402

bp.add_app_template_global(case_rows, "case_rows")
