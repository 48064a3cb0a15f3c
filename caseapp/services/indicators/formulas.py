"""The formula registry: how each computed product counts its value from case data (SQL aggregates only).

Product 3.5 counts women linked to the programme (vinculación) in the period whose assistance consent is in
force at the period's end (or the cut-off date): withdrawing it takes her out of the counts from that date on.
Every formula counts only the cases owned by entities inside its product's territory (`scope.cases_inside`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from caseapp.extensions import db
from caseapp.labels import label
from caseapp.models.cases import Case, Consent
from caseapp.models.indicators import Product
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, DueRule, PhaseExtension
from caseapp.models.victims import Victim
from caseapp.services.indicators.scope import cases_inside, product_territory

FEMALE_IDENTITIES = ("woman", "trans_woman")


class date_plus_days(FunctionElement):  # noqa: N801 - SQL function style
    """date + n days, in every dialect we run on."""

    type = Date()
    inherit_cache = True


@compiles(date_plus_days, "sqlite")
def _date_plus_days_sqlite(element, compiler, **kw):
    start, days = list(element.clauses)
    return f"date({compiler.process(start, **kw)}, '+' || ({compiler.process(days, **kw)}) || ' days')"


@compiles(date_plus_days)
def _date_plus_days_default(element, compiler, **kw):
    start, days = list(element.clauses)
    return f"({compiler.process(start, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER))"


def woman_clause():
    return or_(Victim.sex == "female", Victim.gender_identity.in_(FEMALE_IDENTITIES))


def women_linked_conditions(start: date, end: date) -> list:
    """Cases counting for product 3.5: a woman, linked (vinculación) in [start, end], with an assistance consent
    in force on `end` (the period's end or the cut-off date): a withdrawn consent takes her out from that date on."""
    consent = exists().where(
        Consent.case_id == Case.id, Consent.kind == "assistance", Consent.given_on <= end,
        or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > end),
    )
    return [Case.linked_on.is_not(None), Case.linked_on >= start, Case.linked_on <= end, woman_clause(), consent]


# --- the formula registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    key: str
    description: object
    unit: str  # number | percent
    computed: bool
    breakdowns: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return label("formula", self.key)  # one catalogue of labels


def _women_linked(product: Product, start: date, end: date) -> Fraction:
    stmt = (
        select(func.count(func.distinct(Case.victim_id)))
        .select_from(Case)
        .join(Victim, Victim.id == Case.victim_id)
        .where(*women_linked_conditions(start, end), *cases_inside(product_territory(product)))
    )
    return Fraction(db.session.scalar(stmt) or 0)


def _victims_attended(product: Product, start: date, end: date) -> Fraction:

    stmt = (
        select(func.count(func.distinct(Case.victim_id)))
        .select_from(AssistanceStep)
        .join(Case, Case.id == AssistanceStep.case_id)
        .where(AssistanceStep.status == "done", AssistanceStep.done_on >= start, AssistanceStep.done_on <= end,
               *cases_inside(product_territory(product)))
    )
    return Fraction(db.session.scalar(stmt) or 0)


def _share(numerator: int, denominator: int) -> Fraction | None:
    return None if not denominator else Fraction(100 * numerator, denominator)


def _referrals_answered_share(product: Product, start: date, end: date) -> Fraction | None:
    sent_on = func.coalesce(Referral.sent_at, Referral.created_at)
    conditions = [sent_on >= start, sent_on < end + timedelta(days=1), Referral.status.not_in(("withdrawn", "ended"))]
    if product.responsible_entity_id is not None:
        conditions.append(Referral.to_entity_id == product.responsible_entity_id)
    done = func.sum(
        db.case((and_(Referral.status == "done", Referral.completed_on.is_not(None), Referral.completed_on <= end), 1),
                else_=0)
    )
    row = db.session.execute(select(func.count(Referral.id), done).join(Case, Case.id == Referral.case_id)
                             .where(*conditions, *cases_inside(product_territory(product)))).one()
    return _share(int(row[1] or 0), int(row[0] or 0))


def _immediate_within_term_share(product: Product, start: date, end: date) -> Fraction | None:
    """Cases whose intake fell in the period and that had an immediate-assistance step done within the legal term
    of the rule in force at intake (plus its recorded extension)."""

    rule_days = (
        select(DueRule.immediate_days)
        .where(DueRule.effective_from <= Case.intake_on,
               or_(DueRule.effective_to.is_(None), DueRule.effective_to >= Case.intake_on))
        .order_by(DueRule.effective_from.desc()).limit(1).correlate(Case).scalar_subquery()
    )
    extension = (
        select(func.coalesce(func.sum(PhaseExtension.extra_days), 0))
        .where(PhaseExtension.case_id == Case.id, PhaseExtension.phase == "immediate")
        .correlate(Case).scalar_subquery()
    )
    due_on = date_plus_days(Case.intake_on, func.coalesce(rule_days, 5) + extension)
    in_term = exists().where(
        AssistanceStep.case_id == Case.id, AssistanceStep.phase == "immediate", AssistanceStep.status == "done",
        AssistanceStep.done_on.is_not(None), AssistanceStep.done_on <= due_on, AssistanceStep.done_on <= end,
    )
    row = db.session.execute(
        select(func.count(Case.id), func.sum(db.case((in_term, 1), else_=0)))
        .where(Case.intake_on.is_not(None), Case.intake_on >= start, Case.intake_on <= end,
               *cases_inside(product_territory(product)))
    ).one()
    return _share(int(row[1] or 0), int(row[0] or 0))


FORMULAS: dict[str, Formula] = {
    "women_linked": Formula(
        "women_linked",
        _l("Distinct women victims whose case was linked (vinculación) in the period, counted by the linking date, "
           "not the registration date, while her consent to assistance is in force at the period's end: a "
           "withdrawn consent takes her out of the counts from that date on."),
        "number", True, ("age_group", "exploitation_purpose", "trafficking_scope", "nationality", "ethnic_group",
                         "entity")),
    "victims_attended": Formula(
        "victims_attended",
        _l("Distinct victims with at least one assistance step done in the period."),
        "number", True, ("exploitation_purpose", "sex", "age_group", "entity")),
    "referrals_answered_share": Formula(
        "referrals_answered_share",
        _l("Referrals sent to the responsible entity in the period that it answered and completed, as a "
           "percentage of those sent."),
        "percent", True),
    "immediate_within_term_share": Formula(
        "immediate_within_term_share",
        _l("Cases whose intake fell in the period and that received an immediate-assistance step within the "
           "legal term in force at intake (plus its extension), as a percentage."),
        "percent", True),
    "manual": Formula(
        "manual",
        _l("A value measured outside the system, entered by a coordinator of the responsible sector with its "
           "source."),
        "number", False),
}

_COMPUTE = {
    "women_linked": _women_linked,
    "victims_attended": _victims_attended,
    "referrals_answered_share": _referrals_answered_share,
    "immediate_within_term_share": _immediate_within_term_share,
}


def _women_linked_rows(product: Product, start: date, end: date, territory: str):
    return (select(Case.victim_id.label("unit_id"), Case.id.label("case_id"), Case.linked_on.label("counted_on"))
            .join(Victim, Victim.id == Case.victim_id)
            .where(*women_linked_conditions(start, end), *cases_inside(territory)))


def _victims_attended_rows(product: Product, start: date, end: date, territory: str):
    return (select(Case.victim_id.label("unit_id"), Case.id.label("case_id"),
                   AssistanceStep.done_on.label("counted_on"))
            .select_from(AssistanceStep).join(Case, Case.id == AssistanceStep.case_id)
            .where(AssistanceStep.status == "done", AssistanceStep.done_on >= start, AssistanceStep.done_on <= end,
                   *cases_inside(territory)))


_ROWS = {"women_linked": _women_linked_rows, "victims_attended": _victims_attended_rows}


def row_sources(product: Product, formula: Formula) -> list[tuple[str, object]]:
    """The rows a computed product counts, for the publication: ("", rows) for a count; a share's numerator and
    denominator (":num", ":den") once it has them."""
    if product.formula in _ROWS:
        return [("", _ROWS[product.formula])]
    return []


def compute(product: Product, start: date, end: date) -> Fraction | None:
    """The value of a computed formula over [start, end] (SQL aggregates only)."""
    return _COMPUTE[product.formula](product, start, end)


# --- the method ----------------------------------------------------------------------------------------------
