"""Family members of a case (indirect victims): the list with their assistance, registration, correction and a
step for one of them. Thin views over services.family (permission, rules and the access log are there)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp import authz
from caseapp.errors import NotFound
from caseapp.models.accounts import CASE_ROLES
from caseapp.services import casework, family
from caseapp.web import flow
from caseapp.web.family import bp
from caseapp.web.family.forms import MemberForm, MemberStepForm

case_roles = authz.role_required(*CASE_ROLES)
# Registering and correcting family members goes with editing the case: its social workers.
social_workers = authz.role_required("social_worker")


def _page(code, form=None, status=200):
    case, members = family.list_members(current_user, code)
    return render_template("family/index.html", case=case, members=members, assisted=family.assisted_count(members),
                           form=form or MemberForm(formdata=None), step_form=MemberStepForm(
                               casework.kinds_for(current_user, case), formdata=None),
                           can_write=authz.can(current_user, "case.family.write", case)), status


@bp.route("/<code>/family")
@case_roles
def index(code):
    return _page(code)


@bp.route("/<code>/family", methods=["POST"])
@social_workers
def add(code):
    form = MemberForm()
    outcome = flow.submit(form, lambda f: family.add_member(current_user, code, f.data_dict()),
                          success=_("Family member registered."))
    if outcome.ok:
        return redirect(url_for(".index", code=code))
    return _page(code, form, outcome.status)


@bp.route("/<code>/family/<int:member_id>/edit", methods=["GET", "POST"])
@social_workers
def edit(code, member_id):
    case, members = family.list_members(current_user, code)
    member = next((m for m in members if m.id == member_id), None)
    if member is None:
        raise NotFound()
    form = MemberForm(data={"names": member.names, "relationship": member.relationship_kind,
                            "age_group": member.age_group, "document_type": member.document_type or "NONE",
                            "document_number": member.document_number, "version": member.version})
    status = 200
    if form.is_submitted():
        form.version.data = request.form.get("version")  # the version she read, never the current one
        outcome = flow.submit(form, lambda f: family.update_member(current_user, code, member_id, f.data_dict()),
                              success=_("Family member saved."))
        if outcome.ok:
            return redirect(url_for(".index", code=code))
        status = outcome.status
    return render_template("family/edit.html", case=case, member=member, form=form), status


@bp.route("/<code>/family/<int:member_id>/steps", methods=["POST"])
@case_roles
def add_step(code, member_id):
    form = MemberStepForm([k for k in casework.step_kinds()])
    flow.act(form, lambda f: family.add_member_step(current_user, code, member_id, kind=f.kind.data,
                                                    status=f.status.data, on=f.on.data, notes=f.notes.data),
             success=_("Assistance to the family member recorded."))
    return redirect(url_for(".index", code=code))
