"""Reading products and policies (coordinators; admins for the catalogue), their progress at a cut-off date,
and the values entered by hand for `manual` products.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from caseapp import audit, authz
from caseapp.errors import Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.indicators import AchievedValue, Objective, Policy, Product
from caseapp.services.indicators import publication, reads, stats
from caseapp.services.indicators.formulas import FORMULAS, params_of
from caseapp.services.indicators.method import (
    ProductStatus,
    Summary,
    evaluate,
    light_counts,
    summarise_policy,
)
from caseapp.services.indicators.periods import (
    parse_period,
)
from caseapp.services.indicators.scope import policies_visible, product_territory, viewer_territory
from caseapp.services.primitives import commit, require_current
from caseapp.timeutil import today, utcnow


def require_reader(actor) -> None:
    if authz.can(actor, "admin.manage"):
        return
    authz.require(actor, "stats.read")


def _product_query():
    return select(Product).options(
        selectinload(Product.targets), selectinload(Product.values),
    ).join(Objective).join(Policy)


def list_products(actor) -> list[Product]:
    require_reader(actor)
    return list(db.session.scalars(_product_query().where(Product.active.is_(True), *policies_visible(actor))
                                   .order_by(Policy.code, Objective.sort_order, Product.sort_order, Product.code)))


def list_policies(actor) -> list[Policy]:
    require_reader(actor)
    return list(db.session.scalars(select(Policy).where(*policies_visible(actor)).order_by(Policy.code)))


def get_product(actor, code: str, policy: str | None = None) -> Product:
    require_reader(actor)
    # A policy of another territory answers as one that does not exist.
    stmt = _product_query().where(Product.code == code.strip(), *policies_visible(actor))
    if policy:
        stmt = stmt.where(Policy.code == policy.strip())
    found = list(db.session.scalars(stmt))
    if not found:
        raise NotFound(_("There is no product with that code."))
    if len(found) > 1:
        # The product the system measures officially (Cartagena's 3.5) answers to its bare code; any other
        # homonym needs its policy.
        official = [p for p in found if p.official_total]
        if len(official) == 1:
            return official[0]
        raise Invalid(_("Several policies have a product with that code: say which policy."),
                      field_errors={"policy": ", ".join(sorted(p.objective.policy.code for p in found))})
    return found[0]


def get_policy(actor, code: str) -> Policy:
    require_reader(actor)
    policy = db.session.scalar(select(Policy).where(Policy.code == code.strip(), *policies_visible(actor)).options(
        selectinload(Policy.objectives).selectinload(Objective.products).selectinload(Product.targets),
        selectinload(Policy.objectives).selectinload(Objective.products).selectinload(Product.values),
    ))
    if policy is None:
        raise NotFound(_("There is no policy with that code."))
    return policy





def reader_cut_off(year: int | None = None, as_of: date | None = None) -> date:
    """The cut-off a reader gets: the date asked for (or the year's end), resolved to the last closed month's end on
    or before it - the publication counts nothing of an open month, so stepping a day at a time gives nothing."""
    asked = as_of if as_of is not None else date(year, 12, 31) if year else today()
    return publication.resolve(asked)


@reads.logged("product_progress", code="product")
def product_progress(actor, code: str, *, year: int, as_of: date | None = None, policy: str | None = None):
    """Measured figures are aggregates: coordinators only (an admin manages the catalogue, not the figures)."""
    authz.require(actor, "stats.read")
    product = get_product(actor, code, policy)
    return evaluate(product, reader_cut_off(year, as_of), year,
                    value_of=publication.reader_values(viewer_territory(actor)))


@reads.logged("policy_summary", code="policy")
def policy_summary(actor, code: str, as_of: date) -> Summary:
    authz.require(actor, "stats.read")
    return summarise_policy(get_policy(actor, code), reader_cut_off(as_of=as_of),
                            publication.reader_values(viewer_territory(actor)))


# --- manual values -------------------------------------------------------------------------------------------


def can_enter(actor, product: Product) -> bool:
    if not authz.can(actor, "plans.enter"):
        return False
    return product.responsible_entity_id is None or product.responsible_entity_id == actor.entity_id


def parse_decimal(text) -> Decimal:
    """'1.234,5' (Colombian), '1234.5' or '1,234.5' -> Decimal; ValueError when it is not a number."""
    raw = str(text).strip().replace(" ", "").replace("\u00a0", "").replace("%", "")
    if not raw:
        raise ValueError(text)
    if "," in raw and "." in raw:
        raw = raw.replace(".", "").replace(",", ".") if raw.rfind(",") > raw.rfind(".") else raw.replace(",", "")
    elif "," in raw:
        raw = raw.replace(",", ".")
    elif raw.count(".") > 1 or re.fullmatch(r"-?[1-9]\d{0,2}\.\d{3}", raw):
        raw = raw.replace(".", "")  # Colombian thousands: 1.000 is a thousand
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def enter_value(actor, product_id: int, *, period: str, value, source: str, version) -> AchievedValue:
    """A coordinator of the responsible sector enters a period's value measured outside the system."""
    authz.require(actor, "plans.enter")
    product = db.session.scalar(_product_query().where(Product.id == product_id, *policies_visible(actor)))
    if product is None or not product.active:
        raise NotFound(_("There is no product with that code."))
    if not can_enter(actor, product):
        raise Forbidden(_("Only a coordinator of the responsible sector can enter this product's values."))
    if product.formula != "manual":
        raise Invalid(_("This product is computed by the system from the cases; it takes no values by hand."))
    errors = {}
    label = None
    try:
        label = parse_period(period, product.periodicity).label
    except ValueError:
        errors["period"] = _("Choose one of the product's periods.")
    if label and label not in {t.period for t in product.targets}:
        errors["period"] = _("Choose one of the product's periods.")
    number = None
    try:
        number = parse_decimal(value)
        if number < 0:
            errors["value"] = _("The value cannot be negative.")
    except ValueError:
        errors["value"] = _("Enter a number, e.g. 42 or 42,5.")
    source = (source or "").strip()
    if not source:
        errors["source"] = _("Say where the figure comes from (report, office, date).")
    elif len(source) > 300:
        errors["source"] = _("At most 300 characters.")
    if errors:
        raise Invalid(_("Please correct the highlighted fields. Nothing was saved."), field_errors=errors)
    row = db.session.scalar(select(AchievedValue).where(AchievedValue.product_id == product.id,
                                                        AchievedValue.period == label))
    stale = _("Someone else changed this value while you were editing it. Reload it and try again; nothing was "
              "saved.")
    require_current(row.version if row is not None else 0, version, stale=stale)
    if row is None:
        row = AchievedValue(product=product, period=label, value=number, source=source, entered_by_id=actor.id,
                            entered_at=utcnow(), origin="screen")
        db.session.add(row)
    else:
        row.value, row.source, row.entered_by_id, row.entered_at, row.origin = number, source, actor.id, utcnow(), "screen"
    audit.record("indicator.value.enter", object_type="product", object_ref=product.code,
                 detail={"period": label, "policy": product.objective.policy.code})
    commit(stale)
    return row


# --- output helpers ------------------------------------------------------------------------------------------


def num(value: Fraction | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


def status_dict(s: ProductStatus) -> dict:
    return {
        "code": s.product.code,
        "policy": s.product.objective.policy.code,
        "period": str(s.year),
        "as_of": s.as_of.isoformat(),
        "achieved": num(s.achieved),
        "target": num(s.target),
        "progress": num(s.progress),
        "cumulative": num(s.cumulative),
        "cumulative_achieved": num(s.cumulative_achieved),
        "cumulative_target": num(s.cumulative_target),
        "final_target": num(s.final_target),
        "ideal_trajectory": num(s.ideal_trajectory),
        "gap": num(s.gap),
        "progress_to_date": num(s.progress_to_date),
        "traffic_light": s.traffic_light,
        "provisional": s.provisional,
        # The year's value so far is suppressed in the publication: it and what derives from it are not given.
        "suppressed": s.withheld,
    }


def product_dict(p: Product) -> dict:
    return {
        "code": p.code, "policy": p.objective.policy.code, "territory": product_territory(p),
        "objective": p.objective.code, "name": p.name,
        "indicator": p.indicator, "formula": p.formula, "formula_params": params_of(p), "unit": p.unit,
        "baseline": p.baseline,
        "baseline_year": p.baseline_year, "periodicity": p.periodicity, "periods_count": p.periods_count,
        "first_year": p.first_year, "final_target": num(Fraction(p.final_target)), "weight": num(Fraction(p.weight)),
        "sector": p.sector, "responsible_entity": p.responsible_entity.code if p.responsible_entity else None,
        "co_responsible": p.co_responsible, "ods_code": p.ods_code,
        "targets": [{"period": t.period, "target": num(Fraction(t.target))} for t in p.targets],
    }


def summary_dict(summary: Summary, as_of: date) -> dict:
    return {
        "code": summary.code, "as_of": as_of.isoformat(),
        "progress": num(summary.progress), "ideal_trajectory": num(summary.ideal_trajectory), "gap": num(summary.gap),
        "progress_to_date": num(summary.progress_to_date), "gap_to_date": num(summary.gap_to_date),
        "objectives": [
            {"code": o.code, "name": o.name, "progress": num(o.progress), "ideal_trajectory": num(o.ideal_trajectory),
             "gap": num(o.gap), "progress_to_date": num(o.progress_to_date), "gap_to_date": num(o.gap_to_date),
             "traffic_light": o.traffic_light}
            for o in summary.children
        ],
        "traffic_lights": light_counts(summary.products),
        "products": [
            {"code": s.product.code, "objective": s.product.objective.code, "sector": s.product.sector,
             "progress": num(s.progress_to_date), "traffic_light": s.traffic_light}
            for s in summary.products
        ],
    }


# --- the coordinator's dashboard -----------------------------------------------------------------------------


def headline_product(actor) -> Product | None:
    """The product the dashboard opens on: of the reader's territory, the first one with an official total (product
    3.5 for Cartagena), else its first product."""
    return db.session.scalar(
        _product_query().where(Product.active.is_(True), *policies_visible(actor))
        .order_by(Product.official_total.desc(), Policy.id, Objective.sort_order, Product.sort_order, Product.id)
        .limit(1)
    )


@dataclass
class YearPoint:
    year: int
    target: Fraction
    achieved: Fraction | None
    due: bool
    cumulative: Fraction | None
    ideal: Fraction


def history(status: ProductStatus) -> list[YearPoint]:
    """Per year: target, achieved, the cumulative progress at the year's end (or the cut-off) and the plan's ideal
    trajectory (cumulative target up to that year / final target)."""
    points: list[YearPoint] = []
    final = status.final_target
    latest = status.product.accumulation == "latest"
    ca = Fraction(0)
    plan = Fraction(0)
    for year in sorted({r.period.year for r in status.periods}):
        rows = [r for r in status.periods if r.period.year == year]
        due = [r for r in rows if r.due]
        with_value = [r for r in rows if r.started and r.value is not None]
        target = rows[-1].target if latest else sum((r.target for r in rows), Fraction(0))
        plan = rows[-1].target if latest else plan + target
        achieved = None
        if with_value:
            achieved = with_value[-1].value if latest else sum((r.value for r in with_value), Fraction(0))
        if due:
            ca = (due[-1].value or Fraction(0)) if latest else ca + sum((r.value or Fraction(0) for r in due),
                                                                       Fraction(0))
        cumulative = min(ca / final, Fraction(1)) if final and due else None
        points.append(YearPoint(year, target, achieved, bool(rows) and all(r.due for r in rows), cumulative,
                                plan / final if final else Fraction(0)))
    return points


@reads.logged("dashboard", code="product")
def dashboard(actor, *, year: int | None = None, code: str | None = None, policy: str | None = None) -> dict:
    """Everything the coordinator's dashboard shows for a product and year: status, history, breakdowns, critical
    points, family members assisted."""

    authz.require(actor, "stats.read")
    year = year or today().year
    product = get_product(actor, code, policy) if code else headline_product(actor)
    if product is None:
        raise NotFound(_("There is no product with that code."))
    as_of = reader_cut_off(year)
    breakdowns = []
    if as_of.year == year:
        breakdowns = stats.breakdown_tables(actor, product, FORMULAS[product.formula].breakdowns, year)
    status = evaluate(product, as_of, year, value_of=publication.reader_values(viewer_territory(actor)))
    # The page's other tables are read inside this one read, so the page is one row of the access log: seed 003's
    # critical points (cases by department of exploitation) and the family members assisted, apart from the victims.
    try:
        critical = stats.cases_table(actor, "exploitation_department", period=str(year))
    except Invalid:
        critical = None
    return {"product": product, "status": status, "history": history(status), "breakdowns": breakdowns,
            "year": year, "years": sorted({r.period.year for r in status.periods} | {today().year}),
            "can_enter": can_enter(actor, product), "critical": critical,
            "family": stats.family_summary(actor, year)}


# --- the admin's product sheet ---------------------------------------------------------------------------------
