"""Indicator screens (stub)."""
from caseapp.authz import action_required
from caseapp.web.indicators import bp
from caseapp.web.stub import placeholder


@bp.route("/")
@action_required("stats.read")
def dashboard():
    return placeholder()
