"""Reading one's notifications: the header's counter, the list, marking as read, and opening one.

The text is composed when read, from the live state: it names the case only while the reader may still know it
(she may read the case, or the referral it came through). A user who lost access learns nothing new from a
notification — not the code, not a date — and opening it leads nowhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload, lazyload, load_only

from caseapp import audit, authz
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.labels import label
from caseapp.models.notifications import Notification
from caseapp.models.referrals import Referral
from caseapp.services.primitives import case_header, commit, commit_read, whole_number
from caseapp.timeutil import utcnow

PAGE = 50
REFERRAL_KINDS = ("referral_new", "referral_accepted", "referral_rejected", "access_ended")


@dataclass
class NotificationView:
    id: int
    kind: str
    text: str
    created_at: datetime
    read: bool
    case_code: str | None  # None when the reader may no longer know the case
    due_on: date | None
    target: tuple | None  # ("referral", id) or ("case", code): where opening it leads, if anywhere


def unread_count(user) -> int:
    """The header's counter: one statement, on the (user, read_at) index, through the session's connection (its
    transaction) rather than the Session's ORM dispatch (73 -> 47 us, on every page). Notifications are written and
    marked read by services that commit before any page counts them."""
    return db.session.connection().scalar(_UNREAD, {"user_id": user.id}) or 0


_UNREAD = select(func.count()).select_from(Notification).where(  # built once: every page asks
    Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))


def unread_column(user_id):
    """unread_count as a column of a statement that reads the user (`user_id`, her id there): the sign-in's, so
    that a page's header costs no statement of its own (a round trip on PostgreSQL)."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery())


def _target(user, row: Notification) -> tuple | None:
    if row.kind in REFERRAL_KINDS:
        referral = row.referral
        return ("referral", referral.id) if referral is not None and authz.can(user, "referral.read", referral) \
            else None
    return ("case", row.case.code) if row.case is not None and authz.can(user, "case.read", row.case) else None


def _text(row: Notification, code: str | None) -> str:
    if code is None:
        return _("News about a case you can no longer see.")
    phase = label("phase", row.item).lower() if row.item else ""
    when = row.due_on.strftime("%d/%m/%Y") if row.due_on else ""
    return {
        "referral_new": lambda: _("New referral of case %(code)s to your entity.", code=code),
        "referral_accepted": lambda: _("The referral of case %(code)s was accepted.", code=code),
        "referral_rejected": lambda: _("The referral of case %(code)s was rejected.", code=code),
        "access_ended": lambda: _("Your entity's access to case %(code)s through a referral ended.", code=code),
        "due_soon": lambda: _("Case %(code)s: %(phase)s is due on %(date)s.", code=code, phase=phase, date=when),
        "overdue": lambda: _("Case %(code)s: %(phase)s is overdue since %(date)s.", code=code, phase=phase,
                             date=when),
    }[row.kind]()


def view_of(user, row: Notification) -> NotificationView:
    target = _target(user, row)
    code = row.case.code if target is not None and row.case is not None else None
    return NotificationView(id=row.id, kind=row.kind, text=_text(row, code), created_at=row.created_at,
                            read=row.read_at is not None, case_code=code,
                            due_on=row.due_on if code else None, target=target)


def notifications(actor, *, before=None, unread_only: bool = False) -> list[NotificationView]:
    """The newest page of the actor's notifications (keyset: `before` is the last id of the page before)."""
    query = (select(Notification).options(*_LISTED)
             .where(Notification.user_id == actor.id).order_by(Notification.id.desc()).limit(PAGE))
    before = whole_number(before, 1) if before not in (None, "") else None
    if before is not None:
        query = query.where(Notification.id < before)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    views = [view_of(actor, row) for row in db.session.scalars(query).unique()]
    audit.record("notification.list", actor=actor, object_type="notifications", object_ref=actor.username,
                 detail={"items": len(views)})
    commit_read()
    return views


# What a notification's text and target read of its case and referral (the code; whose they are, for authz.can):
# not the victim, entities and purposes each would bring, fifty times a page.
_LISTED = (joinedload(Notification.case).options(*case_header()),
           joinedload(Notification.referral).options(
               load_only(Referral.id, Referral.case_id, Referral.from_entity_id, Referral.to_entity_id),
               lazyload(Referral.case), lazyload(Referral.from_entity), lazyload(Referral.to_entity)))


def _own(actor, notification_id) -> Notification:
    number = whole_number(notification_id, 1)
    row = db.session.get(Notification, number) if number is not None else None
    if row is None or row.user_id != actor.id:  # another user's notification does not exist for her
        raise NotFound()
    return row


def mark_read(actor, notification_id) -> Notification:
    row = _own(actor, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
        commit()
    return row


def mark_all_read(actor) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    commit()
    return result.rowcount or 0


def open_notification(actor, notification_id, *, mark_read: bool) -> NotificationView:
    """Say where it leads, checked against the access the reader has now (logged either way); `mark_read` only on a
    POST (the list's button): a GET, which any page may send cross-site, changes nothing but the access log."""
    row = _own(actor, notification_id)
    if mark_read and row.read_at is None:
        row.read_at = utcnow()
    view = view_of(actor, row)
    audit.record("notification.open", actor=actor, object_type="notification", object_ref=str(row.id),
                 outcome="allowed" if view.target else "denied", detail={"kind": row.kind})
    commit()
    return view
