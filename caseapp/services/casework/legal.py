"""Legal follow-up: the proceedings of a case (the criminal one and others), their stage history, hearings and
protection measures.

Lawyers write; social workers read the follow-up but not the lawyers' notes (those are in steps.add_note with
section "legal", readable only by lawyers). Free text (case numbers, offices, titles, outcomes, authorities) is
encrypted under the victim's key. Stages are owned by proceedings.change_stage, measures by measures.transition.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.route import LegalEvent, LegalProceeding, ProtectionMeasure
from caseapp.services.casework.measures import add_measure, decide_measure, end_measure, update_measure
from caseapp.services.casework.proceedings import (
    add_event,
    criminal_of,
    history_of,
    open_proceeding,
    record_stage,
    update_event,
    update_proceeding,
)
from caseapp.services.primitives import commit_read, invalid, load_case_for, require_current

__all__ = ["add_event", "add_measure", "decide_measure", "end_measure", "get_legal", "legal_of", "open_proceeding",
           "record_stage", "save_proceeding", "update_event", "update_measure", "update_proceeding"]


@dataclass
class LegalView:
    proceeding: LegalProceeding | None  # the criminal proceeding (what the route's rules and older readers use)
    events: list = field(default_factory=list)
    measures: list = field(default_factory=list)
    proceedings: list = field(default_factory=list)  # every proceeding, the criminal one first
    history: dict = field(default_factory=dict)  # proceeding id -> its stage changes, oldest first


def legal_of(case) -> LegalView:
    """The legal follow-up of a case (the caller has checked case.legal.read); four statements."""
    proceedings = list(db.session.scalars(select(LegalProceeding).where(LegalProceeding.case_id == case.id)
                                          .order_by(LegalProceeding.kind != "criminal", LegalProceeding.id)))
    criminal = next((p for p in proceedings if p.kind == "criminal"), None)
    return LegalView(
        proceeding=criminal,
        events=list(db.session.scalars(select(LegalEvent).where(LegalEvent.case_id == case.id)
                                       .order_by(LegalEvent.on, LegalEvent.id))),
        measures=list(db.session.scalars(select(ProtectionMeasure).where(ProtectionMeasure.case_id == case.id)
                                         .order_by(ProtectionMeasure.id))),
        proceedings=proceedings,
        history=history_of([p.id for p in proceedings]),
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
    """The criminal proceeding as a whole (PUT /legal and the route page): created from version 0 the first time;
    a different stage is a change of stage dated today, kept in the history."""
    case = load_case_for(actor, code, "case.legal.write")
    proc = criminal_of(case)
    require_current(proc.version if proc is not None else 0, version)  # edited only from the copy she saw
    if proc is not None:
        return update_proceeding(actor, proc.id, version=version, complaint_filed_on=complaint_filed_on,
                                 receiving_office=receiving_office, criminal_case_number=criminal_case_number,
                                 representation=representation, stage=stage or "")
    if not stage:
        raise invalid({"stage": _("Choose a stage from the list.")})
    return open_proceeding(actor, code, kind="criminal", stage=stage, complaint_filed_on=complaint_filed_on,
                           receiving_office=receiving_office, criminal_case_number=criminal_case_number,
                           representation=representation)
