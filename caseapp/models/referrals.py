"""Referrals (remisiones) between entities: the only way another entity sees a case."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.crypto import Encrypted, new_uid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.base import Timestamped, UnderVictimKey, Versioned
from caseapp.models.cases import Case

# sent → accepted | rejected → done; withdrawn by the sender; ended when the victim withdraws her consent to share
# with the receiver (the receiver is told that access ended, never why).
REFERRAL_STATUSES = ("sent", "accepted", "rejected", "done", "withdrawn", "ended")
# Sections a referral can share with the receiving entity, each its own: identity and contact, the account of
# events (her narrative), the case summary (always shared), psychosocial, legal.
SHARED_SECTIONS = ("identity", "account", "summary", "psychosocial", "legal")


class Referral(UnderVictimKey, Versioned, Timestamped, db.Model):
    __tablename__ = "referrals"
    __table_args__ = (
        # the cases referred to an entity, newest first (the case list: authz.newest_visible_cases)
        Index("ix_referrals_to_status_case", "to_entity_id", "status", "case_id"),
        Index("ix_referrals_case_to", "case_id", "to_entity_id"),
        # the inbox's order, a page at a time (services.referrals.inbox)
        Index("ix_referrals_to_due", "to_entity_id", "due_on", "id"),
        Index("ix_referrals_from_due", "from_entity_id", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    from_entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False)
    to_entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False)
    service: Mapped[str] = mapped_column(String(40), nullable=False)  # a step-kind code
    shared_sections: Mapped[str] = mapped_column(String(100), nullable=False, default="summary")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="sent")
    mandatory: Mapped[bool] = mapped_column(db.Boolean, nullable=False, default=False)
    due_on: Mapped[date | None] = mapped_column(Date)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    consent_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # rejection reason / answer notes
    override_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # the sender's reason for withdrawing it: hers, never shown to the receiving entity (authz.referral_details_visible)
    withdrawal_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The step that recorded the service when the receiver fulfilled it (status done).
    step_id: Mapped[int | None] = mapped_column(ForeignKey("assistance_steps.id"))
    access_ended_on: Mapped[date | None] = mapped_column(Date)

    reason = Encrypted("reason")
    answer = Encrypted("answer")
    override_reason = Encrypted("override_reason")
    withdrawal_reason = Encrypted("withdrawal_reason")

    case: Mapped[Case] = relationship(lazy="joined")
    from_entity: Mapped[Entity] = relationship(foreign_keys=[from_entity_id], lazy="joined")
    to_entity: Mapped[Entity] = relationship(foreign_keys=[to_entity_id], lazy="joined")
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])

    @property
    def sections(self) -> frozenset[str]:
        return frozenset(s for s in self.shared_sections.split(",") if s)


class SharingOverride(UnderVictimKey, Versioned, db.Model):
    """A coordinator's recorded decision to share a case with an entity without the victim's sharing consent."""

    __tablename__ = "sharing_overrides"
    __table_args__ = (Index("ix_sharing_overrides_case_entity", "case_id", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)  # an override serves one referral
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    reason = Encrypted("reason")
    case: Mapped[Case] = relationship()
    entity: Mapped[Entity] = relationship(lazy="joined")
