"""Notifications on events of a referral, written in the transaction of the change (the caller commits): a new
referral, its answer, and the end of the access it gave. One call from each service that makes the change."""
from __future__ import annotations

from caseapp.extensions import db
from caseapp.models.notifications import Notification
from caseapp.models.referrals import Referral
from caseapp.services.notifications import mail
from caseapp.services.notifications.recipients import entity_professionals, recipients_for_case
from caseapp.timeutil import utcnow

EVENTS = ("referral.sent", "referral.accepted", "referral.rejected", "referral.withdrawn", "referral.ended")


def _answered_to(referral: Referral) -> list:
    """The sender, while she still works at the sending entity, and the case's professionals."""
    users = recipients_for_case(referral.case)
    sender = referral.sent_by
    if sender is not None and sender.is_active and sender.entity_id == referral.from_entity_id \
            and sender.has_role("social_worker", "lawyer") and sender not in users:
        users.append(sender)
    return users


def notify(event: str, referral: Referral, *, actor=None) -> list[Notification]:
    """Tell whoever the event concerns, in the caller's transaction; never the one who caused it."""
    match event:
        case "referral.sent":
            kind, users = "referral_new", entity_professionals(referral.to_entity_id)
        case "referral.accepted" | "referral.rejected":
            kind, users = event.replace(".", "_"), _answered_to(referral)
        case "referral.withdrawn" | "referral.ended":
            # The receiving entity loses what the referral gave it; it learns that, never why.
            kind, users = "access_ended", entity_professionals(referral.to_entity_id)
        case _:
            raise ValueError(f"unknown notification event {event!r}")
    users = [u for u in users if actor is None or u.id != getattr(actor, "id", None)]
    return add(users, kind, case_id=referral.case_id, referral_id=referral.id)


def add(users, kind: str, *, case_id=None, referral_id=None, item=None, due_on=None,
        dedup_key: str | None = None) -> list[Notification]:
    now = utcnow()
    rows = [Notification(user_id=u.id, kind=kind, case_id=case_id, referral_id=referral_id, item=item,
                         due_on=due_on, dedup_key=dedup_key, created_at=now) for u in users]
    db.session.add_all(rows)
    mail.enqueue(users)
    return rows
