"""What a withdrawn consent to share does to the referrals that relied on it.

Access itself is computed from the live state in authz (an accepted referral whose basis for sharing is in
force), so it is cut the moment the consent is withdrawn, on every path. This module also closes the referrals
themselves — sent or accepted, to the entity the consent named, except the mandatory ICBF one — as "ended", so
that the receiving entity's inbox says that access ended (never why) and nothing can be accepted or fulfilled on
them any more. Each ended referral writes the access log.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services import notifications
from caseapp.services.casework import referral_moves


def end_referrals(actor, case: Case, on: date, *conditions, detail: dict | None = None) -> list[Referral]:
    """End the open (sent or accepted) referrals of `case` that meet `conditions`, in the caller's transaction:
    each becomes "ended" on `on` and writes its access-log row."""
    ended = list(db.session.scalars(select(Referral).where(
        Referral.case_id == case.id, Referral.status.in_(("sent", "accepted")), *conditions)))
    referral_moves.move(actor, ended, "ended", access_ended_on=on)
    for referral in ended:
        audit.record("referral.access_ended", case, actor=actor,
                     detail={"referral": referral.id, "to": referral.to_entity.code, **(detail or {})})
        notifications.notify("referral.ended", referral, actor=actor)
    return ended


def end_access(actor, case: Case, entity_id: int, on: date) -> list[Referral]:
    """End the referrals of `case` to the entity that rested on the consent just withdrawn."""
    return end_referrals(actor, case, on, Referral.to_entity_id == entity_id, Referral.mandatory.is_(False))
