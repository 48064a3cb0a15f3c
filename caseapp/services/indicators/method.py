"""The follow-up method of seed 001 (Bogotá's planning office), exactly as implemented and explained on the
dashboard:

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

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from caseapp.models.indicators import AchievedValue, Objective, Policy, Product
from caseapp.services.indicators.formulas import compute
from caseapp.services.indicators.periods import Period, parse_period

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = (GREEN, YELLOW, RED)


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
    withheld: bool = False  # the publication suppresses this (open) period's value

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
    withheld: bool = False  # the year's value so far is suppressed in the publication: nothing derived is shown

    @property
    def measured(self) -> bool:
        return self.progress_to_date is not None


def _values(product: Product) -> dict[str, AchievedValue]:
    return {v.period: v for v in product.values}


def evaluate(product: Product, as_of: date, year: int | None = None, known: dict | None = None,
             value_of=None) -> ProductStatus:
    """The follow-up method for one product at a cut-off date (see the module docstring). `known` holds values of
    the product's formula already counted in this request, by (first day, last day); `value_of(product, start,
    end)` answers a computed value as (value, withheld) - the publication's, for a reader."""
    year = year or as_of.year
    known = known or {}
    value_of = value_of or (lambda p, start, end: (compute(p, start, end), False))
    manual = _values(product)
    rows: list[PeriodRow] = []
    for target in product.targets:
        period = parse_period(target.period)
        started = period.starts_on <= as_of
        closed = period.ends_on <= as_of
        value, source, withheld = None, None, False
        if started:
            if product.formula == "manual":
                if target.period in manual:
                    value, source = Fraction(manual[target.period].value), manual[target.period].source
            else:
                span = (period.starts_on, min(period.ends_on, as_of))
                value, withheld = (known[span], False) if span in known else value_of(product, *span)
                source = "Ruta"
                if value is None and target.period in manual:  # nothing to compute from: an imported figure
                    value, source = Fraction(manual[target.period].value), manual[target.period].source
        # Due: a closed period (a manual one without a value counts as 0; a computed one with nothing to compute
        # from does not count), or an open period whose value was already entered by hand.
        if product.formula == "manual":
            due = started and (closed or value is not None)
        else:
            due = closed and value is not None
        rows.append(PeriodRow(period, Fraction(target.target), value, closed, started, due, source, withheld))

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
    withheld = any(r.withheld for r in year_started)
    if withheld:
        achieved = None

    status = ProductStatus(
        product=product, as_of=as_of, year=year, periods=rows, final_target=final, cumulative_achieved=ca,
        cumulative_target=ct, cumulative=cumulative, ideal_trajectory=ideal, gap=cumulative - ideal,
        progress_to_date=ptd, traffic_light=traffic_light(ptd), achieved=achieved, target=year_target,
        progress=progress, provisional=provisional, withheld=withheld,
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


def summarise_objective(objective: Objective, as_of: date, value_of=None) -> Summary:
    statuses = [evaluate(p, as_of, value_of=value_of) for p in objective.products if p.active]
    weights = [Fraction(s.product.weight or 0) for s in statuses]
    progress = _weighted(list(zip(weights, [s.cumulative for s in statuses], strict=True)))
    ideal = _weighted(list(zip(weights, [s.ideal_trajectory for s in statuses], strict=True)))
    ptd = _weighted(list(zip(weights, [s.progress_to_date if s.progress_to_date is not None else Fraction(1)
                                        for s in statuses], strict=True)))
    return Summary(objective.code, objective.name, Fraction(objective.weight) if objective.weight else Fraction(1),
                   progress, ideal, progress - ideal, ptd, ptd - 1, traffic_light(ptd), statuses)


def summarise_policy(policy: Policy, as_of: date, value_of=None) -> Summary:
    objectives = [summarise_objective(o, as_of, value_of) for o in policy.objectives if o.products]
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
