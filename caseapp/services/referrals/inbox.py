"""The referrals inbox of an entity: incoming and outgoing, with due dates; overdue ones flagged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services.primitives import (
    ListPage,
    case_header,
    commit_read,
    invalid,
    page_of,
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
class InboxPage(ListPage):
    next_after: str | None  # the cursor of the page after this one, while there is one


# What a row shows of its case: its code, whose it is (authz.referral_carries_flags) and its flags in force; not her
# victim's record, the entity and the purposes each case brought, a hundred times a page.
_LISTED = (joinedload(Referral.case).options(*case_header(), selectinload(Case.safety_flags)),)


def inbox(actor, direction: str = "incoming", status: str | None = None, on: date | None = None, *, page=1,
          after: str | None = None, per_page: int | None = None) -> InboxPage:
    """Referrals to (incoming) or from (outgoing) the user's entity, with due dates; overdue ones flagged. A page at
    a time, the earliest due first: an entity receives thousands, and a list cut at a fixed length hid every
    referral past it, those still waiting for an answer included.

    `page` counts pages by position (a page past the last shows the last). `after`, the `next_after` of the page
    before, starts after that page's last referral instead: a client that walks the whole list while others work
    on it must not miss one, and counted by position a page skips a row when one before it leaves the list (a
    referral accepted while she pages through those waiting)."""
    authz.require(actor, "referral.inbox")
    if direction not in ("incoming", "outgoing"):
        raise invalid({"direction": _("Use incoming or outgoing.")})
    on, per_page = on or today(), per_page or INBOX_PAGE
    column = Referral.to_entity_id if direction == "incoming" else Referral.from_entity_id
    where = [column == actor.entity_id] + ([Referral.status == status] if status else [])
    total = db.session.scalar(select(func.count()).select_from(Referral).where(*where)) or 0
    query = select(Referral).where(*where).order_by(Referral.due_on, Referral.id).options(*_LISTED)
    page, pages = page_of(page, total, per_page)
    if after is not None:
        page, query = None, query.where(_past(after))
    else:
        query = query.offset((page - 1) * per_page)
    found = list(db.session.scalars(query.limit(per_page + 1)).unique())
    rows = [InboxRow(r, r.status == "sent" and r.due_on is not None and r.due_on < on) for r in found[:per_page]]
    audit.record("referral.inbox", actor=actor, object_type="inbox", object_ref=actor.entity.code,
                 detail={"direction": direction, "rows": len(rows), "page": page})
    commit_read()
    more = len(found) > per_page
    return InboxPage(rows, total, page, pages, per_page, _cursor(rows[-1].referral) if more else None)


def _cursor(referral: Referral) -> str:
    """Where a page ended, in the list's order: the last referral's due date ("-" for none) and id."""
    return f"{referral.due_on.isoformat() if referral.due_on else '-'}.{referral.id}"


def _past(cursor):
    """SQL: the referrals after `cursor` in the list's order (due date, then id). A referral with no due date (none
    made today lacks one) sorts first on SQLite and last on PostgreSQL, as their indexes keep it."""
    due, _sep, number = str(cursor).partition(".")
    ident = whole_number(number, 1)
    try:
        due_on = None if due == "-" else date.fromisoformat(due)
    except ValueError:
        ident = None
    if ident is None or len(due) > 10:
        raise invalid({"after": _("Use the cursor the list gave for its next page.")})
    undated_first = db.engine.dialect.name == "sqlite"
    if due_on is None:
        later = and_(Referral.due_on.is_(None), Referral.id > ident)
        return or_(later, Referral.due_on.is_not(None)) if undated_first else later
    later = or_(Referral.due_on > due_on, and_(Referral.due_on == due_on, Referral.id > ident))
    return later if undated_first else or_(later, Referral.due_on.is_(None))
