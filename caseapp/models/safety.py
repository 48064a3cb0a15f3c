"""Safety flags on a case (services.safety) and the assistance steps of family members (services.family)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from caseapp.crypto import Encrypted, new_uid
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.base import UnderVictimKey, Versioned
from caseapp.models.cases import Case, IndirectVictim
from caseapp.models.route import StepKind

# A victim may be hunted by the network that exploited her: what everyone who touches her case must know first.
SAFETY_FLAG_KINDS = ("high_risk", "threats_received", "no_phone_contact", "no_contact_relatives",
                     "contact_only_through")
FAMILY_STEP_STATUSES = ("planned", "done")


class SafetyFlag(UnderVictimKey, Versioned, db.Model):
    """One flag, from when it was set to when it was cleared (a cleared row stays: the history)."""

    __tablename__ = "safety_flags"
    __table_args__ = (Index("ix_safety_flags_case_cleared", "case_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    # "case_id:kind" while the flag is in force, NULL once cleared: the database refuses a second flag of a kind
    # set at the same time by two people (NULLs never collide, on SQLite or PostgreSQL).
    in_force_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # contact_only_through
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    set_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    clear_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    reason = Encrypted("reason")
    clear_reason = Encrypted("clear_reason")

    case: Mapped[Case] = relationship()
    # joined: every page that shows a flag "contact only through" names the professional
    professional: Mapped[User | None] = relationship(foreign_keys=[professional_id], lazy="joined")
    set_by: Mapped[User] = relationship(foreign_keys=[set_by_id])
    cleared_by: Mapped[User | None] = relationship(foreign_keys=[cleared_by_id])


class FamilyStep(UnderVictimKey, Versioned, db.Model):
    """A service given or planned for a family member. Kept apart from the victim's AssistanceStep so that the
    route's phases, due dates and the direct-victim indicators never count it."""

    __tablename__ = "family_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    indirect_victim_id: Mapped[int] = mapped_column(ForeignKey("indirect_victims.id", ondelete="CASCADE"),
                                                    nullable=False, index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("step_kinds.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    on: Mapped[date] = mapped_column(Date, nullable=False)  # done on, or planned for
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    notes = Encrypted("notes")

    case: Mapped[Case] = relationship()
    kind: Mapped[StepKind] = relationship(lazy="joined")
    member: Mapped[IndirectVictim] = relationship(backref=backref(
        "steps", order_by="FamilyStep.id", cascade="all, delete-orphan", passive_deletes=True))
