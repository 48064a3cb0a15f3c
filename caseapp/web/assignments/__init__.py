from flask import Blueprint

bp = Blueprint("assignments", __name__)

from caseapp.web.assignments import routes  # noqa: E402,F401


@bp.app_context_processor
def _case_professionals():
    """`case_professionals(case)` for the case page's partial (templates/assignments/_case_professionals.html): its
    rows, and whether the reader may change them."""
    from flask_login import current_user

    from caseapp.services.casework.assignments import panel

    return {"case_professionals": lambda case: panel(current_user, case)}
