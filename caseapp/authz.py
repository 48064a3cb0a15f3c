"""The only policy code (DESIGN.md section 5): can(), require(), scoped queries, and a view decorator.

Services call require() before acting, so the web, the API and the CLI cannot disagree.
Another entity sees a case only through an accepted referral, and only the sections it shares.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import exists, or_, select

from caseapp.errors import Forbidden, NotFound
from caseapp.models.accounts import CASE_ROLES
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral

ALL_SECTIONS = frozenset({"identity", "summary", "psychosocial", "legal"})

# Sections each case role may see at all, whatever the entity.
ROLE_SECTIONS = {
    "social_worker": frozenset({"identity", "summary", "psychosocial", "legal"}),
    "lawyer": frozenset({"identity", "summary", "legal"}),
}

# Actions that need only a role (no object).
ROLE_ACTIONS = {
    "case.create": {"social_worker"},
    "case.search": {"social_worker", "lawyer"},
    "route.agenda": {"social_worker", "lawyer"},
    "referral.inbox": {"social_worker", "lawyer"},
    "route.table_list": {"social_worker", "lawyer"},
    "shelter.view": {"social_worker"},
    "stats.read": {"coordinator"},
    "plans.enter": {"coordinator"},
    "audit.read": {"auditor"},
    "admin.manage": {"admin"},
    "erasure.approve": {"admin"},
}


def case_sections(user, case: Case) -> frozenset[str]:
    """The sections of `case` that `user` may read (empty: the user may not know the case exists)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    by_role = frozenset().union(*(ROLE_SECTIONS.get(r, frozenset()) for r in user.roles))
    if not by_role:
        return frozenset()
    if case.owner_entity_id == user.entity_id:
        return by_role
    shared = frozenset()
    for referral in accepted_referrals(case, user.entity_id):
        shared |= referral.sections
    return by_role & shared


def accepted_referrals(case: Case, entity_id: int) -> list[Referral]:
    from caseapp.extensions import db

    return list(
        db.session.scalars(
            select(Referral).where(
                Referral.case_id == case.id, Referral.to_entity_id == entity_id, Referral.status == "accepted"
            )
        )
    )


def can(user, action: str, obj=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if action in ROLE_ACTIONS:
        return user.has_role(*ROLE_ACTIONS[action])
    if isinstance(obj, Case):
        sections = case_sections(user, obj)
        owner = obj.owner_entity_id == user.entity_id
        match action:
            case "case.read":
                return bool(sections)
            case "case.identity.read":
                return "identity" in sections
            case "case.update" | "case.consent" | "case.close" | "case.erase.request":
                return owner and user.has_role("social_worker")
            case "case.refer":
                return owner and user.has_role(*CASE_ROLES)
            case "case.psychosocial.read":
                return "psychosocial" in sections
            case "case.psychosocial.write":
                return "psychosocial" in sections and user.has_role("social_worker")
            case "case.legal.read":
                return "legal" in sections
            case "case.legal.write":
                return "legal" in sections and user.has_role("lawyer")
            case "case.legal_notes.read":
                return "legal" in sections and user.has_role("lawyer")
            case "case.step.write":
                return bool(sections & {"psychosocial", "legal"}) and user.has_role(*CASE_ROLES)
            case "case.access_history":
                return user.has_role("auditor") or (owner and user.has_role("coordinator"))
            case "referral.override_consent":
                return owner and user.has_role("coordinator")
    if isinstance(obj, Referral):
        match action:
            case "referral.answer":
                return obj.to_entity_id == user.entity_id and user.has_role(*CASE_ROLES)
            case "referral.withdraw":
                return obj.from_entity_id == user.entity_id and user.has_role(*CASE_ROLES)
            case "referral.read":
                return user.entity_id in (obj.from_entity_id, obj.to_entity_id) and user.has_role(*CASE_ROLES)
    return False


def require(user, action: str, obj=None) -> None:
    """Raise unless allowed. A case the user may not read at all is NotFound (its existence is not told)."""
    if can(user, action, obj):
        return
    g.audit_denial = {"action": action, "obj": obj}
    if isinstance(obj, Case) and not case_sections(user, obj) and not can(user, "case.access_history", obj):
        raise NotFound()
    raise Forbidden()


def visible_cases(user, section: str | None = None):
    """A select() of the cases the user may see in lists and searches: own entity's, plus accepted referrals.

    With `section`, a referred case counts only when its referral shares that section: a search by document,
    name or phone passes section="identity", so that a receiving entity cannot confirm who a referred victim
    is by guessing her identity when the referral did not share it.
    """
    if not user.has_role(*CASE_ROLES):
        return select(Case).where(Case.id.is_(None))
    if section is not None and not any(section in ROLE_SECTIONS.get(r, ()) for r in user.roles):
        return select(Case).where(Case.id.is_(None))
    conditions = [Referral.case_id == Case.id, Referral.to_entity_id == user.entity_id, Referral.status == "accepted"]
    if section is not None:
        # shared_sections is a comma-separated list of fixed section names
        conditions.append(("," + Referral.shared_sections + ",").contains("," + section + ","))
    return select(Case).where(or_(Case.owner_entity_id == user.entity_id, exists().where(*conditions)))


def role_required(*roles: str):
    """View decorator: 403 (logged by the error handler) unless the user has one of the roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if not current_user.has_role(*roles):
                g.audit_denial = {"action": "view:" + view.__name__, "obj": None}
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def action_required(action: str):
    """View decorator for role-only actions from ROLE_ACTIONS."""
    return role_required(*ROLE_ACTIONS[action])
