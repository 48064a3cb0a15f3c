"""The history of a legal proceeding's stages (issue 13): each change dated and kept, never overwritten.

A row is appended only by services.casework.proceedings.change_stage, which keeps LegalProceeding.stage in step.
No free text here: a stage is a catalogue code, so nothing needs the victim's key.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.crypto import new_uid
from caseapp.extensions import db
from caseapp.models.route import LegalProceeding
from caseapp.timeutil import utcnow


class LegalStageChange(db.Model):
    """One stage a proceeding entered, on the date it did."""

    __tablename__ = "legal_stage_changes"
    # The monthly list reads a month's changes of the entity's cases: by case and date.
    __table_args__ = (Index("ix_legal_stage_changes_case_on", "case_id", "changed_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    proceeding_id: Mapped[int] = mapped_column(ForeignKey("legal_proceedings.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    changed_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    proceeding: Mapped[LegalProceeding] = relationship()
