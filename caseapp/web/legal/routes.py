"""The legal follow-up page of a case (issue 13): its proceedings with their stage history, hearings with their
outcome, protection measures from requested to granted or denied to ended.

Views are thin: check the case, run the form through one service, redirect back (flow.act flashes any refusal).
"""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.labels import label, stage_label
from caseapp.models.route import (
    PROCEEDING_KINDS,
    PROCEEDING_STAGES,
    PROTECTION_KINDS,
    LegalEvent,
    LegalProceeding,
    ProtectionMeasure,
)
from caseapp.services import casework
from caseapp.services.primitives import load_case_for
from caseapp.timeutil import today
from caseapp.web import flow
from caseapp.web.legal import bp, forms


def _writable(code: str):
    """The case if the signed-in user writes its legal section (404 / 403 otherwise, before any form is read)."""
    return load_case_for(current_user, code, "case.legal.write")


def _row(model, row_id: int, code: str):
    """A row of the case named in the URL; 404 for a row of another case, as for one that does not exist."""
    row = db.session.get(model, row_id)
    if row is None or row.case.code != code.strip().upper():
        raise NotFound()
    return row


def _back(code: str, anchor: str):
    return redirect(url_for("legal.case_legal", code=code.strip().upper()) + f"#{anchor}")


def _stage_form(proc) -> forms.StageForm:
    f = forms.StageForm(prefix=f"st{proc.id}", formdata=None)
    f.stage.choices = [(s, stage_label(proc.kind, s)) for s in PROCEEDING_STAGES[proc.kind]]
    f.stage.data, f.on.data, f.version.data = proc.stage, today(), proc.version
    return f


@bp.route("/cases/<code>")
@login_required
def case_legal(code):
    case, view = casework.get_legal(current_user, code)
    open_form = forms.OpenProceedingForm(prefix="lp", formdata=None)
    open_form.kind.choices = [(k, label("proceeding_kind", k)) for k in PROCEEDING_KINDS]
    open_form.stage_on.data = today()
    hearing_form = forms.HearingForm(prefix="he", formdata=None)
    hearing_form.proceeding.choices = [(str(p.id), label("proceeding_kind", p.kind)) for p in view.proceedings]
    hearing_form.on.data = today()
    measure_form = forms.NewMeasureForm(prefix="lm", formdata=None)
    measure_form.kind.choices = [(k, label("protection", k)) for k in PROTECTION_KINDS]
    measure_form.requested_on.data = today()
    outcome_forms = {}
    for ev in view.events:
        f = forms.OutcomeForm(prefix=f"ho{ev.id}", formdata=None)
        f.outcome.data, f.next_on.data, f.version.data = ev.outcome, ev.next_on, ev.version
        outcome_forms[ev.id] = f
    decision_forms, end_forms = {}, {}
    for m in view.measures:
        if m.status == "requested":
            f = forms.DecisionForm(prefix=f"md{m.id}", formdata=None)
            f.decision.choices = [(s, label("protection_status", s)) for s in ("granted", "denied")]
            f.decided_on.data, f.version.data = today(), m.version
            decision_forms[m.id] = f
        elif m.status == "granted":
            f = forms.EndForm(prefix=f"me{m.id}", formdata=None)
            f.ended_on.data, f.version.data = today(), m.version
            end_forms[m.id] = f
    return render_template(
        "legal/case.html", case=case, view=view, label=label, stage_label=stage_label, open_form=open_form,
        hearing_form=hearing_form, measure_form=measure_form, outcome_forms=outcome_forms,
        stage_forms={p.id: _stage_form(p) for p in view.proceedings}, decision_forms=decision_forms,
        end_forms=end_forms, today=today())


@bp.route("/cases/<code>/proceedings", methods=["POST"])
@login_required
def open_proceeding(code):
    _writable(code)
    form = forms.OpenProceedingForm(prefix="lp")
    form.kind.choices = [(k, k) for k in PROCEEDING_KINDS]
    flow.act(form, lambda f: casework.open_proceeding(
        current_user, code, kind=f.kind.data, stage_on=f.stage_on.data, complaint_filed_on=f.complaint_filed_on.data,
        receiving_office=f.receiving_office.data, criminal_case_number=f.criminal_case_number.data),
        success=_("Proceeding opened."))
    return _back(code, "proceedings")


@bp.route("/cases/<code>/proceedings/<int:proc_id>/stage", methods=["POST"])
@login_required
def record_stage(code, proc_id):
    _writable(code)
    proc = _row(LegalProceeding, proc_id, code)
    form = forms.StageForm(prefix=f"st{proc_id}")
    form.stage.choices = [(s, s) for s in PROCEEDING_STAGES.get(proc.kind, ())]
    flow.act(form, lambda f: casework.record_stage(current_user, proc_id, version=f.version.data,
                                                   stage=f.stage.data, on=f.on.data),
             success=_("Change of stage recorded."))
    return _back(code, f"proceeding-{proc_id}")


@bp.route("/cases/<code>/hearings", methods=["POST"])
@login_required
def add_hearing(code):
    case = _writable(code)
    form = forms.HearingForm(prefix="he")
    form.proceeding.choices = [(str(p.id), str(p.id)) for p in casework.legal_of(case).proceedings]
    flow.act(form, lambda f: casework.add_event(current_user, code, kind="hearing", on=f.on.data,
                                                title=f.title.data, proceeding_id=f.proceeding.data),
             success=_("Hearing recorded."))
    return _back(code, "hearings")


@bp.route("/cases/<code>/hearings/<int:event_id>", methods=["POST"])
@login_required
def record_outcome(code, event_id):
    _writable(code)
    _row(LegalEvent, event_id, code)
    form = forms.OutcomeForm(prefix=f"ho{event_id}")
    flow.act(form, lambda f: casework.update_event(current_user, event_id, version=f.version.data,
                                                   outcome=f.outcome.data, next_on=f.next_on.data),
             success=_("Outcome of the hearing recorded."))
    return _back(code, f"hearing-{event_id}")


@bp.route("/cases/<code>/measures", methods=["POST"])
@login_required
def add_measure(code):
    _writable(code)
    form = forms.NewMeasureForm(prefix="lm")
    form.kind.choices = [(k, k) for k in PROTECTION_KINDS]
    flow.act(form, lambda f: casework.add_measure(current_user, code, kind=f.kind.data,
                                                  requested_on=f.requested_on.data, notes=f.notes.data),
             success=_("Protection measure recorded."))
    return _back(code, "measures")


@bp.route("/cases/<code>/measures/<int:measure_id>/decision", methods=["POST"])
@login_required
def decide_measure(code, measure_id):
    _writable(code)
    _row(ProtectionMeasure, measure_id, code)
    form = forms.DecisionForm(prefix=f"md{measure_id}")
    form.decision.choices = [(s, s) for s in ("granted", "denied")]
    flow.act(form, lambda f: casework.decide_measure(
        current_user, measure_id, version=f.version.data, decision=f.decision.data, decided_on=f.decided_on.data,
        authority=f.authority.data), success=_("Decision on the protection measure recorded."))
    return _back(code, f"measure-{measure_id}")


@bp.route("/cases/<code>/measures/<int:measure_id>/end", methods=["POST"])
@login_required
def end_measure(code, measure_id):
    _writable(code)
    _row(ProtectionMeasure, measure_id, code)
    form = forms.EndForm(prefix=f"me{measure_id}")
    flow.act(form, lambda f: casework.end_measure(current_user, measure_id, version=f.version.data,
                                                  ended_on=f.ended_on.data),
             success=_("End of the protection measure recorded."))
    return _back(code, f"measure-{measure_id}")
