"""Finding a referral the actor may know, and the entities a referral names.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.referrals import Referral
from caseapp.services.primitives import commit_read

DEFAULT_ANSWER_DAYS = 5


def _answer_days() -> int:
    return int(current_app.config.get("REFERRAL_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def _entity(code: str | None) -> Entity | None:
    if not code:
        return None
    return db.session.scalar(select(Entity).where(Entity.code == str(code).strip().upper(), Entity.active.is_(True)))


def get_referral(actor, referral_id) -> Referral:
    try:
        referral = db.session.get(Referral, int(referral_id))
    except (TypeError, ValueError):
        referral = None
    if referral is None or not authz.can(actor, "referral.read", referral):
        raise NotFound()
    return referral


def view_referral(actor, referral_id) -> Referral:
    referral = get_referral(actor, referral_id)
    audit.record("referral.view", referral.case, actor=actor, detail={"referral": referral.id})
    commit_read()
    return referral


def fulfillable_referrals(actor, case) -> list[Referral]:
    """The referrals of `case` whose service the actor's entity may record now (accepted, sharing in force)."""
    if case.owner_entity_id == actor.entity_id:
        return []
    return [r for r in authz.accepted_referrals(case, actor.entity_id) if authz.can(actor, "referral.fulfil", r)]
