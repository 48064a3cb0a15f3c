"""Legal proceedings of a case (issue 13): several per case, each of a kind with its own stages, each stage change
dated and kept; and their hearings, recorded with a date and later completed with the outcome and the next date.

`change_stage` is the one owner of LegalProceeding.stage: it appends the history row and moves the stage with it,
for every path (the proceeding's page and API, the legacy PUT /legal, the demo loader).
Lawyers of the owning entity write (authz "case.legal.write"); readers of the legal section read.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.legal import LegalStageChange
from caseapp.models.route import (
    LEGAL_EVENT_KINDS,
    LEGAL_REPRESENTATION,
    PROCEEDING_KINDS,
    PROCEEDING_STAGES,
    LegalEvent,
    LegalProceeding,
)
from caseapp.services.primitives import (
    clean_text,
    commit,
    insert_unique,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_version,
)
from caseapp.timeutil import today


def criminal_of(case) -> LegalProceeding | None:
    """The criminal proceeding of a case (one at most), which the route's rules read (the complaint)."""
    return db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == case.id,
                                                           LegalProceeding.kind == "criminal")
                             .order_by(LegalProceeding.id).limit(1))


def change_stage(proc: LegalProceeding, stage, on, actor, errors: dict | None = None) -> LegalStageChange | None:
    """Move `proc` to `stage` on `on` and keep the change (None when it is already there).

    The stage must be one of its kind's; the date is not in the future nor before the previous change (a history
    read in order must make sense). Errors go into `errors` when given (the caller raises them with its others)."""
    own = errors is None
    errors = {} if own else errors
    stages = PROCEEDING_STAGES.get(proc.kind, ())
    if stage not in stages:
        errors["stage"] = _("Choose a stage from the list.")
    on = parse_date(on, "stage_on", errors) or (today() if "stage_on" not in errors else None)
    not_future(on, "stage_on", errors)
    last = None
    if proc.id is not None:
        last = db.session.scalar(select(LegalStageChange).where(LegalStageChange.proceeding_id == proc.id)
                                 .order_by(LegalStageChange.changed_on.desc(), LegalStageChange.id.desc()).limit(1))
    if last is not None and on is not None and on < last.changed_on and "stage_on" not in errors:
        errors["stage_on"] = _("The change cannot be dated before the previous one (%(date)s).",
                               date=last.changed_on.isoformat())
    if errors:
        if own:
            raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors,
                          rule="stage_not_allowed" if "stage" in errors else None)
        return None
    if proc.stage == stage and last is not None:
        return None
    change = LegalStageChange(proceeding=proc, case_id=proc.case_id if proc.case_id else proc.case.id, stage=stage,
                              changed_on=on, recorded_by_id=actor.id if actor is not None else None)
    db.session.add(change)
    proc.stage = stage
    return change


def _proceeding_fields(proc, errors: dict, *, complaint_filed_on, receiving_office, criminal_case_number,
                       representation) -> None:
    filed = parse_date(complaint_filed_on, "complaint_filed_on", errors)
    not_future(filed, "complaint_filed_on", errors)
    if representation not in LEGAL_REPRESENTATION:
        errors["representation"] = _("Choose an option from the list.")
    number = clean_text(criminal_case_number, 60)
    if number and not all(ch.isalnum() or ch in "-/ ." for ch in number):
        errors["criminal_case_number"] = _("Use only digits, letters, spaces, dots, dashes and slashes.")
    if errors:
        return
    proc.complaint_filed_on, proc.representation = filed, representation
    proc.receiving_office = clean_text(receiving_office, 200)
    if number is not None or proc.id is not None:
        proc.criminal_case_number = number


def open_proceeding(actor, code: str, *, kind, stage=None, stage_on=None, complaint_filed_on=None,
                    receiving_office=None, criminal_case_number=None, representation="none") -> LegalProceeding:
    """A new proceeding of `kind` on the case, in its first stage unless another is named. A case has one
    criminal proceeding at most (the legacy PUT /legal edits it)."""
    case = load_case_for(actor, code, "case.legal.write")
    errors: dict = {}
    if kind not in PROCEEDING_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
        raise invalid(errors)
    if kind == "criminal" and criminal_of(case) is not None:
        raise _criminal_exists()
    proc = LegalProceeding(case=case, kind=kind, stage=PROCEEDING_STAGES[kind][0], updated_by_id=actor.id)
    _proceeding_fields(proc, errors, complaint_filed_on=complaint_filed_on, receiving_office=receiving_office,
                       criminal_case_number=criminal_case_number, representation=representation or "none")
    # Its first stage dates from the filing when no other date is given (today only when neither is known).
    change_stage(proc, stage or PROCEEDING_STAGES[kind][0], stage_on or proc.complaint_filed_on, actor, errors)
    if errors:
        raise invalid(errors)
    # Two requests at once both pass the check above: the database's unique index refuses the second.
    insert_unique(proc, _criminal_exists())
    audit.record("case.legal.proceeding.open", case, actor=actor, detail={"kind": kind, "stage": proc.stage})
    commit()
    return proc


def _criminal_exists() -> Conflict:
    return Conflict(_("This case already has its criminal proceeding: update that one."),
                    rule="criminal_proceeding_exists")


def proceeding_for(actor, proc_id: int, action: str = "case.legal.write") -> LegalProceeding:
    proc = db.session.get(LegalProceeding, proc_id)
    if proc is None:
        raise NotFound()
    load_case_for(actor, proc.case.code, action)
    return proc


def update_proceeding(actor, proc_id: int, *, version, complaint_filed_on=None, receiving_office=None,
                      criminal_case_number=None, representation="none", stage=None,
                      stage_on=None) -> LegalProceeding:
    """Correct a proceeding's facts and, when `stage` differs, record the change of stage (from the copy read)."""
    proc = proceeding_for(actor, proc_id)
    require_version(proc, version)
    errors: dict = {}
    before = proc.stage
    _proceeding_fields(proc, errors, complaint_filed_on=complaint_filed_on, receiving_office=receiving_office,
                       criminal_case_number=criminal_case_number, representation=representation or "none")
    if stage not in (None, ""):
        change_stage(proc, stage, stage_on, actor, errors)
    if errors:
        db.session.rollback()
        raise invalid(errors)
    proc.updated_by_id = actor.id
    audit.record("case.legal.save", proc.case, actor=actor,
                 detail={"kind": proc.kind, "stage": proc.stage, "stage_changed": before != proc.stage})
    commit()
    return proc


def record_stage(actor, proc_id: int, *, version, stage, on=None) -> LegalStageChange | None:
    """A change of stage of a proceeding, dated (today when no date is given)."""
    proc = proceeding_for(actor, proc_id)
    require_version(proc, version)
    change = change_stage(proc, stage, on, actor)
    if change is None:
        raise Invalid(_("The proceeding is already in that stage."), field_errors={"stage": [
            _("The proceeding is already in that stage.")]}, rule="stage_unchanged")
    proc.updated_by_id = actor.id
    audit.record("case.legal.stage", proc.case, actor=actor, detail={"kind": proc.kind, "stage": stage})
    commit()
    return change


def history_of(proc_ids) -> dict[int, list[LegalStageChange]]:
    """The stage history of each proceeding, oldest first (one statement)."""
    out: dict[int, list] = {i: [] for i in proc_ids}
    if out:
        for row in db.session.scalars(select(LegalStageChange).where(LegalStageChange.proceeding_id.in_(list(out)))
                                      .order_by(LegalStageChange.changed_on, LegalStageChange.id)):
            out[row.proceeding_id].append(row)
    return out


# --- hearings and other events -------------------------------------------------------------------------------


def _proceeding_of_case(case, proceeding_id, errors: dict) -> LegalProceeding | None:
    if proceeding_id in (None, ""):
        return criminal_of(case)  # the route page's form names none: the criminal proceeding, if any
    try:
        proc = db.session.get(LegalProceeding, int(proceeding_id))
    except (TypeError, ValueError, OverflowError):
        proc = None
    if proc is None or proc.case_id != case.id:
        errors["proceeding_id"] = _("Choose a proceeding of this case.")
    return proc


def add_event(actor, code: str, *, kind: str = "hearing", on=None, title: str | None = None,
              outcome: str | None = None, next_on=None, proceeding_id=None) -> LegalEvent:
    case = load_case_for(actor, code, "case.legal.write")
    errors: dict = {}
    if kind not in LEGAL_EVENT_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    proc = _proceeding_of_case(case, proceeding_id, errors)
    on = parse_date(on, "on", errors)
    if on is None and "on" not in errors:
        errors["on"] = _("Say the date.")
    next_on = parse_date(next_on, "next_on", errors)
    _check_outcome(on, clean_text(outcome), next_on, errors)
    if errors:
        raise invalid(errors)
    event = LegalEvent(case=case, proceeding=proc, kind=kind, on=on, recorded_by_id=actor.id, next_on=next_on)
    db.session.add(event)
    event.title = clean_text(title, 120)
    event.outcome = clean_text(outcome)
    audit.record("case.legal.event", case, actor=actor, detail={"kind": kind})
    commit()
    return event


def _check_outcome(on: date | None, outcome: str | None, next_on: date | None, errors: dict) -> None:
    # A hearing still to come has no outcome yet; the next one is after it.
    if outcome and on is not None and on > today():
        errors["outcome"] = _("A hearing still to come has no outcome yet.")
    if next_on is not None and on is not None and next_on <= on:
        errors["next_on"] = _("The next hearing comes after this one.")


KEEP = object()  # a field the request does not name: left as it is (an API PATCH)


def update_event(actor, event_id: int, *, version, outcome=KEEP, next_on=KEEP, title=None) -> LegalEvent:
    """Complete a hearing with its outcome and the date of the next one (from the copy read); a field left as
    KEEP keeps its value."""
    event = db.session.get(LegalEvent, event_id)
    if event is None:
        raise NotFound()
    case = load_case_for(actor, event.case.code, "case.legal.write")
    require_version(event, version)
    errors: dict = {}
    next_day = event.next_on if next_on is KEEP else parse_date(next_on, "next_on", errors)
    text = event.outcome if outcome is KEEP else clean_text(outcome)
    _check_outcome(event.on, text, next_day, errors)
    if errors:
        rule = "hearing_not_held" if "outcome" in errors else None
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors, rule=rule)
    event.outcome, event.next_on = text, next_day
    if title is not None:
        event.title = clean_text(title, 120)
    audit.record("case.legal.event.update", case, actor=actor,
                 detail={"kind": event.kind, "outcome": text is not None, "next": next_day is not None})
    commit()
    return event
