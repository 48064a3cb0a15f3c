"""Follow-up notes by need-to-know section: psychosocial (social workers) and legal (lawyers).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.route import (
    NOTE_SECTIONS,
    CaseNote,
)
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case_for,
    not_future,
    parse_date,
)
from caseapp.timeutil import today, utcnow

READ_ACTIONS = {"legal": "case.legal_notes.read", "psychosocial": "case.psychosocial.read"}
WRITE_ACTIONS = {"legal": "case.legal.write", "psychosocial": "case.psychosocial.write"}


def notes_of(case, section: str) -> list[CaseNote]:
    """Notes of one section (the caller has checked permission)."""
    return list(db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id, CaseNote.section == section)
                                   .order_by(CaseNote.written_on.desc(), CaseNote.id.desc())))


def list_notes(actor, code: str, section: str) -> tuple:
    if section not in NOTE_SECTIONS:
        raise NotFound()
    case = load_case_for(actor, code, READ_ACTIONS[section])
    notes = notes_of(case, section)
    audit.record(f"case.{section}_notes.view", case, actor=actor)
    commit_read()
    return case, notes


def add_note(actor, code: str, section: str, *, body: str | None, written_on=None) -> CaseNote:
    if section not in NOTE_SECTIONS:
        raise NotFound()
    case = load_case_for(actor, code, READ_ACTIONS[section])
    authz.require(actor, WRITE_ACTIONS[section], case)
    errors: dict = {}
    if not clean_text(body):
        errors["body"] = _("Write the note.")
    written_on = parse_date(written_on, "written_on", errors) or (today() if "written_on" not in errors else None)
    not_future(written_on, "written_on", errors)
    if errors:
        raise invalid(errors)
    note = CaseNote(case=case, section=section, written_on=written_on, author_id=actor.id, created_at=utcnow())
    db.session.add(note)
    note.body = clean_text(body)
    audit.record(f"case.{section}_notes.add", case, actor=actor)
    commit()
    return note
