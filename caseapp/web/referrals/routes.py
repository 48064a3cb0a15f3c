"""Referral screens (stub)."""
from caseapp.authz import action_required
from caseapp.web.referrals import bp
from caseapp.web.stub import placeholder


@bp.route("/")
@action_required("referral.inbox")
def inbox():
    return placeholder()
