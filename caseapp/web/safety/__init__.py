from flask import Blueprint

bp = Blueprint("safety", __name__, url_prefix="/cases")

from caseapp.web.safety import routes  # noqa: E402,F401
from caseapp.web.safety.badges import safety_badges  # noqa: E402

bp.add_app_template_global(safety_badges, "safety_badges")
