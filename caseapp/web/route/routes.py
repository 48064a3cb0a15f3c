"""Assistance route screens (stub)."""
from caseapp.authz import action_required
from caseapp.web.route import bp
from caseapp.web.stub import placeholder


@bp.route("/agenda")
@action_required("route.agenda")
def agenda():
    return placeholder()


@bp.route("/shelters")
@action_required("shelter.view")
def shelters():
    return placeholder()


@bp.route("/cases/<code>")
@action_required("route.agenda")
def case_route(code):
    return placeholder()
