"""Assignment screens: "Mis casos", the professionals of a case, and moving a user's open cases at once.

Views are thin: parse the form, call one service, flash or render. Services check permission and log.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from caseapp.authz import action_required
from caseapp.labels import label
from caseapp.models.assignments import ASSIGNMENT_ROLES
from caseapp.services import followup
from caseapp.services.casework import assignments
from caseapp.services.primitives import load_case_for
from caseapp.web import flow
from caseapp.web.assignments import bp, forms


def _roles() -> list[tuple[str, str]]:
    return [(r, label("role", r)) for r in ASSIGNMENT_ROLES]


def _person(user) -> str:
    return f"{user.display_name or user.username} ({user.username} · {user.entity.code})"


@bp.route("/my-cases")
@action_required("case.my_cases")
def my_cases():
    return render_template("assignments/my_cases.html", result=followup.my_cases(current_user))


def _case_page(case, add_form=None, status=200):
    people = assignments.candidates(case)
    add_form = add_form or forms.AssignForm()
    add_form.username.choices = sorted({(u.username, _person(u)) for users in people.values() for u in users},
                                       key=lambda c: c[1])
    add_form.role.choices = _roles()
    current = assignments.open_assignments(case)
    end_forms = []
    for row in current:
        form = forms.EndForm(prefix=f"end{row.id}", formdata=None, username=row.user.username, role=row.role)
        form.replacement.choices = [("", _("Nobody"))] + [
            (u.username, _person(u)) for u in people[row.role] if u.id != row.user_id]
        end_forms.append((row, form))
    return render_template("assignments/case.html", case=case, add_form=add_form, end_forms=end_forms,
                           history=assignments.history(case)), status


@bp.route("/cases/<code>/assignments", methods=["GET", "POST"])
@login_required
def case_assignments(code):
    case = load_case_for(current_user, code, "case.assign")  # who may not assign learns nothing from the form
    form = forms.AssignForm()
    if form.is_submitted():
        # choices are those of the page: the service decides who may be assigned, with its reasons
        form.username.choices = [(form.username.data, form.username.data)]
        form.role.choices = _roles()
        outcome = flow.submit(form, lambda f: assignments.assign(current_user, code, f.username.data, f.role.data),
                              success=_("Professional assigned."))
        if outcome.ok:
            return redirect(url_for(".case_assignments", code=code))
        return _case_page(case, form, outcome.status)
    assignments.viewed(current_user, case)
    return _case_page(case)


@bp.route("/cases/<code>/assignments/end", methods=["POST"])
@login_required
def end_assignment(code):
    load_case_for(current_user, code, "case.assign")
    row = request.form.get("row", "")
    # each row's form has its own prefix (distinct ids on the page); `row` names which one was sent
    form = forms.EndForm(prefix=f"end{row}" if row.isdigit() and len(row) < 12 else "end")
    flow.act(form, lambda f: assignments.unassign(current_user, code, f.username.data, f.role.data,
                                                  replacement=f.replacement.data or None, row_id=row or "0"),
             success=_("Assignment ended."))
    return redirect(url_for(".case_assignments", code=code))


@bp.route("/assignments/reassign", methods=["GET", "POST"])
@action_required("case.reassign_bulk")
def reassign():
    loads = assignments.caseloads(current_user)
    form = forms.BulkForm()
    everyone = [(c.user.username, f"{_person(c.user)} — {c.open_cases}") for c in loads]
    form.from_username.choices = [(c.user.username, f"{_person(c.user)} — {c.open_cases}") for c in loads
                                  if c.open_cases]
    form.to_username.choices = [u for u, c in zip(everyone, loads, strict=True)
                                if c.user.is_active and c.user.entity_id == current_user.entity_id]
    form.role.choices = _roles()
    status = 200
    if form.is_submitted():
        outcome = flow.submit(form, lambda f: assignments.reassign_all(
            current_user, f.from_username.data, f.to_username.data, f.role.data))
        if outcome.ok:
            flash(_("%(count)s cases moved.", count=outcome.result), "success")
            return redirect(url_for(".reassign"))
        status = outcome.status
    return render_template("assignments/reassign.html", form=form, loads=loads), status
