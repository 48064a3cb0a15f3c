"""Admin screens (stub)."""
from caseapp.authz import action_required
from caseapp.web.admin import bp
from caseapp.web.stub import placeholder


@bp.route("/users")
@action_required("admin.manage")
def users():
    return placeholder()


@bp.route("/entities")
@action_required("admin.manage")
def entities():
    return placeholder()
