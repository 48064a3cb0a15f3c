"""Policies, objectives, products, targets and achieved values (issue 5).

A policy (Cartagena's gender-equality policy, Bogotá's anti-trafficking policy) has specific objectives; each
objective has products with a weight; each product has an indicator measured per period (annual, semiannual or
quarterly) against a target per period and a final target. A product's value is either computed from case data
by a formula of the registry (`caseapp.services.indicators.FORMULAS`) or entered by hand (`manual`) with its source.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.base import Timestamped, Versioned
from caseapp.models.route import StepKind

PERIODICITIES = ("annual", "semiannual", "quarterly")
# "sum": the cumulative value is the sum of the periods (counts); "latest": the last reported value stands for the
# cumulative one (percentages, stages of a protocol).
ACCUMULATIONS = ("sum", "latest")


class Policy(Versioned, Timestamped, db.Model):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(400), nullable=False)
    territory: Mapped[str | None] = mapped_column(String(120))  # the place's name, as the plan writes it
    # DIVIPOLA code (caseapp.models.territory): its products count only cases of entities inside it.
    territory_code: Mapped[str] = mapped_column(String(5), nullable=False, default="CO", server_default="CO")
    legal_act: Mapped[str | None] = mapped_column(String(300))

    objectives: Mapped[list[Objective]] = relationship(
        back_populates="policy", order_by="Objective.sort_order, Objective.code", cascade="all, delete-orphan"
    )


class Objective(Versioned, Timestamped, db.Model):
    """A specific objective of a policy. `weight` is its share of the policy (equal shares when unset)."""

    __tablename__ = "policy_objectives"
    __table_args__ = (UniqueConstraint("policy_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    weight: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    policy: Mapped[Policy] = relationship(back_populates="objectives")
    products: Mapped[list[Product]] = relationship(
        back_populates="objective", order_by="Product.sort_order, Product.code", cascade="all, delete-orphan"
    )


class Product(Versioned, Timestamped, db.Model):
    """A policy product and its indicator: the "hoja de vida" of seed 000."""

    __tablename__ = "policy_products"
    __table_args__ = (UniqueConstraint("objective_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("policy_objectives.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    indicator: Mapped[str] = mapped_column(Text, nullable=False)
    formula: Mapped[str] = mapped_column(String(40), nullable=False, default="manual")
    formula_text: Mapped[str | None] = mapped_column(Text)  # the sheet's own wording of the formula
    # The formula's parameters (caseapp.services.indicators.formulas.params_of): whom it counts, which kind of
    # assistance step and which provider entity it is about; unused ones stay empty.
    formula_population: Mapped[str] = mapped_column(String(24), nullable=False, default="all", server_default="all")
    formula_step_kind_id: Mapped[int | None] = mapped_column(ForeignKey("step_kinds.id"))
    formula_provider_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    baseline: Mapped[str | None] = mapped_column(String(40))  # a number or "ND"
    baseline_year: Mapped[int | None] = mapped_column(Integer)
    baseline_source: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40), nullable=False, default="number")
    accumulation: Mapped[str] = mapped_column(String(10), nullable=False, default="sum")
    periodicity: Mapped[str] = mapped_column(String(12), nullable=False, default="annual")
    periods_count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    first_year: Mapped[int] = mapped_column(Integer, nullable=False)
    final_target: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 6), nullable=False, default=1)
    sector: Mapped[str | None] = mapped_column(String(200))  # responsible sector (free text, as the plan says)
    responsible_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    co_responsible: Mapped[str | None] = mapped_column(String(300))
    target_population: Mapped[str | None] = mapped_column(String(200))
    ods_code: Mapped[str | None] = mapped_column(String(8))
    ods_name: Mapped[str | None] = mapped_column(String(120))
    official_total: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # total never suppressed
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    objective: Mapped[Objective] = relationship(back_populates="products")
    responsible_entity: Mapped[Entity | None] = relationship(foreign_keys=[responsible_entity_id])
    formula_step_kind: Mapped[StepKind | None] = relationship()
    formula_provider: Mapped[Entity | None] = relationship(foreign_keys=[formula_provider_id])
    targets: Mapped[list[ProductTarget]] = relationship(
        back_populates="product", order_by="ProductTarget.starts_on", cascade="all, delete-orphan"
    )
    values: Mapped[list[AchievedValue]] = relationship(back_populates="product", cascade="all, delete-orphan")


class ProductTarget(Versioned, db.Model):
    """The target of one period ("2025", "2025-S1", "2025-Q3") of a product."""

    __tablename__ = "product_targets"
    __table_args__ = (UniqueConstraint("product_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("policy_products.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    target: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)

    product: Mapped[Product] = relationship(back_populates="targets")


class AchievedValue(Versioned, Timestamped, db.Model):
    """A value measured outside the system (or imported from a plan): who entered it, from which source."""

    __tablename__ = "achieved_values"
    __table_args__ = (UniqueConstraint("product_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("policy_products.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    origin: Mapped[str] = mapped_column(String(12), nullable=False, default="screen")  # screen | import

    product: Mapped[Product] = relationship(back_populates="values")
    entered_by: Mapped[User | None] = relationship()
