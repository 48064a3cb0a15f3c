from flask import Blueprint

bp = Blueprint("referrals", __name__, url_prefix="/referrals")

from caseapp.web.referrals import routes  # noqa: E402,F401
