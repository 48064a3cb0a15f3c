"""Legal follow-up: the complaint, the stage of the criminal process, hearings and protection measures.

Lawyers write; social workers read the follow-up but not the lawyers' notes (those are in steps.add_note with
section "legal", readable only by lawyers). The criminal case number is encrypted under the victim's key.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.route import (
    LEGAL_EVENT_KINDS,
    LEGAL_REPRESENTATION,
    LEGAL_STAGES,
    PROTECTION_KINDS,
    PROTECTION_STATUSES,
    LegalEvent,
    LegalProceeding,
    ProtectionMeasure,
)
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_current,
    require_version,
)


@dataclass
class LegalView:
    proceeding: LegalProceeding | None
    events: list = field(default_factory=list)
    measures: list = field(default_factory=list)


def legal_of(case) -> LegalView:
    """The legal follow-up of a case (the caller has checked case.legal.read)."""
    return LegalView(
        proceeding=db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == case.id)),
        events=list(db.session.scalars(select(LegalEvent).where(LegalEvent.case_id == case.id)
                                       .order_by(LegalEvent.on, LegalEvent.id))),
        measures=list(db.session.scalars(select(ProtectionMeasure).where(ProtectionMeasure.case_id == case.id)
                                         .order_by(ProtectionMeasure.id))),
    )


def get_legal(actor, code: str) -> tuple:
    case = load_case_for(actor, code, "case.legal.read")
    view = legal_of(case)
    audit.record("case.legal.view", case, actor=actor)
    commit_read()
    return case, view


def save_proceeding(actor, code: str, *, version, complaint_filed_on=None, receiving_office: str | None = None,
                    criminal_case_number: str | None = None, stage: str = "complaint",
                    representation: str = "none") -> LegalProceeding:
    case = load_case_for(actor, code, "case.legal.write")
    proc = db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == case.id))
    require_current(proc.version if proc is not None else 0, version)  # edited only from the copy she saw
    errors: dict = {}
    complaint_filed_on = parse_date(complaint_filed_on, "complaint_filed_on", errors)
    not_future(complaint_filed_on, "complaint_filed_on", errors)
    if stage not in LEGAL_STAGES:
        errors["stage"] = _("Choose a stage from the list.")
    if representation not in LEGAL_REPRESENTATION:
        errors["representation"] = _("Choose an option from the list.")
    number = clean_text(criminal_case_number, 60)
    if number and not all(ch.isalnum() or ch in "-/ ." for ch in number):
        errors["criminal_case_number"] = _("Use only digits, letters, spaces, dots, dashes and slashes.")
    if errors:
        raise invalid(errors)
    created = proc is None
    if created:
        proc = LegalProceeding(case=case)
        db.session.add(proc)
    before = proc.stage
    proc.complaint_filed_on = complaint_filed_on
    proc.receiving_office = clean_text(receiving_office, 200)
    if number is not None or not created:
        proc.criminal_case_number = number
    proc.stage, proc.representation, proc.updated_by_id = stage, representation, actor.id
    audit.record("case.legal.save", case, actor=actor,
                 detail={"stage": stage, "created": created, "stage_changed": before != stage})
    commit()
    return proc


def add_event(actor, code: str, *, kind: str = "hearing", on=None, title: str | None = None,
              outcome: str | None = None) -> LegalEvent:
    case = load_case_for(actor, code, "case.legal.write")
    errors: dict = {}
    if kind not in LEGAL_EVENT_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    on = parse_date(on, "on", errors)
    if on is None and "on" not in errors:
        errors["on"] = _("Say the date.")
    if errors:
        raise invalid(errors)
    event = LegalEvent(case=case, kind=kind, on=on, recorded_by_id=actor.id)
    db.session.add(event)
    event.title = clean_text(title, 120)
    event.outcome = clean_text(outcome)
    audit.record("case.legal.event", case, actor=actor, detail={"kind": kind})
    commit()
    return event


def add_measure(actor, code: str, *, kind: str, requested_on=None, status: str = "requested", decided_on=None,
                notes: str | None = None) -> ProtectionMeasure:
    case = load_case_for(actor, code, "case.legal.write")
    errors: dict = {}
    if kind not in PROTECTION_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    if status not in PROTECTION_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    requested_on = parse_date(requested_on, "requested_on", errors)
    if requested_on is None and "requested_on" not in errors:
        errors["requested_on"] = _("Say when it was requested.")
    decided_on = parse_date(decided_on, "decided_on", errors)
    not_future(requested_on, "requested_on", errors)
    not_future(decided_on, "decided_on", errors)
    if errors:
        raise invalid(errors)
    measure = ProtectionMeasure(case=case, kind=kind, status=status, requested_on=requested_on,
                                decided_on=decided_on, recorded_by_id=actor.id)
    db.session.add(measure)
    measure.notes = clean_text(notes)
    audit.record("case.legal.measure", case, actor=actor, detail={"kind": kind, "status": status})
    commit()
    return measure


def update_measure(actor, measure_id: int, *, version, status: str, decided_on=None) -> ProtectionMeasure:
    measure = db.session.get(ProtectionMeasure, measure_id)
    if measure is None:
        raise NotFound()
    case = load_case_for(actor, measure.case.code, "case.legal.write")
    require_version(measure, version)
    errors: dict = {}
    if status not in PROTECTION_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    decided_on = parse_date(decided_on, "decided_on", errors)
    not_future(decided_on, "decided_on", errors)
    if errors:
        raise invalid(errors)
    measure.status, measure.decided_on = status, decided_on or measure.decided_on
    audit.record("case.legal.measure.update", case, actor=actor, detail={"status": status})
    commit()
    return measure
