"""Case registry screens (stub)."""
from caseapp.authz import action_required
from caseapp.web.cases import bp
from caseapp.web.stub import placeholder


@bp.route("/")
@action_required("case.search")
def index():
    return placeholder()
