"""Tables of anonymised counts answered from the cubes, with their margins, for screens, exports and the API.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS, label
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.route import AssistanceStep
from caseapp.services.indicators import reads
from caseapp.services.indicators.cubes import Engine
from caseapp.services.indicators.dimensions import (
    DIMENSIONS,
    MAX_DIMS,
    TIME_DIMS,
    UNITS,
    UNKNOWN_VALUE,
    VALUE_GROUPS,
    Universe,
    _sample_value,
    canonical,
    time_value,
)
from caseapp.services.indicators.formulas import women_linked_conditions
from caseapp.services.indicators.scope import require_inside, viewer_territory


@dataclass
class Row:
    values: dict[str, str]
    count: int
    suppressed: bool


@dataclass
class Table:
    by: tuple[str, ...]
    filters: dict[str, str]
    period: str | None
    k: int
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    total_suppressed: bool = False
    unit: str = "cases"
    margins: dict = field(default_factory=dict)  # (dim, value) -> (count, suppressed), for two dimensions

    def shown(self, count: int, suppressed: bool):
        return f"<{self.k}" if suppressed else count

    def as_json(self) -> dict:
        return {
            "rows": [{**r.values, "count": self.shown(r.count, r.suppressed)} for r in self.rows],
            "total": self.shown(self.total, self.total_suppressed),
            "k": self.k,
        }


def parse_period(text: str | None) -> tuple[str, str] | None:
    """'2025' year, '2025-S1' half-year, '2025-B3' two months, '2025-Q2' quarter, '2025-03' month."""
    if text in (None, ""):
        return None
    text = str(text).strip().upper()
    try:
        if len(text) == 4 and text.isdigit():
            return "year", text
        year, rest = text.split("-", 1)
        if not (len(year) == 4 and year.isdigit()):
            raise ValueError(text)
        if rest[:1] in ("Q", "T") and rest[1:] in ("1", "2", "3", "4"):
            return "quarter", f"{year}-Q{rest[1:]}"
        if rest[:1] == "S" and rest[1:] in ("1", "2"):
            return "semester", f"{year}-S{rest[1:]}"
        if rest[:1] == "B" and rest[1:] in ("1", "2", "3", "4", "5", "6"):
            return "bimester", f"{year}-B{rest[1:]}"
        if rest.isdigit() and 1 <= int(rest) <= 12:
            return "month", f"{year}-{int(rest):02d}"
    except ValueError:
        pass
    raise Invalid(_("The period must be a year (2025), a half-year (2025-S1), a two-month period (2025-B3), "
                    "a quarter (2025-Q2) or a month (2025-03)."),
                  field_errors={"period": _("Invalid period.")})



def parse_by(text) -> tuple[str, ...]:
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else (text or [])) if t and t.strip()]
    if not items or len(items) > 2 or len(set(items)) != len(items) or any(i not in DIMENSIONS for i in items):
        raise Invalid(_("Choose one or two dimensions among: %(dims)s.", dims=", ".join(DIMENSIONS)),
                      field_errors={"by": _("Invalid dimension.")})
    if sum(i in TIME_DIMS for i in items) > 1:
        raise Invalid(_("Choose at most one period dimension (year, quarter or month)."),
                      field_errors={"by": _("Invalid dimension.")})
    return tuple(items)


@reads.logged("stats_query")
def query(actor, by, *, filters: dict | None = None, period: str | None = None, universe: Universe | None = None,
          engine: Engine | None = None, check: bool = True) -> Table:
    """One or two dimensions, optional filters and period; every count protected (see the module docstring)."""
    if check:
        authz.require(actor, "stats.read")
    by = parse_by(by)
    filters = {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")}
    for key in filters:
        if key not in DIMENSIONS or key in TIME_DIMS or key in by:
            raise Invalid(_("You cannot filter by that dimension here."), field_errors={key: _("Invalid filter.")})
    engine = engine or Engine(universe or Universe(territory=viewer_territory(actor)))
    require_inside(actor, engine.universe.territory)
    time_sel = parse_period(period)
    by_time = next((d for d in by if d in TIME_DIMS), None)
    selection = None
    cube_filters = dict(filters)
    if time_sel:
        tdim, tvalue = time_sel
        if by_time:
            if time_value(_sample_value(by_time), by_time, tdim) is None and tdim != by_time:
                raise Invalid(_("The period cannot be finer than the period dimension."),
                              field_errors={"period": _("Invalid period.")})
            selection = (by_time, tdim, tvalue)
        else:
            cube_filters[tdim] = tvalue
    dims = canonical(by + tuple(cube_filters))
    if len(dims) > MAX_DIMS:
        raise Invalid(_("Too many filters: use at most %(n)s dimensions in all.", n=MAX_DIMS),
                      field_errors={"by": _("Too many dimensions.")})
    cube = engine.cube(dims)
    hidden = engine.suppressed(dims)
    table = Table(by=by, filters=filters, period=time_sel[1] if time_sel else None, k=engine.k,
                  unit=engine.universe.unit)
    for key in sorted(cube):
        values = dict(zip(dims, key, strict=True))
        if any(values[d] != v for d, v in cube_filters.items()):
            continue
        if selection and time_value(values[selection[0]], selection[0], selection[1]) != selection[2]:
            continue
        table.rows.append(Row({d: values[d] for d in by}, cube[key], key in hidden))
    total_filters = dict(cube_filters)
    if selection:
        total_filters[selection[1]] = selection[2]
    tdims = canonical(tuple(total_filters))
    tkey = tuple(total_filters[d] for d in tdims)
    table.total, table.total_suppressed = engine.cell(tdims, tkey)
    return table


def add_margins(engine: Engine, table: Table) -> None:
    """Row and column totals of a two-dimensional table, each with the status it has in its own query."""
    if len(table.by) != 2:
        return
    period = parse_period(table.period) if table.period else None
    for dim in table.by:
        for value in sorted({r.values[dim] for r in table.rows}):
            fixed = {**table.filters, dim: value}
            if period and dim not in TIME_DIMS:
                fixed[period[0]] = period[1]
            dims = canonical(tuple(fixed))
            table.margins[(dim, value)] = engine.cell(dims, tuple(fixed[d] for d in dims))


def value_label(dim: str, value: str) -> str:
    """A dimension's value as screens and files show it: a label of the catalogue, a period in words, a purpose or
    an entity by name, a country by name; a missing value ("unknown") has a label of its own."""
    if dim in VALUE_GROUPS:
        group = VALUE_GROUPS[dim]
        if value == UNKNOWN_VALUE and group != "nationality" and value not in LABELS[group]:
            return label("stats_missing", value)
        return label(group, value)
    if dim in TIME_DIMS:
        return _period_label(dim, value)
    if dim == "exploitation_purpose":
        if value == UNKNOWN_VALUE:
            return label("stats_missing", value)
        column = ExploitationPurpose.label_en if _english() else ExploitationPurpose.label_es
        row = db.session.scalar(select(column).where(ExploitationPurpose.code == value).limit(1))
        return row or value
    if dim == "entity":
        name = db.session.scalar(select(Entity.name).where(Entity.code == value))
        return f"{value} — {name}" if name else value
    return value


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def _period_label(dim: str, value: str) -> str:
    """'2025-S1' as "2025, half-year 1", '2025-03' as the month's name: a period code is not shown as such."""
    year, _sep, rest = value.partition("-")
    if not rest or not year.isdigit():
        return value
    if dim == "month" and rest.isdigit():
        return format_date(date(int(year), int(rest), 1), "MMMM y")
    n = rest[1:]
    if not n.isdigit():
        return value
    if dim == "semester":
        return _("%(year)s, half-year %(n)s", year=year, n=n)
    if dim == "bimester":
        return _("%(year)s, two-month period %(n)s", year=year, n=n)
    if dim == "quarter":
        return _("%(year)s, quarter %(n)s", year=year, n=n)
    return value


@reads.logged("stats_cases")
def cases_table(actor, by, *, filters=None, period=None, unit: str = "cases", basis: str = "identified") -> Table:
    if unit not in UNITS:
        raise Invalid(_("Count cases or victims."), field_errors={"unit": _("Invalid unit.")})
    if basis not in ("identified", "linked"):
        raise Invalid(_("Count by identification or linking date."), field_errors={"basis": _("Invalid basis.")})
    engine = Engine(Universe(unit=unit, basis=basis, territory=viewer_territory(actor)))
    table = query(actor, by, filters=filters, period=period, engine=engine)
    add_margins(engine, table)
    return table


def product_universe(formula: str, start: date, end: date, territory: str) -> Universe | None:
    """The rows behind a computed product of `territory` (its policy's), for its (suppressed) breakdowns; its total
    is the official figure."""

    if formula == "women_linked":
        return Universe(name=f"women_linked:{territory}:{start}:{end}", unit="victims", basis="linked",
                        conditions=tuple(women_linked_conditions(start, end)), official_total=True,
                        territory=territory)
    if formula == "victims_attended":
        from sqlalchemy import exists


        done = exists().where(AssistanceStep.case_id == Case.id, AssistanceStep.status == "done",
                              AssistanceStep.done_on >= start, AssistanceStep.done_on <= end)
        return Universe(name=f"victims_attended:{territory}:{start}:{end}", unit="victims", basis="identified",
                        conditions=(done,), official_total=True, territory=territory)
    return None


@reads.logged("breakdowns")
def breakdown_tables(actor, universe: Universe, dims) -> list[Table]:
    """A product's one-dimension breakdowns, their cubes and the total counted in one statement."""
    require_inside(actor, universe.territory)
    engine = Engine(universe)
    engine.prefetch([()] + [(dim,) for dim in dims])
    return [query(actor, dim, engine=engine, check=False) for dim in dims]


@reads.logged("breakdown")
def breakdown(actor, formula: str, start: date, end: date, dim: str, territory: str | None = None) -> Table | None:
    """One breakdown of a formula's rows in `territory` (the reader's own by default)."""
    universe = product_universe(formula, start, end, territory or viewer_territory(actor))
    if universe is None:
        return None
    return query(actor, dim, universe=universe)


def log_export(actor, what: str, detail: dict) -> None:
    audit.record("stats.export", object_type="report", object_ref=what, detail=detail, actor=actor)
