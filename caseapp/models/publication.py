"""The protected publication: every count a coordinator can see, for one territory and one year, computed and
protected as a whole (`caseapp.services.indicators.publication`) and stored, so that reading it is a lookup.

A cell is stored with its published value, or with no value when it is suppressed: the true value of a suppressed
cell is never stored. A cell that is not stored holds 0.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db


class Publication(db.Model):
    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("territory", "year", name="uq_publications_territory_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory: Mapped[str] = mapped_column(String(5), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    cut_off: Mapped[date] = mapped_column(Date, nullable=False)  # the data counted: up to this day, included
    k: Mapped[int] = mapped_column(Integer, nullable=False)
    built_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # The audit's figures, for the closing note and the admin: cells published and suppressed, the narrowest range
    # of a small cell found by the linear programmes (None when no cell is small) and how many were solved.
    cells_published: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cells_suppressed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    narrowest: Mapped[int | None] = mapped_column(Integer)
    programmes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data_stamp: Mapped[str | None] = mapped_column(String(400))  # read.data_stamp() of the data counted


class PublishedCell(db.Model):
    __tablename__ = "published_cells"
    __table_args__ = (Index("ix_published_cells_table", "publication_id", "base", "dims", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), nullable=False)
    base: Mapped[str] = mapped_column(String(40), nullable=False)  # identified, linked, product:<id>[:num|:den]
    time: Mapped[str] = mapped_column(String(10), nullable=False)  # year, semester, bimester, quarter, month, ytd
    period: Mapped[str] = mapped_column(String(10), nullable=False)  # 2025, 2025-S1, 2025-B3, 2025-Q2, 2025-03
    dims: Mapped[str] = mapped_column(String(80), nullable=False)  # the table's dimensions, comma-separated
    key: Mapped[str] = mapped_column(String(200), nullable=False)  # their values, "|"-separated
    value: Mapped[int | None] = mapped_column(Integer)  # None: suppressed


class ReleasedValue(db.Model):
    """A value a release of the year published for a cell, kept after the release is replaced: a reader may have
    kept every release, so the next one is protected against each figure already out (`publication.releases`).
    Each distinct value of a cell once; a suppressed cell published nothing and is not kept."""

    __tablename__ = "released_values"
    __table_args__ = (UniqueConstraint("territory", "year", "base", "time", "period", "dims", "key", "value",
                                       name="uq_released_values_cell_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory: Mapped[str] = mapped_column(String(5), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    base: Mapped[str] = mapped_column(String(40), nullable=False)
    time: Mapped[str] = mapped_column(String(10), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    dims: Mapped[str] = mapped_column(String(80), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class ReleasedSum(db.Model):
    """A sum of suppressed cells a release gave away (a line's published margin minus its published cells: "PE and VE
    together, 19"), kept like `ReleasedValue`: the next release must not let a reader see it move by 1 to k-1."""

    __tablename__ = "released_sums"
    __table_args__ = (UniqueConstraint("territory", "year", "base", "members_hash", "value",
                                       name="uq_released_sums_members_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory: Mapped[str] = mapped_column(String(5), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    base: Mapped[str] = mapped_column(String(40), nullable=False)
    members: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: the cells, [time, period, dims, key], sorted
    members_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 of `members`, for uniqueness
    value: Mapped[int] = mapped_column(Integer, nullable=False)
