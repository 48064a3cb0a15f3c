"""Who is told: the case's professionals, or an entity's professionals (those who may answer its referrals)."""
from __future__ import annotations

from sqlalchemy import exists, select

from caseapp.extensions import db
from caseapp.models.accounts import CASE_ROLES, User, UserRole
from caseapp.models.assignments import CaseAssignment
from caseapp.models.cases import Case


def _professional():
    """SQL: an active user holding a case role (social worker or lawyer)."""
    return (User.active.is_(True)) & exists().where(UserRole.user_id == User.id, UserRole.role.in_(CASE_ROLES))


def recipients_for_cases(cases) -> dict[int, list[User]]:
    """The professionals of each case: the owning entity's active social workers and lawyers with an open
    assignment to it (services.casework.assignments), in one statement. A receiving entity's professional assigned
    to a referred case is told through its referrals, not through the owner's due dates."""
    cases = list(cases)
    found: dict[int, list[User]] = {c.id: [] for c in cases}
    if not cases:
        return found
    owner = {c.id: c.owner_entity_id for c in cases}
    rows = db.session.execute(
        select(CaseAssignment.case_id, User).join(User, User.id == CaseAssignment.user_id)
        .where(CaseAssignment.case_id.in_(owner), CaseAssignment.ended_at.is_(None), _professional())
        .order_by(User.id))
    for case_id, user in rows:
        if user.entity_id == owner[case_id] and user not in found[case_id]:
            found[case_id].append(user)
    return found


def recipients_for_case(case: Case) -> list[User]:
    return recipients_for_cases([case])[case.id]


def entity_professionals(entity_id: int) -> list[User]:
    """The entity's social workers and lawyers: who may answer a referral to it (authz `referral.answer`)."""
    return list(db.session.scalars(select(User).where(User.entity_id == entity_id, _professional())
                                   .order_by(User.id)))
