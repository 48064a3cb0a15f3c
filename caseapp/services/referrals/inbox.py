"""The referrals inbox of an entity: incoming and outgoing, with due dates; overdue ones flagged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload, load_only, selectinload

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services.primitives import (
    commit_read,
    invalid,
    whole_number,
)
from caseapp.timeutil import today

# --- lists -------------------------------------------------------------------------------------------------


@dataclass
class InboxRow:
    referral: Referral
    overdue: bool


INBOX_PAGE = 100  # referrals a page of the inbox shows


@dataclass
class InboxPage:
    rows: list[InboxRow]
    total: int  # the referrals of the list, on every page
    page: int
    pages: int
    per_page: int


# What a row shows of its case: its code, whose it is (authz.referral_carries_flags) and its flags in force; not her
# victim's record, the entity and the purposes each case brought, a hundred times a page.
_LISTED = (joinedload(Referral.case).options(load_only(Case.id, Case.code, Case.owner_entity_id),
                                             lazyload(Case.victim), lazyload(Case.owner_entity),
                                             lazyload(Case.purposes), selectinload(Case.safety_flags)),)


def inbox(actor, direction: str = "incoming", status: str | None = None, on: date | None = None, *, page=1,
          per_page: int | None = None) -> InboxPage:
    """Referrals to (incoming) or from (outgoing) the user's entity, with due dates; overdue ones flagged. A page at
    a time, the earliest due first: an entity receives thousands, and a list cut at a fixed length hid every
    referral past it, those still waiting for an answer included. A page past the last shows the last."""
    authz.require(actor, "referral.inbox")
    if direction not in ("incoming", "outgoing"):
        raise invalid({"direction": _("Use incoming or outgoing.")})
    on, per_page = on or today(), per_page or INBOX_PAGE
    column = Referral.to_entity_id if direction == "incoming" else Referral.from_entity_id
    where = [column == actor.entity_id] + ([Referral.status == status] if status else [])
    total = db.session.scalar(select(func.count()).select_from(Referral).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(whole_number(page, 1) or 1, pages)
    query = (select(Referral).where(*where).order_by(Referral.due_on, Referral.id).options(*_LISTED)
             .offset((page - 1) * per_page).limit(per_page))
    rows = [InboxRow(r, r.status == "sent" and r.due_on is not None and r.due_on < on)
            for r in db.session.scalars(query).unique()]
    audit.record("referral.inbox", actor=actor, object_type="inbox", object_ref=actor.entity.code,
                 detail={"direction": direction, "rows": len(rows), "page": page})
    commit_read()
    return InboxPage(rows, total, page, pages, per_page)
