"""The formula registry: how each computed product counts its value from case data (SQL aggregates only).

A formula is a row of the registry, never free code: its qualifying rows (`formula_rows`), or for a percentage
its numerator's and denominator's, and the parameters it takes (population, step kind, provider entity), stored
with the product. `value` counts any formula the one way - count(distinct unit_id) over its rows, and for a share
100 x numerator / denominator (none when nothing is in the denominator) - so whatever else counts through the
same rows (the publication) cannot disagree with a product's value.

Product 3.5 counts women linked to the programme (vinculación) in the period whose assistance consent is in
force at the period's end (or the cut-off date): withdrawing it takes her out of the counts from that date on.
Every formula counts only the cases owned by entities inside its product's territory (`scope.cases_inside`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from caseapp.extensions import db
from caseapp.labels import label
from caseapp.models.accounts import Entity
from caseapp.models.indicators import Product
from caseapp.models.route import StepKind
from caseapp.services.indicators import formula_rows as r
from caseapp.services.indicators.formula_rows import (  # noqa: F401 - the registry's public names
    FEMALE_IDENTITIES,
    POPULATIONS,
    date_plus_days,
    woman_clause,
    women_linked_conditions,
)
from caseapp.services.indicators.scope import product_territory

Rows = Callable[[dict, date, date, str], Select]
PARAMS = ("population", "step_kind", "provider_entity")


@dataclass(frozen=True)
class Formula:
    """A formula of the registry. A count has `rows`; a share (unit "percent") has `numerator` and
    `denominator`; a formula typed in by hand (`manual`) has none. `params`: the parameters it takes,
    `required`: those it cannot do without."""

    key: str
    description: object
    unit: str  # number | percent
    computed: bool
    breakdowns: tuple[str, ...] = ()
    rows: Rows | None = None
    numerator: Rows | None = None
    denominator: Rows | None = None
    params: tuple[str, ...] = ("population",)
    required: tuple[str, ...] = ()
    # The old referral shares counted the referrals sent to the product's responsible entity: without a provider
    # entity of its own, such a formula still does.
    provider_from_responsible: bool = False
    # True when the rows of [start, end] kept to the `counted_on` days of a shorter period inside it are exactly
    # that period's rows. False when being counted also depends on `end` (a consent still in force, a step done
    # or a referral answered by then): count such a period with its own `end`.
    placeable: bool = False

    @property
    def label(self) -> str:
        return label("formula", self.key)  # one catalogue of labels

    @property
    def is_share(self) -> bool:
        return self.numerator is not None


FORMULAS: dict[str, Formula] = {
    "women_linked": Formula(
        "women_linked",
        _l("Distinct women victims whose case was linked (vinculación) in the period, counted by the linking date, "
           "not the registration date, while her consent to assistance is in force at the period's end: a "
           "withdrawn consent takes her out of the counts from that date on."),
        "number", True, ("age_group", "exploitation_purpose", "trafficking_scope", "nationality", "ethnic_group",
                         "entity"), rows=r.women_linked_rows),
    "victims_attended": Formula(
        "victims_attended",
        _l("Distinct victims with at least one assistance step done in the period."),
        "number", True, ("exploitation_purpose", "sex", "age_group", "entity"), rows=r.steps_done_rows,
        placeable=True),
    "victims_with_step": Formula(
        "victims_with_step",
        _l("Distinct victims with at least one assistance step of the chosen kind (income generation, job "
           "training, ...) done in the period, by the chosen provider entity if one is set."),
        "number", True, rows=r.steps_done_rows, params=("population", "step_kind", "provider_entity"),
        required=("step_kind",), placeable=True),
    "victims_attended_by_provider": Formula(
        "victims_attended_by_provider",
        _l("Distinct victims with at least one assistance step done in the period by the chosen provider entity "
           "(of the chosen kind if one is set)."),
        "number", True, rows=r.steps_done_rows, params=("population", "provider_entity", "step_kind"),
        required=("provider_entity",), placeable=True),
    "coverage": Formula(
        "coverage",
        _l("Victims identified in the period who received at least one assistance step by its end, as a "
           "percentage of the victims identified in the period."),
        "percent", True, numerator=r.identified_attended_rows, denominator=r.identified_rows),
    "women_with_complaint": Formula(
        "women_with_complaint",
        _l("Distinct women accompanied by the programme (linked, with her consent to assistance in force) whose "
           "criminal complaint was filed in the period, counted by the complaint date."),
        "number", True, rows=r.women_with_complaint_rows),
    "referrals_answered_share": Formula(
        "referrals_answered_share",
        _l("Referrals sent to the responsible entity in the period that it answered and completed, as a "
           "percentage of those sent."),
        "percent", True, numerator=r.referrals_done_rows, denominator=r.referrals_sent_rows,
        params=("population", "provider_entity"), provider_from_responsible=True),
    "referrals_on_time_share": Formula(
        "referrals_on_time_share",
        _l("Referrals sent in the period (to the chosen provider entity, or else to the responsible entity) "
           "answered on or before their due date, as a percentage of those that owed an answer by the period's "
           "end."),
        "percent", True, numerator=r.referrals_answered_on_time_rows, denominator=r.referrals_owed_rows,
        params=("population", "provider_entity"), provider_from_responsible=True),
    "immediate_within_term_share": Formula(
        "immediate_within_term_share",
        _l("Cases whose intake fell in the period and that received an immediate-assistance step within the "
           "legal term in force at intake (plus its extension), as a percentage."),
        "percent", True, numerator=r.immediate_in_term_rows, denominator=r.intake_rows),
    "manual": Formula(
        "manual",
        _l("A value measured outside the system, entered by a coordinator of the responsible sector with its "
           "source."),
        "number", False, params=()),
}


# --- a product's parameters ----------------------------------------------------------------------------------


def params_of(product: Product) -> dict:
    """The parameters a product's formula counts with, as codes (what `rows` takes)."""
    formula = FORMULAS[product.formula]
    params: dict = {}
    if "population" in formula.params:
        params["population"] = product.formula_population or "all"
    if "step_kind" in formula.params and product.formula_step_kind is not None:
        params["step_kind"] = product.formula_step_kind.code
    if "provider_entity" in formula.params:
        provider = product.formula_provider
        if provider is None and formula.provider_from_responsible:
            provider = product.responsible_entity
        if provider is not None:
            params["provider_entity"] = provider.code
    return params


def stored_params(product: Product) -> dict:
    """The parameters stored with a product, as codes, whatever its formula takes (what its sheet shows)."""
    return {"population": product.formula_population or "all",
            "step_kind": product.formula_step_kind.code if product.formula_step_kind else "",
            "provider_entity": product.formula_provider.code if product.formula_provider else ""}


def check_params(formula_key: str, population: str | None, step_kind: str | None,
                 provider_entity: str | None) -> tuple[dict, dict[str, str]]:
    """The one check of a formula's parameters (admin sheet, plan import): the product's column values and the
    errors by parameter, in the reader's language. Codes are matched as typed, without surrounding spaces."""
    errors: dict[str, str] = {}
    formula = FORMULAS.get(formula_key)
    given = {"population": (population or "").strip(), "step_kind": (step_kind or "").strip(),
             "provider_entity": (provider_entity or "").strip()}
    values = {"formula_population": "all", "formula_step_kind_id": None, "formula_provider_id": None}
    if formula is None:
        return values, errors  # the formula itself is refused by its caller
    if given["population"] and given["population"] != "all":
        if given["population"] not in POPULATIONS:
            errors["population"] = _("Choose a population from the list.")
        elif "population" not in formula.params:
            errors["population"] = _("A value entered by hand counts no population; leave it as everyone.")
        else:
            values["formula_population"] = given["population"]
    if given["step_kind"]:
        kind_id = db.session.scalar(select(StepKind.id).where(StepKind.code == given["step_kind"]))
        if "step_kind" not in formula.params:
            errors["step_kind"] = _("The formula \"%(formula)s\" does not count by kind of step; leave it empty.",
                                    formula=formula.label)
        elif kind_id is None:
            errors["step_kind"] = _("There is no kind of assistance step with the code \"%(code)s\".",
                                    code=given["step_kind"][:40])
        values["formula_step_kind_id"] = kind_id
    elif "step_kind" in formula.required:
        errors["step_kind"] = _("The formula \"%(formula)s\" needs the kind of step it counts.",
                                formula=formula.label)
    if given["provider_entity"]:
        entity_id = db.session.scalar(select(Entity.id).where(Entity.code == given["provider_entity"]))
        if "provider_entity" not in formula.params:
            errors["provider_entity"] = _("The formula \"%(formula)s\" does not count by provider entity; leave it "
                                          "empty.", formula=formula.label)
        elif entity_id is None:
            errors["provider_entity"] = _("There is no entity with the code \"%(code)s\".",
                                          code=given["provider_entity"][:40])
        values["formula_provider_id"] = entity_id
    elif "provider_entity" in formula.required:
        errors["provider_entity"] = _("The formula \"%(formula)s\" needs the provider entity it counts.",
                                      formula=formula.label)
    return values, errors


# --- counting --------------------------------------------------------------------------------------------------


def count(rows: Select) -> int:
    """count(distinct unit_id) over a formula's rows: the one way a formula's rows become a number."""
    return int(db.session.scalar(select(func.count(func.distinct(rows.subquery().c.unit_id)))) or 0)


def value(formula_key: str, params: dict, start: date, end: date, territory: str) -> Fraction | None:
    """A computed formula's value over [start, end] in `territory`: a count, or a share (none when its
    denominator is empty)."""
    formula = FORMULAS[formula_key]
    if formula.rows is not None:
        return Fraction(count(formula.rows(params, start, end, territory)))
    if not formula.is_share:
        raise ValueError(f"{formula_key} is not computed")
    denominator = count(formula.denominator(params, start, end, territory))
    if not denominator:
        return None
    return Fraction(100 * count(formula.numerator(params, start, end, territory)), denominator)


def row_sources(product: Product, formula: Formula | None = None) -> list[tuple[str, object]]:
    """The rows a computed product counts, for the publication: [("", rows)] for a count, a share's numerator and
    denominator as [(":num", rows), (":den", rows)]; each rows(product, start, end, territory)."""
    formula = formula or FORMULAS[product.formula]
    params = params_of(product)

    def bound(rows):
        return lambda _product, start, end, territory: rows(params, start, end, territory)

    if formula.rows is not None:
        return [("", bound(formula.rows))]
    if formula.is_share:
        return [(":num", bound(formula.numerator)), (":den", bound(formula.denominator))]
    return []


def compute(product: Product, start: date, end: date) -> Fraction | None:
    """The value of a product's computed formula over [start, end] (SQL aggregates only)."""
    return value(product.formula, params_of(product), start, end, product_territory(product))
