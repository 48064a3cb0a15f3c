"""The referrals inbox of an entity: incoming and outgoing, with due dates; overdue ones flagged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services.primitives import (
    commit_read,
    invalid,
)
from caseapp.timeutil import today

# --- lists -------------------------------------------------------------------------------------------------


@dataclass
class InboxRow:
    referral: Referral
    overdue: bool


def inbox(actor, direction: str = "incoming", status: str | None = None, on: date | None = None) -> list[InboxRow]:
    """Referrals to (incoming) or from (outgoing) the user's entity, with due dates; overdue ones flagged."""
    authz.require(actor, "referral.inbox")
    if direction not in ("incoming", "outgoing"):
        raise invalid({"direction": _("Use incoming or outgoing.")})
    on = on or today()
    column = Referral.to_entity_id if direction == "incoming" else Referral.from_entity_id
    query = (select(Referral).where(column == actor.entity_id).order_by(Referral.due_on, Referral.id)
             .options(selectinload(Referral.case).selectinload(Case.safety_flags)))  # the inbox shows them
    if status:
        query = query.where(Referral.status == status)
    rows = [InboxRow(r, r.status == "sent" and r.due_on is not None and r.due_on < on)
            for r in db.session.scalars(query.limit(500))]
    audit.record("referral.inbox", actor=actor, object_type="inbox", object_ref=actor.entity.code,
                 detail={"direction": direction, "rows": len(rows)})
    commit_read()
    return rows
