"""The professionals assigned to a case: who works it, in which role, since when — history kept.

A row is never deleted when an assignment ends: `ended_at`/`ended_by_id` close it, so a case's history says who
worked it and who moved it. An open row is one with `ended_at` NULL.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.timeutil import utcnow

# The roles a professional is assigned in (the case roles); a lawyer is optional, a social worker is not.
ASSIGNMENT_ROLES = ("social_worker", "lawyer")


class CaseAssignment(db.Model):
    __tablename__ = "case_assignments"
    __table_args__ = (
        # "Mis casos" and the agenda: a user's open assignments; a case's open ones.
        Index("ix_case_assignments_user_open", "user_id", "ended_at"),
        Index("ix_case_assignments_case_open", "case_id", "ended_at"),
        # One open row per user and role on a case, held by the database (a partial unique index, migration 0020):
        # two assigns at once cannot both open one (services.casework.assignments answers 409).
        Index("uq_case_assignments_open", "case_id", "user_id", "role", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
