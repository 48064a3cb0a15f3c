"""In-app notifications and the e-mail outbox that tells a user, without any detail, that she has one."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral

# referral_new: to the receiving entity; referral_accepted / referral_rejected: to the sender and the case's
# professionals; access_ended: to the entity that lost access; due_soon / overdue: a phase of the route.
NOTIFICATION_KINDS = ("referral_new", "referral_accepted", "referral_rejected", "access_ended", "due_soon", "overdue")


class Notification(db.Model):
    """One notification to one user. The text is composed when shown (never stored): it names the case only while
    the reader may still know it."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The header's counter: unread rows of one user, read from the index alone.
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        # Her list, newest first, without sorting all she ever received (migration 0021).
        Index("ix_notifications_user_newest", "user_id", "id"),
        # The time-based ones are idempotent: one per user and item (NULLs, the event ones, never collide).
        UniqueConstraint("user_id", "dedup_key", name="uq_notifications_user_dedup"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    item: Mapped[str | None] = mapped_column(String(32))  # the phase of a due date (immediate | mediate)
    due_on: Mapped[date | None] = mapped_column(Date)
    dedup_key: Mapped[str | None] = mapped_column(String(40))  # a code, e.g. "oi:42:2026-06-12"
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
    case: Mapped[Case | None] = relationship()
    referral: Mapped[Referral | None] = relationship()


class MailOutbox(db.Model):
    """An e-mail waiting to be sent after the transaction that caused it committed: a failed SMTP server loses
    nothing, `flask notifications mail` retries. It holds no text: the body is the same fixed sentence for all."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_pending", "sent_at", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(120))  # the exception's class, never the server's text

    user: Mapped[User] = relationship()
