"""Build victims and cases straight through the models, for tests of areas that sit on top of the registry.

The registry's own tests go through `caseapp.services.registry`; other areas use this so that they do not depend
on the registration form. Identity is fake and encrypted exactly as the service does it. A case made here in a
status other than "identified" is put there directly (inside the model's status_writer, as the lifecycle does):
a test fixture, not a path of the product.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.assignments import ASSIGNMENT_ROLES, CaseAssignment
from caseapp.models.cases import Case, CaseCounter, Consent, status_writer
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.victims import Victim
from caseapp.services.registry.identity import _reindex as index_victim
from caseapp.timeutil import utcnow


def make_case(
    owner_user_id: int,
    *,
    given_names: str = "Mariana",
    family_names: str = "Pérez Gómez",
    document_type: str = "CC",
    document_number: str = "52123456",
    phone: str = "3001234567",
    birth_date: str = "1995-04-02",
    sex: str = "female",
    age_group: str = "27-29",
    nationality: str = "CO",
    identified_on: date = date(2025, 3, 10),
    linked_on: date | None = date(2025, 3, 10),
    status: str = "identified",
    purposes: tuple[str, ...] = ("sexual_exploitation",),
    trafficking_scope: str = "internal",
    consent_assistance: bool = True,
    is_child: bool = False,
    intake_on: date | None = None,
    **case_fields,
) -> str:
    """Create a victim and her case owned by the user's entity; return the case code. Needs an app context."""
    user = db.session.get(User, owner_user_id)
    victim = Victim.new(sex=sex, age_group=age_group, nationality=nationality)
    db.session.add(victim)
    victim.given_names, victim.family_names = given_names, family_names
    victim.document_type, victim.document_number = document_type, document_number
    victim.phone, victim.birth_date = phone, birth_date
    index_victim(victim)  # at the deployment's recorded width, as the registry does
    counter = db.session.get(CaseCounter, (user.entity_id, identified_on.year))
    if counter is None:
        counter = CaseCounter(entity_id=user.entity_id, year=identified_on.year, last=0)
        db.session.add(counter)
    counter.last += 1
    code = f"{user.entity.code}-{identified_on.year}-{counter.last:05d}"
    with status_writer():
        case = Case(
            code=code, victim=victim, owner_entity_id=user.entity_id, created_by_id=user.id,
            status=status, identified_on=identified_on, identification_source="coat",
            linked_on=linked_on if consent_assistance else None, trafficking_scope=trafficking_scope,
            victim_status="victim", is_child=is_child, child_referral_required=is_child, intake_on=intake_on,
            **case_fields,
        )
    case.purposes = list(db.session.scalars(select(ExploitationPurpose).where(ExploitationPurpose.code.in_(purposes))))
    db.session.add(case)
    # Assigned to its creator in her first case role, as registration does.
    role = next((r for r in ASSIGNMENT_ROLES if user.has_role(r)), None)
    if role is not None:
        db.session.flush()
        db.session.add(CaseAssignment(case_id=case.id, user_id=user.id, role=role, assigned_at=utcnow(),
                                      assigned_by_id=user.id))
    if consent_assistance:
        case.consents.append(Consent(kind="assistance", given_on=identified_on, method="written",
                                     taken_by_id=user.id, recorded_at=utcnow()))
    db.session.commit()
    return code
