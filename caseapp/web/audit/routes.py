"""Auditor console (stub)."""
from caseapp.authz import action_required
from caseapp.web.audit import bp
from caseapp.web.stub import placeholder


@bp.route("/")
@action_required("audit.read")
def console():
    return placeholder()
