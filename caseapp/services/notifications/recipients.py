"""Who is told: the case's professionals, or an entity's professionals (those who may answer its referrals)."""
from __future__ import annotations

from sqlalchemy import exists, select

from caseapp.extensions import db
from caseapp.models.accounts import CASE_ROLES, User, UserRole
from caseapp.models.cases import Case


def _professional():
    """SQL: an active user holding a case role (social worker or lawyer)."""
    return (User.active.is_(True)) & exists().where(UserRole.user_id == User.id, UserRole.role.in_(CASE_ROLES))


def recipients_for_cases(cases) -> dict[int, list[User]]:
    """The professionals of each case: the owning entity's social workers and lawyers who created it or are
    assigned to it. The one place that says who a case's professionals are for notifications (when cases get
    several assigned professionals, this reads them instead)."""
    cases = list(cases)
    wanted = {c.id: {i for i in (c.created_by_id, c.assigned_to_id) if i} for c in cases}
    ids = set().union(*wanted.values()) if wanted else set()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids), _professional()))} if ids \
        else {}
    return {c.id: [users[i] for i in sorted(wanted[c.id]) if i in users and users[i].entity_id == c.owner_entity_id]
            for c in cases}


def recipients_for_case(case: Case) -> list[User]:
    return recipients_for_cases([case])[case.id]


def entity_professionals(entity_id: int) -> list[User]:
    """The entity's social workers and lawyers: who may answer a referral to it (authz `referral.answer`)."""
    return list(db.session.scalars(select(User).where(User.entity_id == entity_id, _professional())
                                   .order_by(User.id)))
