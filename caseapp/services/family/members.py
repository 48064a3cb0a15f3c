"""Family members (indirect victims): identity under the victim's key (shredded with hers), relationship, age group
and their own assistance steps.

Their steps are FamilyStep rows, never AssistanceStep: the route's phases, due dates and the direct-victim
indicators do not see them. A family member is "assisted" when she has a step done; that count is shown apart, on
the case (`assisted_count`) and to coordinators, protected, in bases of the publication of their own
(services.indicators.publication.family). Reading them goes with the victim's identity section; writing them with
editing the case (the owner's social workers); a step for one is recorded by whoever may record that kind of step
on the case.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from caseapp import audit, authz
from caseapp.errors import Forbidden, NotFound
from caseapp.extensions import db
from caseapp.models.cases import RELATIONSHIPS, Case, IndirectVictim
from caseapp.models.safety import FAMILY_STEP_STATUSES, FamilyStep
from caseapp.models.victims import AGE_GROUPS, DOCUMENT_TYPES
from caseapp.services.casework import kind_by_code
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_identity_kept,
    require_version,
    whole_number,
)
from caseapp.services.registry.fields import document_number_message, document_number_ok
from caseapp.services.route.lifecycle import require_open
from caseapp.timeutil import today, utcnow

MAX_NAMES = 200
MAX_DOCUMENT = 40


def members_of(case: Case) -> list[IndirectVictim]:
    """The case's family members with their steps (two statements, however many)."""
    return list(db.session.scalars(
        select(IndirectVictim).options(selectinload(IndirectVictim.steps))
        .where(IndirectVictim.case_id == case.id).order_by(IndirectVictim.id)))


def assisted_count(members) -> int:
    """Family members with at least one service done: counted apart from the direct victim."""
    return sum(1 for m in members if any(s.status == "done" for s in m.steps))


def list_members(actor, code: str) -> tuple[Case, list[IndirectVictim]]:
    case = load_case_for(actor, code, "case.family.read")
    members = members_of(case)
    audit.record("case.family.view", case, actor=actor, detail={"count": len(members)})
    commit_read()
    return case, members


def _identity(data: dict, errors: dict, *, partial: bool = False) -> dict:
    """The checked fields of a family member from a form or the API (only those given, when `partial`)."""
    out: dict = {}
    if not partial or "names" in data:
        names = clean_text(data.get("names"), MAX_NAMES)
        if not names:
            errors["names"] = _("Write the family member's names.")
        out["names"] = names
    if not partial or "relationship" in data:
        if data.get("relationship") not in RELATIONSHIPS:
            errors["relationship"] = _("Choose from the list.")
        out["relationship_kind"] = data.get("relationship")
    if not partial or "age_group" in data:
        age = data.get("age_group") or "unknown"
        if age not in AGE_GROUPS:
            errors["age_group"] = _("Choose from the list.")
        out["age_group"] = age
    if not partial or "document_type" in data or "document_number" in data:
        doc_type = data.get("document_type") or "NONE"
        number = clean_text(data.get("document_number"), MAX_DOCUMENT)
        if doc_type not in DOCUMENT_TYPES:
            errors["document_type"] = _("Choose from the list.")
        elif doc_type == "NONE" and number:
            errors["document_type"] = _("Choose the type of the document.")
        elif doc_type != "NONE" and not number:
            errors["document_number"] = _("Write the document number.")
        elif number and not document_number_ok(number):
            errors["document_number"] = document_number_message()
        out["document_type"] = None if doc_type == "NONE" else doc_type
        out["document_number"] = number if doc_type != "NONE" else None
    return out


def _write(member: IndirectVictim, fields: dict) -> None:
    for name, value in fields.items():
        setattr(member, name, value)


def add_member(actor, code: str, data: dict) -> IndirectVictim:
    """Register a family member who also receives assistance (names, relationship, age group, document if any)."""
    case = load_case_for(actor, code, "case.family.write")
    require_open(case)
    require_identity_kept(case)
    errors: dict = {}
    fields = _identity(data, errors)
    if errors:
        raise invalid(errors)
    member = IndirectVictim(case=case, created_by_id=actor.id, created_at=utcnow())
    db.session.add(member)
    _write(member, fields)
    db.session.flush()
    audit.record("case.family.add", case, actor=actor, detail={"member": member.id})
    commit()
    return member


def _member(case: Case, member_id) -> IndirectVictim:
    number = whole_number(member_id, 1)
    member = db.session.get(IndirectVictim, number) if number is not None else None
    if member is None or member.case_id != case.id:
        raise NotFound()
    return member


def update_member(actor, code: str, member_id, data: dict) -> IndirectVictim:
    """Correct a family member (only the fields given), from the version the editor read."""
    case = load_case_for(actor, code, "case.family.write")
    member = _member(case, member_id)
    require_version(member, data.get("version"))
    require_identity_kept(case)
    errors: dict = {}
    fields = _identity(data, errors, partial=True)
    if errors:
        raise invalid(errors)
    _write(member, fields)
    audit.record("case.family.update", case, actor=actor, detail={"member": member.id, "fields": sorted(fields)})
    commit()
    return member


def add_member_step(actor, code: str, member_id, *, kind, status, on=None, notes=None) -> FamilyStep:
    """Record a service given to (done) or planned for (planned) a family member."""
    case = load_case_for(actor, code, "case.family.read")
    member = _member(case, member_id)
    require_identity_kept(case)  # her notes and her relative's record are under the victim's key
    kind_row = kind_by_code(kind)
    errors: dict = {}
    if kind_row is None or not kind_row.active:
        errors["kind"] = _("Choose from the list.")
    elif not authz.can_record_step(actor, case, kind_row):
        raise Forbidden()
    if status not in FAMILY_STEP_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    on = parse_date(on, "on", errors) or (today() if "on" not in errors and status == "done" else None)
    if on is None and "on" not in errors:
        errors["on"] = _("Say when the step is planned.")
    if status == "done":
        not_future(on, "on", errors)
    if on is not None and on < case.identified_on and "on" not in errors:
        errors["on"] = _("The date cannot be before the case was identified.")
    if errors:
        raise invalid(errors)
    require_open(case)
    step = FamilyStep(case=case, member=member, kind=kind_row, status=status, on=on, professional_id=actor.id,
                      created_at=utcnow())
    db.session.add(step)
    step.notes = clean_text(notes)
    db.session.flush()
    audit.record("case.family.step.add", case, actor=actor,
                 detail={"member": member.id, "kind": kind_row.code, "status": status, "step": step.id})
    commit()
    return step
