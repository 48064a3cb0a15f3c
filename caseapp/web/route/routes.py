"""Assistance route screens: the case's route page, the agenda, shelters, the monthly list, rule administration.

Views are thin: parse the form, call one service, flash or render. Services check permission and log.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from caseapp import authz
from caseapp.authz import action_required
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS, label
from caseapp.models.accounts import Entity
from caseapp.models.cases import CLOSURE_REASONS
from caseapp.models.route import (
    GOAL_AREAS,
    GOAL_STATUSES,
    LEGAL_EVENT_KINDS,
    LEGAL_REPRESENTATION,
    LEGAL_STAGES,
    PROTECTION_KINDS,
    PROTECTION_STATUSES,
    REOPEN_REASONS,
    STEP_STATUSES,
    AssistanceStep,
    StepKind,
)
from caseapp.services import casework, followup, route, safety
from caseapp.services.primitives import load_case_for
from caseapp.timeutil import today
from caseapp.web import flow
from caseapp.web.route import bp, forms


def _choices(group: str, codes) -> list[tuple[str, str]]:
    return [(c, label(group, c)) for c in codes]


def _kind_label(kind: StepKind) -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return kind.label(locale.language if locale else None)


def _entities() -> list[Entity]:
    return list(db.session.scalars(select(Entity).where(Entity.active.is_(True)).order_by(Entity.code)))




def _flash_unseen_errors(form, shown: bool) -> None:
    """Errors the page would not show next to a field: those of hidden fields (the version), or all of them
    when the form is a per-row form that the page renders afresh. They become flash messages, never lost."""
    for field in form:
        if field.errors and (not shown or field.type in ("HiddenField", "CSRFTokenField")):
            if field.type == "CSRFTokenField":
                continue
            label = _("The form is out of date; reload the page and try again.") if field.short_name == "version" \
                else f"{field.label.text}: {' '.join(str(e) for e in field.errors)}"
            flash(label, "error")


def _case_forms(view) -> dict:
    case = view.case
    kinds = view.kinds
    entities = _entities()
    step_form = forms.StepForm(prefix="step")
    step_form.kind.choices = [(k.code, f"{label('phase', k.phase)} — {_kind_label(k)}") for k in kinds]
    step_form.status.choices = _choices("step_status", STEP_STATUSES)
    step_form.provider_entity.choices = [("", _("My entity"))] + [(e.code, f"{e.code} — {e.name}") for e in entities]
    close_form = forms.CloseImmediateForm(prefix="imm")
    if view.legal and view.legal.proceeding and view.legal.proceeding.complaint_filed_on and not close_form.complaint_on.data:
        close_form.complaint_on.data = view.legal.proceeding.complaint_filed_on
    ext_form = forms.ExtensionForm(prefix="ext")
    goal_form = forms.GoalForm(prefix="goal")
    goal_form.area.choices = _choices("goal_area", GOAL_AREAS)
    proc = view.legal.proceeding if view.legal else None
    proc_form = forms.ProceedingForm(prefix="proc", obj=proc)
    proc_form.stage.choices = _choices("stage", LEGAL_STAGES)
    proc_form.representation.choices = _choices("representation", LEGAL_REPRESENTATION)
    if proc is not None and not proc_form.is_submitted():
        proc_form.criminal_case_number.data = proc.criminal_case_number
    event_form = forms.LegalEventForm(prefix="ev")
    event_form.kind.choices = _choices("event_kind", LEGAL_EVENT_KINDS)
    measure_form = forms.MeasureForm(prefix="pm")
    measure_form.kind.choices = _choices("protection", PROTECTION_KINDS)
    measure_form.status.choices = _choices("protection_status", PROTECTION_STATUSES)
    close_case_form = forms.ClosureForm(prefix="close")
    close_case_form.reason.choices = _choices("closure", CLOSURE_REASONS)
    place_form = forms.PlaceForm(prefix="place")
    if current_user.has_role("social_worker"):
        place_form.shelter_id.choices = [
            (str(r.shelter.id), _("%(name)s (%(free)s free beds)", name=r.shelter.name, free=r.free))
            for r in casework.list_shelters(current_user)]
    for f in (close_form, ext_form, close_case_form):
        f.version.data = case.version
    ext_form.phase.data = {"in_immediate_assistance": "immediate", "in_mediate_assistance": "mediate"}.get(case.status)
    for f in (close_form, close_case_form):
        if f.closed_on.data is None:
            f.closed_on.data = today()
    for f in (goal_form,):
        if f.agreed_on.data is None:
            f.agreed_on.data = today()
    if ext_form.decided_on.data is None:
        ext_form.decided_on.data = today()
    if place_form.admitted_on.data is None:
        place_form.admitted_on.data = today()
    reopen_form = forms.ReopenForm(prefix="reopen")
    reopen_form.reason.choices = _choices("reopen", REOPEN_REASONS)
    reopen_form.version.data = case.version
    psy_note_form = forms.NoteForm(prefix="psy")
    legal_note_form = forms.NoteForm(prefix="jur")
    for f in (psy_note_form, legal_note_form, event_form):
        field = getattr(f, "written_on", None) or getattr(f, "on", None)
        if field.data is None:
            field.data = today()
    if measure_form.requested_on.data is None:
        measure_form.requested_on.data = today()
    return {"step_form": step_form, "close_form": close_form, "ext_form": ext_form, "goal_form": goal_form,
            "proc_form": proc_form, "event_form": event_form, "measure_form": measure_form,
            "close_case_form": close_case_form, "reopen_form": reopen_form, "place_form": place_form,
            "psy_note_form": psy_note_form, "legal_note_form": legal_note_form}


def _render_case(code: str, status: int = 200, **overrides):
    view = followup.overview(current_user, code)
    context = _case_forms(view)
    for name, form in list(overrides.items()):
        default = context[name]
        if type(form) is not type(default):
            # A per-row form (step update, goal review, departure): the page shows fresh row forms.
            _flash_unseen_errors(form, shown=False)
            continue
        _flash_unseen_errors(form, shown=True)
        # keep the submitted form (with its errors) but give it the same choices
        for field in form:
            if hasattr(field, "choices") and hasattr(default[field.short_name], "choices"):
                field.choices = default[field.short_name].choices
        context[name] = form
    update_forms = {}
    for step in view.steps:
        f = forms.StepUpdateForm(prefix=f"s{step.id}", formdata=None)
        f.status.choices = _choices("step_status", STEP_STATUSES)
        f.status.data, f.done_on.data, f.version.data = step.status, step.done_on or today(), step.version
        update_forms[step.id] = f
    review_forms = {}
    for goal in view.goals:
        f = forms.GoalReviewForm(prefix=f"g{goal.id}", formdata=None)
        f.status.choices = _choices("goal_status", GOAL_STATUSES)
        f.status.data, f.version.data = goal.status, goal.version
        review_forms[goal.id] = f
    leave_forms = {}
    for stay in view.stays:
        if stay.left_on is None:
            f = forms.LeaveForm(prefix=f"l{stay.id}", formdata=None)
            f.left_on.data, f.version.data = today(), stay.version
            leave_forms[stay.id] = f
    return render_template(
        "route/case.html", view=view, case=view.case, labels=LABELS, label=label, kind_label=_kind_label,
        update_forms=update_forms, review_forms=review_forms, leave_forms=leave_forms,
        can_read_notes=lambda s: casework.can_read_step_notes(current_user, s),
        can_edit_step=lambda s: authz.can_record_step(current_user, s.case, s.kind),
        kind_labels={k.code: _kind_label(k) for k in casework.step_kinds(active_only=False)}, **context,
    ), status


def _back(code: str, anchor: str = ""):
    return redirect(url_for("route.case_route", code=code) + (f"#{anchor}" if anchor else ""))


def _post(code: str, form_name: str, form, call, success: str, anchor: str = ""):
    """Validate `form`, call the service; on bad input re-render with the errors tied to the fields."""
    outcome = flow.submit(form, call, success=success)
    if outcome.ok:
        return _back(code, anchor)
    if outcome.status == 409:
        return _render_case(code, 409)
    if outcome.error is None or outcome.error.field_errors:
        flash(_("Some fields are not valid; nothing was saved."), "error")  # the form may sit in a closed section
    return _render_case(code, 422, **{form_name: form})


@bp.route("/cases/<code>")
@login_required
def case_route(code):
    return _render_case(code)


@bp.route("/cases/<code>/steps", methods=["POST"])
@login_required
def add_step(code):
    form = forms.StepForm(prefix="step")
    form.kind.choices = [(k.code, k.code) for k in casework.step_kinds()]
    form.status.choices = _choices("step_status", STEP_STATUSES)
    form.provider_entity.choices = [("", "")] + [(e.code, e.code) for e in _entities()]
    return _post(code, "step_form", form, lambda f: casework.add_step(
        current_user, code, kind=f.kind.data, status=f.status.data, planned_on=f.planned_on.data,
        done_on=f.done_on.data, provider_entity=f.provider_entity.data or None, notes=f.notes.data,
        not_provided_reason=f.not_provided_reason.data), _("Step recorded."), "steps")


@bp.route("/steps/<int:step_id>", methods=["POST"])
@login_required
def update_step(step_id):
    step = db.get_or_404(AssistanceStep, step_id)
    code = step.case.code
    _readable(code)
    form = forms.StepUpdateForm(prefix=f"s{step_id}")
    form.status.choices = _choices("step_status", STEP_STATUSES)
    return _post(code, "step_form", form, lambda f: casework.update_step(
        current_user, step_id, version=f.version.data, status=f.status.data, done_on=f.done_on.data,
        not_provided_reason=f.not_provided_reason.data), _("Step updated."), "steps")


def _readable(code: str) -> bool:
    load_case_for(current_user, code)  # NotFound for a case the user may not know
    return True


@bp.route("/cases/<code>/immediate/close", methods=["POST"])
@login_required
def close_immediate(code):
    form = forms.CloseImmediateForm(prefix="imm")
    return _post(code, "close_form", form, lambda f: route.close_immediate(
        current_user, code, version=f.version.data, closed_on=f.closed_on.data, complaint_on=f.complaint_on.data,
        acta_on=f.acta_on.data, acta_summary=f.acta_summary.data),
        _("Immediate assistance closed; the case is now in mediate assistance."), "phase")


@bp.route("/cases/<code>/extensions", methods=["POST"])
@login_required
def extend(code):
    form = forms.ExtensionForm(prefix="ext")
    return _post(code, "ext_form", form, lambda f: route.extend_phase(
        current_user, code, version=f.version.data, phase=f.phase.data, amount=f.amount.data, reason=f.reason.data,
        decided_by=f.decided_by.data, decided_on=f.decided_on.data, reported=f.reported.data),
        _("Extension recorded."), "phase")


@bp.route("/cases/<code>/life-plan", methods=["POST"])
@login_required
def add_goal(code):
    form = forms.GoalForm(prefix="goal")
    form.area.choices = _choices("goal_area", GOAL_AREAS)
    return _post(code, "goal_form", form, lambda f: casework.add_goal(
        current_user, code, area=f.area.data, description=f.description.data, agreed_on=f.agreed_on.data,
        target_on=f.target_on.data), _("Life plan goal recorded."), "life-plan")


@bp.route("/goals/<int:goal_id>", methods=["POST"])
@login_required
def review_goal(goal_id):
    from caseapp.models.route import LifePlanGoal

    goal = db.get_or_404(LifePlanGoal, goal_id)
    code = goal.case.code
    _readable(code)
    form = forms.GoalReviewForm(prefix=f"g{goal_id}")
    form.status.choices = _choices("goal_status", GOAL_STATUSES)
    return _post(code, "goal_form", form, lambda f: casework.review_goal(
        current_user, goal_id, version=f.version.data, status=f.status.data, review_note=f.review_note.data),
        _("Life plan goal reviewed."), "life-plan")


@bp.route("/cases/<code>/notes/<section>", methods=["POST"])
@login_required
def add_note(code, section):
    prefix = {"psychosocial": "psy", "legal": "jur"}.get(section)
    if prefix is None:
        abort(404)
    form = forms.NoteForm(prefix=prefix)
    name = "psy_note_form" if section == "psychosocial" else "legal_note_form"
    return _post(code, name, form, lambda f: casework.add_note(
        current_user, code, section, body=f.body.data, written_on=f.written_on.data),
        _("Note recorded."), f"{section}-notes")


@bp.route("/cases/<code>/legal", methods=["POST"])
@login_required
def save_proceeding(code):
    form = forms.ProceedingForm(prefix="proc")
    form.stage.choices = _choices("stage", LEGAL_STAGES)
    form.representation.choices = _choices("representation", LEGAL_REPRESENTATION)
    return _post(code, "proc_form", form, lambda f: casework.save_proceeding(
        current_user, code, version=f.version.data or 0, complaint_filed_on=f.complaint_filed_on.data,
        receiving_office=f.receiving_office.data, criminal_case_number=f.criminal_case_number.data,
        stage=f.stage.data, representation=f.representation.data), _("Legal follow-up saved."), "legal")


@bp.route("/cases/<code>/legal/events", methods=["POST"])
@login_required
def add_event(code):
    form = forms.LegalEventForm(prefix="ev")
    form.kind.choices = _choices("event_kind", LEGAL_EVENT_KINDS)
    return _post(code, "event_form", form, lambda f: casework.add_event(
        current_user, code, kind=f.kind.data, on=f.on.data, title=f.title.data, outcome=f.outcome.data),
        _("Hearing recorded."), "legal")


@bp.route("/cases/<code>/legal/measures", methods=["POST"])
@login_required
def add_measure(code):
    form = forms.MeasureForm(prefix="pm")
    form.kind.choices = _choices("protection", PROTECTION_KINDS)
    form.status.choices = _choices("protection_status", PROTECTION_STATUSES)
    return _post(code, "measure_form", form, lambda f: casework.add_measure(
        current_user, code, kind=f.kind.data, requested_on=f.requested_on.data, status=f.status.data,
        decided_on=f.decided_on.data, notes=f.notes.data), _("Protection measure recorded."), "legal")


@bp.route("/cases/<code>/shelter", methods=["POST"])
@login_required
def place(code):
    form = forms.PlaceForm(prefix="place")
    form.shelter_id.choices = [(str(r.shelter.id), r.shelter.name) for r in casework.list_shelters(current_user)]
    return _post(code, "place_form", form, lambda f: casework.place(
        current_user, code, shelter_id=f.shelter_id.data, admitted_on=f.admitted_on.data),
        _("The victim was placed in the shelter."), "shelter")


@bp.route("/stays/<int:stay_id>/leave", methods=["POST"])
@login_required
def leave(stay_id):
    from caseapp.models.route import ShelterStay

    stay = db.get_or_404(ShelterStay, stay_id)
    code = stay.case.code
    _readable(code)
    form = forms.LeaveForm(prefix=f"l{stay_id}")
    return _post(code, "place_form", form, lambda f: casework.end_stay(
        current_user, stay_id, version=f.version.data, left_on=f.left_on.data),
        _("Departure from the shelter recorded."), "shelter")


@bp.route("/cases/<code>/close", methods=["POST"])
@login_required
def close_case(code):
    form = forms.ClosureForm(prefix="close")
    form.reason.choices = _choices("closure", CLOSURE_REASONS)
    def close(f):
        closure = route.close_case(current_user, code, reason=f.reason.data, closed_on=f.closed_on.data,
                                   note=f.note.data, version=f.version.data)
        flow.flash_ended_stay(closure.case)

    return _post(code, "close_case_form", form, close, _("Case closed."), "closure")


@bp.route("/cases/<code>/reopen", methods=["POST"])
@login_required
def reopen_case(code):
    form = forms.ReopenForm(prefix="reopen")
    form.reason.choices = _choices("reopen", REOPEN_REASONS)
    return _post(code, "reopen_form", form, lambda f: route.reopen_case(
        current_user, code, reason=f.reason.data, reopened_on=None, note=f.note.data, version=f.version.data),
        _("Case reopened; its closure stays in the history."), "closure")


# --- agenda, shelters, monthly list ----------------------------------------------------------------------------


@bp.route("/agenda")
@action_required("route.agenda")
def agenda():
    result = followup.agenda(current_user)
    referrals = result["referrals"][:followup.REFERRALS_SHOWN]
    # each row shows its case's safety flags: found for all the rows shown at once (one statement)
    flags = safety.flags_by_code(current_user, (i.case_code for i in result["overdue"] + result["upcoming"]
                                                + referrals))
    return render_template("route/agenda.html", result=result, flags=flags, referrals=referrals)


@bp.route("/shelters", endpoint="shelters")
@action_required("shelter.view")
def shelters_index():
    rows, stays = casework.shelters_page(current_user)
    return render_template("route/shelters.html", rows=rows, stays=stays)


@bp.route("/monthly-list")
@action_required("route.table_list")
def table_list():
    form = forms.TableListForm(request.args)
    month = form.month.data or today().strftime("%Y-%m")
    try:
        year, mon = (int(p) for p in month.split("-", 1))
    except ValueError:
        form.month.errors = [_("Write the month as YYYY-MM.")]
        return render_template("route/table_list.html", form=form, rows=[], month=month), 422
    fmt = request.args.get("format")
    if fmt not in (None, "", "csv", "xlsx"):
        fmt = None
    try:
        if fmt:
            rows = followup.table_list(current_user, year, mon, export=fmt)
        else:
            shown = followup.table_page(current_user, year, mon, request.args.get("page", 1))
    except Invalid:
        form.month.errors = [_("Write the month as YYYY-MM.")]
        return render_template("route/table_list.html", form=form, rows=[], month=month), 422
    period = f"{year:04d}-{mon:02d}"
    if fmt == "csv":
        return Response(followup.table_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=mesa-investigacion-{period}.csv"})
    if fmt == "xlsx":
        return Response(followup.table_xlsx(rows, period),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=mesa-investigacion-{period}.xlsx"})
    form.month.data = period
    return render_template("route/table_list.html", form=form, rows=shown.rows, shown=shown, month=period)
