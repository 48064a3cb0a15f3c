"""Safety flags of a case: the flags in force and their history, set and clear (the owner's professionals).
Thin views over services.safety; every other page of the case shows the flags in force (safety/_flags.html)."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp import authz
from caseapp.models.accounts import CASE_ROLES
from caseapp.services import safety
from caseapp.web import flow
from caseapp.web.safety import bp
from caseapp.web.safety.forms import ClearFlagForm, SetFlagForm

case_roles = authz.role_required(*CASE_ROLES)


@bp.route("/<code>/safety")
@case_roles
def index(code, form=None, status=200):
    case, rows = safety.flag_history(current_user, code)
    return render_template("safety/index.html", case=case, rows=rows,
                           form=form or SetFlagForm(safety.professionals_for(case), formdata=None),
                           clear_form=ClearFlagForm(formdata=None)), status


@bp.route("/<code>/safety", methods=["POST"])
@case_roles
def set_flag(code):
    case, _rows = safety.flag_history(current_user, code)
    form = SetFlagForm(safety.professionals_for(case))
    outcome = flow.submit(form, lambda f: safety.set_flag(current_user, code, kind=f.kind.data, reason=f.reason.data,
                                                          professional=f.professional.data or None),
                          success=_("Safety flag set."))
    if outcome.ok:
        return redirect(url_for(".index", code=code))
    return index(code, form=form, status=outcome.status)


@bp.route("/<code>/safety/clear", methods=["POST"])
@case_roles
def clear_flag(code):
    flow.act(ClearFlagForm(), lambda f: safety.clear_flag(current_user, code, f.flag_id.data, reason=f.reason.data,
                                                          version=f.version.data),
             success=_("Safety flag cleared; its history is kept."))
    return redirect(url_for(".index", code=code))
