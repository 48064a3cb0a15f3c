"""Policy indicators: the formula registry and the follow-up method of seed 001 (Bogotá's planning office).

The method, exactly as implemented (and explained on the dashboard):

* A product has periods (annual "2025", semiannual "2025-S1", quarterly "2025-Q3"), each with a target T_i,
  and a final target F. Its value A_i per period is computed from case data by a registry formula, or entered by
  hand (`manual`) with its source.
* At a cut-off date d, a period has *started* when its first day is on or before d and is *closed* when its last
  day is. An open period with no value yet - and an open period of a computed product, whose value is only
  provisional until the period closes - is *not due*: it does not count (seed 001's annex: an annual product
  without a value at a cut-off inside the period shows no percentage and counts as on track, green).
* Counted periods K = started periods that are due. Cumulative achieved CA = sum of A_i over K (the latest value
  for "latest" products such as percentages); cumulative target CT = sum of T_i over K (the latest target).
* progress per period = min(A / T, 1) (capped at 100 % so no product weighs more than its weight);
  cumulative progress = min(CA / F, 1); ideal trajectory = CT / F; gap = cumulative progress - ideal trajectory.
* progress to date ("avance hasta la vigencia", the annex's percentage) = min(CA / CT, 1), or none when nothing is
  due yet; the traffic light is taken on it: green > 75 %, yellow 51-75 % (more than 50 %), red <= 50 %; a product
  with nothing due is green.
* An objective's progress, ideal trajectory and gap are the weighted sums of its products' (weights normalised to
  add up to 1 inside the objective); the policy's are the weighted sums of its objectives' (each objective's
  `weight`, equal shares when unset). "To date" figures (charts 2 and 3) weight progress to date, a product with
  nothing due counting as on its ideal trajectory (100 %), against an ideal of 100 %.

All arithmetic is exact (fractions); figures are rounded only when they leave the server.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.functions import FunctionElement

from caseapp import audit, authz
from caseapp.errors import Conflict, Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.cases import Case, Consent
from caseapp.models.indicators import AchievedValue, Objective, Policy, Product
from caseapp.models.referrals import Referral
from caseapp.models.victims import Victim
from caseapp.timeutil import today, utcnow

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = (GREEN, YELLOW, RED)
LIGHT_LABELS = {GREEN: _l("Green (high)"), YELLOW: _l("Yellow (medium)"), RED: _l("Red (low)")}
FEMALE_IDENTITIES = ("woman", "trans_woman")


# --- periods -------------------------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^\s*(\d{4})(?:\s*[-/ ]\s*([SsQqTt]?)\s*(\d)\s*([Ss]?))?\s*$")


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # annual | semiannual | quarterly
    starts_on: date
    ends_on: date

    @property
    def year(self) -> int:
        return self.starts_on.year


def _month_end(year: int, month: int) -> date:
    return (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)


def parse_period(text: str, periodicity: str | None = None) -> Period:
    """'2025' (a year), '2025-S1'/'2025-2S' (a half), '2025-Q3'/'2025-T3' (a quarter); canonical label out."""
    match = _PERIOD_RE.match(str(text or ""))
    if not match:
        raise ValueError(text)
    year = int(match.group(1))
    letter, number, suffix = (match.group(2) or "").upper(), match.group(3), (match.group(4) or "").upper()
    if not (1900 < year < 2200):
        raise ValueError(text)
    if number is None:
        kind = "annual"
    elif letter == "S" or suffix == "S" or (not letter and periodicity == "semiannual"):
        kind = "semiannual"
    elif letter in ("Q", "T") or (not letter and periodicity == "quarterly"):
        kind = "quarterly"
    else:
        raise ValueError(text)
    if kind == "annual":
        return Period(str(year), kind, date(year, 1, 1), date(year, 12, 31))
    n = int(number)
    if kind == "semiannual":
        if n not in (1, 2):
            raise ValueError(text)
        first = 1 + 6 * (n - 1)
        return Period(f"{year}-S{n}", kind, date(year, first, 1), _month_end(year, first + 5))
    if n not in (1, 2, 3, 4):
        raise ValueError(text)
    first = 1 + 3 * (n - 1)
    return Period(f"{year}-Q{n}", kind, date(year, first, 1), _month_end(year, first + 2))


def periods_of_year(year: int, periodicity: str) -> list[Period]:
    if periodicity == "semiannual":
        return [parse_period(f"{year}-S{n}") for n in (1, 2)]
    if periodicity == "quarterly":
        return [parse_period(f"{year}-Q{n}") for n in (1, 2, 3, 4)]
    return [parse_period(str(year))]


# --- SQL helpers ---------------------------------------------------------------------------------------------


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
    """Cases counting for product 3.5: a woman, linked (vinculación) in [start, end], with an assistance consent."""
    consent = exists().where(
        Consent.case_id == Case.id, Consent.kind == "assistance", Consent.given_on <= end
    )
    return [Case.linked_on.is_not(None), Case.linked_on >= start, Case.linked_on <= end, woman_clause(), consent]


# --- the formula registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    key: str
    label: object
    description: object
    unit: str  # number | percent
    computed: bool
    breakdowns: tuple[str, ...] = ()


def _women_linked(product: Product, start: date, end: date) -> Fraction:
    stmt = (
        select(func.count(func.distinct(Case.victim_id)))
        .select_from(Case)
        .join(Victim, Victim.id == Case.victim_id)
        .where(*women_linked_conditions(start, end))
    )
    return Fraction(db.session.scalar(stmt) or 0)


def _victims_attended(product: Product, start: date, end: date) -> Fraction:
    from caseapp.models.route import AssistanceStep

    stmt = (
        select(func.count(func.distinct(Case.victim_id)))
        .select_from(AssistanceStep)
        .join(Case, Case.id == AssistanceStep.case_id)
        .where(AssistanceStep.status == "done", AssistanceStep.done_on >= start, AssistanceStep.done_on <= end)
    )
    return Fraction(db.session.scalar(stmt) or 0)


def _share(numerator: int, denominator: int) -> Fraction | None:
    return None if not denominator else Fraction(100 * numerator, denominator)


def _referrals_answered_share(product: Product, start: date, end: date) -> Fraction | None:
    sent_on = func.coalesce(Referral.sent_at, Referral.created_at)
    conditions = [sent_on >= start, sent_on < end + timedelta(days=1), Referral.status != "withdrawn"]
    if product.responsible_entity_id is not None:
        conditions.append(Referral.to_entity_id == product.responsible_entity_id)
    done = func.sum(
        db.case((and_(Referral.status == "done", Referral.completed_on.is_not(None), Referral.completed_on <= end), 1),
                else_=0)
    )
    row = db.session.execute(select(func.count(Referral.id), done).where(*conditions)).one()
    return _share(int(row[1] or 0), int(row[0] or 0))


def _immediate_within_term_share(product: Product, start: date, end: date) -> Fraction | None:
    """Cases whose intake fell in the period and that had an immediate-assistance step done within the legal term
    of the rule in force at intake (plus its recorded extension)."""
    from caseapp.models.route import AssistanceStep, DueRule, PhaseExtension

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
        .where(Case.intake_on.is_not(None), Case.intake_on >= start, Case.intake_on <= end)
    ).one()
    return _share(int(row[1] or 0), int(row[0] or 0))


FORMULAS: dict[str, Formula] = {
    "women_linked": Formula(
        "women_linked", _l("Women linked to the programme"),
        _l("Distinct women victims whose case was linked (vinculación, with assistance consent) in the period; "
           "counted by the linking date, not the registration date."),
        "number", True, ("age_group", "exploitation_purpose", "trafficking_scope", "nationality", "ethnic_group",
                         "entity")),
    "victims_attended": Formula(
        "victims_attended", _l("Victims attended"),
        _l("Distinct victims with at least one assistance step done in the period."),
        "number", True, ("exploitation_purpose", "sex", "age_group", "entity")),
    "referrals_answered_share": Formula(
        "referrals_answered_share", _l("Share of referrals answered and done"),
        _l("Referrals sent to the responsible entity in the period that it answered and completed, as a "
           "percentage of those sent."),
        "percent", True),
    "immediate_within_term_share": Formula(
        "immediate_within_term_share", _l("Share of cases with immediate assistance within the legal term"),
        _l("Cases whose intake fell in the period and that received an immediate-assistance step within the "
           "legal term in force at intake (plus its extension), as a percentage."),
        "percent", True),
    "manual": Formula(
        "manual", _l("Entered by hand"),
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


def compute(product: Product, start: date, end: date) -> Fraction | None:
    """The value of a computed formula over [start, end] (SQL aggregates only)."""
    return _COMPUTE[product.formula](product, start, end)


# --- the method ----------------------------------------------------------------------------------------------


def traffic_light(progress: Fraction | float | None) -> str:
    """Green > 75 %, yellow 51-75 % (above 50 %), red <= 50 %; nothing due counts as green."""
    if progress is None:
        return GREEN
    progress = Fraction(progress) if not isinstance(progress, Fraction) else progress
    if progress > Fraction(3, 4):
        return GREEN
    if progress > Fraction(1, 2):
        return YELLOW
    return RED


def capped(achieved: Fraction | None, target: Fraction | None) -> Fraction | None:
    if achieved is None or not target:
        return None
    return min(Fraction(achieved) / Fraction(target), Fraction(1))


@dataclass
class PeriodRow:
    period: Period
    target: Fraction
    value: Fraction | None
    closed: bool
    started: bool
    due: bool
    source: str | None = None

    @property
    def progress(self) -> Fraction | None:
        return capped(self.value, self.target) if self.due else None


@dataclass
class ProductStatus:
    product: Product
    as_of: date
    year: int
    periods: list[PeriodRow]
    final_target: Fraction
    cumulative_achieved: Fraction
    cumulative_target: Fraction
    cumulative: Fraction
    ideal_trajectory: Fraction
    gap: Fraction
    progress_to_date: Fraction | None
    traffic_light: str
    achieved: Fraction | None  # the year's value so far (provisional while the year's period is open)
    target: Fraction  # the year's target
    progress: Fraction | None  # the year's progress (none while nothing of the year is due)
    provisional: bool
    year_ideal_so_far: Fraction | None = None  # the year's target pro rata of the days elapsed
    pace: Fraction | None = None
    pace_light: str | None = None

    @property
    def measured(self) -> bool:
        return self.progress_to_date is not None


def _values(product: Product) -> dict[str, AchievedValue]:
    return {v.period: v for v in product.values}


def evaluate(product: Product, as_of: date, year: int | None = None, known: dict | None = None) -> ProductStatus:
    """The follow-up method for one product at a cut-off date (see the module docstring). `known` holds values of
    the product's formula already counted in this request, by (first day, last day)."""
    year = year or as_of.year
    known = known or {}
    manual = _values(product)
    rows: list[PeriodRow] = []
    for target in product.targets:
        period = parse_period(target.period)
        started = period.starts_on <= as_of
        closed = period.ends_on <= as_of
        value, source = None, None
        if started:
            if product.formula == "manual":
                if target.period in manual:
                    value, source = Fraction(manual[target.period].value), manual[target.period].source
            else:
                span = (period.starts_on, min(period.ends_on, as_of))
                value = known[span] if span in known else compute(product, *span)
                source = "Ruta"
                if value is None and target.period in manual:  # nothing to compute from: an imported figure
                    value, source = Fraction(manual[target.period].value), manual[target.period].source
        # Due: a closed period (a manual one without a value counts as 0; a computed one with nothing to compute
        # from does not count), or an open period whose value was already entered by hand.
        if product.formula == "manual":
            due = started and (closed or value is not None)
        else:
            due = closed and value is not None
        rows.append(PeriodRow(period, Fraction(target.target), value, closed, started, due, source))

    counted = [r for r in rows if r.due]
    final = Fraction(product.final_target) if product.final_target else Fraction(0)
    if product.accumulation == "latest":
        ca = (counted[-1].value or Fraction(0)) if counted else Fraction(0)
        ct = counted[-1].target if counted else Fraction(0)
    else:
        ca = sum((r.value or Fraction(0) for r in counted), Fraction(0))
        ct = sum((r.target for r in counted), Fraction(0))
    cumulative = min(ca / final, Fraction(1)) if final else Fraction(0)
    ideal = ct / final if final else Fraction(0)
    ptd = capped(ca, ct) if counted and ct else None

    in_year = [r for r in rows if r.period.year == year]
    year_counted = [r for r in in_year if r.due]
    year_started = [r for r in in_year if r.started]
    if product.accumulation == "latest":
        year_target = in_year[-1].target if in_year else Fraction(0)
        achieved = year_started[-1].value if year_started else None
        counted_value = year_counted[-1].value if year_counted else None
        counted_target = year_counted[-1].target if year_counted else Fraction(0)
    else:
        year_target = sum((r.target for r in in_year), Fraction(0))
        started_values = [r.value for r in year_started if r.value is not None]
        achieved = sum(started_values, Fraction(0)) if started_values else None
        counted_value = sum((r.value or Fraction(0) for r in year_counted), Fraction(0)) if year_counted else None
        counted_target = sum((r.target for r in year_counted), Fraction(0))
    progress = capped(counted_value, counted_target) if year_counted else None
    provisional = any(r.started and not r.due for r in in_year)

    status = ProductStatus(
        product=product, as_of=as_of, year=year, periods=rows, final_target=final, cumulative_achieved=ca,
        cumulative_target=ct, cumulative=cumulative, ideal_trajectory=ideal, gap=cumulative - ideal,
        progress_to_date=ptd, traffic_light=traffic_light(ptd), achieved=achieved, target=year_target,
        progress=progress, provisional=provisional,
    )
    # Pace inside an open year (not part of seed 001's method; shown apart): the year's target pro rata.
    if provisional and year_target and achieved is not None and product.accumulation == "sum":
        first, last = date(year, 1, 1), date(year, 12, 31)
        elapsed = Fraction((min(as_of, last) - first).days + 1, (last - first).days + 1)
        status.year_ideal_so_far = year_target * elapsed
        status.pace = capped(achieved, status.year_ideal_so_far)
        status.pace_light = traffic_light(status.pace)
    return status


@dataclass
class Summary:
    code: str
    name: str
    weight: Fraction
    progress: Fraction
    ideal_trajectory: Fraction
    gap: Fraction
    progress_to_date: Fraction
    gap_to_date: Fraction
    traffic_light: str
    products: list[ProductStatus] = field(default_factory=list)
    children: list[Summary] = field(default_factory=list)


def _weighted(items: list[tuple[Fraction, Fraction]]) -> Fraction:
    total = sum((w for w, _v in items), Fraction(0))
    if not items:
        return Fraction(0)
    if not total:
        return sum((v for _w, v in items), Fraction(0)) / len(items)
    return sum((w * v for w, v in items), Fraction(0)) / total


def summarise_objective(objective: Objective, as_of: date) -> Summary:
    statuses = [evaluate(p, as_of) for p in objective.products if p.active]
    weights = [Fraction(s.product.weight or 0) for s in statuses]
    progress = _weighted(list(zip(weights, [s.cumulative for s in statuses], strict=True)))
    ideal = _weighted(list(zip(weights, [s.ideal_trajectory for s in statuses], strict=True)))
    ptd = _weighted(list(zip(weights, [s.progress_to_date if s.progress_to_date is not None else Fraction(1)
                                        for s in statuses], strict=True)))
    return Summary(objective.code, objective.name, Fraction(objective.weight) if objective.weight else Fraction(1),
                   progress, ideal, progress - ideal, ptd, ptd - 1, traffic_light(ptd), statuses)


def summarise_policy(policy: Policy, as_of: date) -> Summary:
    objectives = [summarise_objective(o, as_of) for o in policy.objectives if o.products]
    pairs = [(o.weight, o) for o in objectives]
    progress = _weighted([(w, o.progress) for w, o in pairs])
    ideal = _weighted([(w, o.ideal_trajectory) for w, o in pairs])
    ptd = _weighted([(w, o.progress_to_date) for w, o in pairs])
    products = [s for o in objectives for s in o.products]
    return Summary(policy.code, policy.name, Fraction(1), progress, ideal, progress - ideal, ptd, ptd - 1,
                   traffic_light(ptd), products, objectives)


def light_counts(statuses: list[ProductStatus]) -> dict[str, int]:
    counts = dict.fromkeys(LIGHTS, 0)
    for s in statuses:
        counts[s.traffic_light] += 1
    return counts


def by_sector(statuses: list[ProductStatus]) -> list[dict]:
    """Chart 5: products per responsible sector with their colours."""
    sectors: dict[str, dict[str, int]] = {}
    for s in statuses:
        counts = sectors.setdefault(s.product.sector or "—", dict.fromkeys(LIGHTS, 0))
        counts[s.traffic_light] += 1
    return [{"sector": k, **v, "total": sum(v.values())} for k, v in sorted(sectors.items())]


# --- lookups and permissions ---------------------------------------------------------------------------------


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
    return list(db.session.scalars(_product_query().where(Product.active.is_(True))
                                   .order_by(Policy.code, Objective.sort_order, Product.sort_order, Product.code)))


def list_policies(actor) -> list[Policy]:
    require_reader(actor)
    return list(db.session.scalars(select(Policy).order_by(Policy.code)))


def get_product(actor, code: str, policy: str | None = None) -> Product:
    require_reader(actor)
    stmt = _product_query().where(Product.code == code.strip())
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
    policy = db.session.scalar(select(Policy).where(Policy.code == code.strip()).options(
        selectinload(Policy.objectives).selectinload(Objective.products).selectinload(Product.targets),
        selectinload(Policy.objectives).selectinload(Objective.products).selectinload(Product.values),
    ))
    if policy is None:
        raise NotFound(_("There is no policy with that code."))
    return policy


def parse_as_of(text: str | None) -> date:
    if not text:
        return today()
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise Invalid(_("The cut-off date must look like 2025-06-30."), field_errors={"as_of": _("Invalid date.")}) \
            from None


def parse_year(text: str | None) -> int:
    if text in (None, ""):
        return today().year
    try:
        year = int(str(text).strip())
    except ValueError:
        raise Invalid(_("The period must be a year such as 2025."), field_errors={"period": _("Invalid year.")}) \
            from None
    if not 1900 < year < 2200:
        raise Invalid(_("The period must be a year such as 2025."), field_errors={"period": _("Invalid year.")})
    return year


def year_cutoff(year: int, as_of: date | None = None) -> date:
    """The cut-off for a year's figures: the given date, or the end of the year (today if the year is open)."""
    if as_of is not None:
        return as_of
    return min(date(year, 12, 31), today())


def product_progress(actor, code: str, *, year: int, as_of: date | None = None, policy: str | None = None):
    """Measured figures are aggregates: coordinators only (an admin manages the catalogue, not the figures)."""
    authz.require(actor, "stats.read")
    product = get_product(actor, code, policy)
    return evaluate(product, year_cutoff(year, as_of), year)


def policy_summary(actor, code: str, as_of: date) -> Summary:
    authz.require(actor, "stats.read")
    return summarise_policy(get_policy(actor, code), as_of)


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


def enter_value(actor, product_id: int, *, period: str, value, source: str, version=None) -> AchievedValue:
    """A coordinator of the responsible sector enters a period's value measured outside the system."""
    authz.require(actor, "plans.enter")
    product = db.session.get(Product, product_id)
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
    if row is None:
        row = AchievedValue(product=product, period=label, value=number, source=source, entered_by_id=actor.id,
                            entered_at=utcnow(), origin="screen")
        db.session.add(row)
    else:
        if version not in (None, "") and str(row.version) != str(version):
            raise Conflict(_("Someone else changed this value while you were editing it. Reload it and try "
                             "again; nothing was saved."))
        row.value, row.source, row.entered_by_id, row.entered_at, row.origin = number, source, actor.id, utcnow(), "screen"
    audit.record("indicator.value.enter", object_type="product", object_ref=product.code,
                 detail={"period": label, "policy": product.objective.policy.code})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise Conflict(_("Someone else changed this value while you were editing it. Reload it and try again; "
                         "nothing was saved.")) from None
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
    }


def product_dict(p: Product) -> dict:
    return {
        "code": p.code, "policy": p.objective.policy.code, "objective": p.objective.code, "name": p.name,
        "indicator": p.indicator, "formula": p.formula, "unit": p.unit, "baseline": p.baseline,
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


def headline_product() -> Product | None:
    """The product the dashboard opens on: the first one with an official total (product 3.5 on a fresh install)."""
    return db.session.scalar(
        _product_query().where(Product.active.is_(True), Product.official_total.is_(True))
        .order_by(Policy.id, Product.id).limit(1)
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


def dashboard(actor, *, year: int | None = None, code: str | None = None, policy: str | None = None) -> dict:
    """Everything the coordinator's dashboard shows for a product and year: status, history, breakdowns."""
    from caseapp.services import stats

    authz.require(actor, "stats.read")
    year = year or today().year
    product = get_product(actor, code, policy) if code else headline_product()
    if product is None:
        raise NotFound(_("There is no product with that code."))
    as_of = year_cutoff(year)
    start, end = date(year, 1, 1), min(date(year, 12, 31), as_of)
    breakdowns, known = [], {}
    if start <= end and product.formula in ("women_linked", "victims_attended"):
        breakdowns = stats.breakdown_tables(actor, stats.product_universe(product.formula, start, end),
                                            FORMULAS[product.formula].breakdowns)
        # The breakdowns' total is the year's official figure (the same rows, counted once): not counted twice.
        known[(start, end)] = Fraction(breakdowns[0].total)
    status = evaluate(product, as_of, year, known)
    return {"product": product, "status": status, "history": history(status), "breakdowns": breakdowns,
            "year": year, "years": sorted({r.period.year for r in status.periods} | {today().year}),
            "can_enter": can_enter(actor, product)}


# --- the admin's product sheet ---------------------------------------------------------------------------------

EDITABLE = ("name", "indicator", "formula", "formula_text", "baseline", "baseline_year", "baseline_source", "unit",
            "sector", "responsible_entity", "co_responsible", "target_population", "ods_code", "ods_name", "weight",
            "first_year")


def list_all_products(actor) -> list[Product]:
    authz.require(actor, "admin.manage")
    return list(db.session.scalars(_product_query().order_by(Policy.code, Objective.sort_order, Product.sort_order,
                                                              Product.code)))


def get_product_by_id(actor, product_id: int) -> Product:
    authz.require(actor, "admin.manage")
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("There is no product with that code."))
    return product


def update_product(actor, product_id: int, data: dict, version=None) -> Product:
    """An admin edits a product's sheet. Changing the first year of an annual product moves its periods with it."""
    from caseapp.models.accounts import Entity

    product = get_product_by_id(actor, product_id)
    if version not in (None, "") and str(product.version) != str(version):
        raise Conflict(_("Someone else changed this product while you were editing it. Reload it and try again; "
                         "nothing was saved."))
    errors: dict[str, str] = {}
    clean: dict = {}
    for key in ("name", "indicator"):
        value = (data.get(key) or "").strip()
        if not value:
            errors[key] = _("This field is required.")
        clean[key] = value
    formula = data.get("formula") or product.formula
    if formula not in FORMULAS:
        errors["formula"] = _("Choose a formula from the list.")
    clean["formula"] = formula
    for key, limit in (("formula_text", 2000), ("baseline", 40), ("baseline_source", 200), ("unit", 40),
                       ("sector", 200), ("co_responsible", 300), ("target_population", 200), ("ods_code", 8),
                       ("ods_name", 120)):
        value = (data.get(key) or "").strip()
        if len(value) > limit:
            errors[key] = _("At most %(n)s characters.", n=limit)
        clean[key] = value or None
    clean["unit"] = clean["unit"] or "number"
    for key in ("baseline_year", "first_year"):
        raw = str(data.get(key) or "").strip()
        if not raw:
            clean[key] = None
            continue
        try:
            clean[key] = int(raw)
            if not 1990 <= clean[key] <= 2100:
                raise ValueError
        except ValueError:
            errors[key] = _("Enter a year such as 2025.")
    if clean.get("first_year") is None:
        clean["first_year"] = product.first_year
    try:
        clean["weight"] = parse_decimal(data.get("weight", product.weight))
        if clean["weight"] < 0:
            errors["weight"] = _("The value cannot be negative.")
    except ValueError:
        errors["weight"] = _("Enter a number, e.g. 42 or 42,5.")
    entity_code = (data.get("responsible_entity") or "").strip()
    clean["responsible_entity_id"] = None
    if entity_code:
        entity_id = db.session.scalar(select(Entity.id).where(Entity.code == entity_code))
        if entity_id is None:
            errors["responsible_entity"] = _("There is no entity with that code.")
        clean["responsible_entity_id"] = entity_id
    shift = clean["first_year"] - product.first_year
    if shift and product.periodicity != "annual":
        errors["first_year"] = _("Only an annual product's first year can be changed here; import its plan again.")
    if shift and product.values:
        errors["first_year"] = _("The product already has values entered; its periods cannot move.")
    if errors:
        raise Invalid(_("Please correct the highlighted fields. Nothing was saved."), field_errors=errors)
    changed = []
    for key in ("name", "indicator", "formula", "formula_text", "baseline", "baseline_year", "baseline_source", "unit",
                "sector", "responsible_entity_id", "co_responsible", "target_population", "ods_code", "ods_name",
                "weight", "first_year"):
        if getattr(product, key) != clean[key]:
            changed.append(key)
            setattr(product, key, clean[key])
    if shift:
        for target in sorted(product.targets, key=lambda t: t.starts_on, reverse=shift > 0):
            period = parse_period(str(int(target.period) + shift))
            target.period, target.starts_on, target.ends_on = period.label, period.starts_on, period.ends_on
            db.session.flush()
    audit.record("indicator.product.update", object_type="product", object_ref=product.code,
                 detail={"policy": product.objective.policy.code, "fields": changed})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise Conflict(_("Someone else changed this product while you were editing it. Reload it and try again; "
                         "nothing was saved.")) from None
    return product
