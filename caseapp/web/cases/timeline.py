"""The timeline of a case and its printable summary (PDF): thin views over services.followup."""
from __future__ import annotations

from flask import Response, render_template
from flask_login import current_user

from caseapp.authz import role_required
from caseapp.models.accounts import CASE_ROLES
from caseapp.services import followup
from caseapp.web.cases import bp

LATEST = 6  # entries the case page shows; the timeline page shows them all


@bp.context_processor
def latest_timeline():
    """`latest_timeline(case)` for the case page's timeline panel (templates/cases/_timeline_panel.html): the newest
    entries this reader may see, and whether there are more. The case page's read is logged with them."""

    def latest(case):
        # one more: is there more? (her, not the proxy: the timeline's rules ask who she is a dozen times)
        entries = followup.entries_of(current_user._get_current_object(), case, newest=LATEST + 1)
        return entries[:LATEST], len(entries) > LATEST

    return {"latest_timeline": latest}


@bp.route("/<code>/timeline")
@role_required(*CASE_ROLES)
def timeline(code):
    view = followup.timeline(current_user, code)
    return render_template("cases/timeline.html", case=view.case, entries=view.entries)


@bp.route("/<code>/summary.pdf")
@role_required(*CASE_ROLES)
def summary_pdf(code):
    name, data = followup.case_summary_pdf(current_user, code)
    return Response(data, mimetype="application/pdf", headers=followup.download_headers(name))
