"""Tables of anonymised counts read from the protected publication, with their margins, for screens, exports and
the API.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import g, has_request_context
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS, label
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.route import StepKind
from caseapp.services.indicators import publication, reads
from caseapp.services.indicators.dimensions import (
    DEPARTMENT_DIMS,
    DIMENSIONS,
    NATIONAL_DEPARTMENT,
    TIME_DIMS,
    UNITS,
    UNKNOWN_VALUE,
    VALUE_GROUPS,
    YEAR_ALONE_DIMS,
    _sample_value,
    canonical,
    dimensions_of,
    get_k,
    time_value,
)
from caseapp.services.indicators.formulas import FORMULAS, row_sources
from caseapp.services.indicators.publication.tables import published
from caseapp.services.indicators.scope import require_inside, viewer_territory
from caseapp.services.primitives import ascii_digits

# A suppressed count is shown as this neutral mark (with a legend saying why), never as "<k", which a count of 17
# held back to protect another cell would make false.
RESERVED = _l("reserved")


@dataclass
class Row:
    values: dict[str, str]
    count: int | None  # None: suppressed ("reservado")
    suppressed: bool


@dataclass
class Table:
    by: tuple[str, ...]
    filters: dict[str, str]
    period: str | None
    k: int
    rows: list[Row] = field(default_factory=list)
    total: int | None = 0
    total_suppressed: bool = False
    unit: str = "cases"
    margins: dict = field(default_factory=dict)  # (dim, value) -> (count, suppressed), for two dimensions
    cut_off: date | None = None  # the data counted: up to this day (the last closed month's end)
    built_at: object = None

    def shown(self, count, suppressed: bool):
        """A count as screens show it: a suppressed one is the neutral mark, never a bound it might break."""
        return str(RESERVED) if suppressed else count

    def as_json(self) -> dict:
        return {
            "rows": [{**r.values, "count": None if r.suppressed else r.count, "suppressed": r.suppressed}
                     for r in self.rows],
            "total": None if self.total_suppressed else self.total,
            "total_suppressed": self.total_suppressed,
            "k": self.k,
            "data_as_of": self.cut_off.isoformat() if self.cut_off else None,
        }


def parse_period(text: str | None) -> tuple[str, str] | None:
    """'2025' year, '2025-S1' half-year, '2025-B3' two months, '2025-Q2' quarter, '2025-03' month."""
    if text in (None, ""):
        return None
    text = str(text).strip().upper()
    try:
        if len(text) == 4 and ascii_digits(text):
            return "year", text
        year, rest = text.split("-", 1)
        if not (len(year) == 4 and ascii_digits(year)):
            raise ValueError(text)
        if rest[:1] in ("Q", "T") and rest[1:] in ("1", "2", "3", "4"):
            return "quarter", f"{year}-Q{rest[1:]}"
        if rest[:1] == "S" and rest[1:] in ("1", "2"):
            return "semester", f"{year}-S{rest[1:]}"
        if rest[:1] == "B" and rest[1:] in ("1", "2", "3", "4", "5", "6"):
            return "bimester", f"{year}-B{rest[1:]}"
        if ascii_digits(rest) and 1 <= int(rest) <= 12:
            return "month", f"{year}-{int(rest):02d}"
    except ValueError:
        pass
    raise Invalid(_("The period must be a year (2025), a half-year (2025-S1), a two-month period (2025-B3), "
                    "a quarter (2025-Q2) or a month (2025-03)."),
                  field_errors={"period": _("Invalid period.")})



def parse_by(text, dimensions=DIMENSIONS) -> tuple[str, ...]:
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else (text or [])) if t and t.strip()]
    if not items or len(items) > 2 or len(set(items)) != len(items) or any(i not in dimensions for i in items):
        raise Invalid(_("Choose one or two dimensions among: %(dims)s.", dims=", ".join(dimensions)),
                      field_errors={"by": _("Invalid dimension.")})
    if sum(i in TIME_DIMS for i in items) > 1:
        raise Invalid(_("Choose at most one period dimension (year, quarter or month)."),
                      field_errors={"by": _("Invalid dimension.")})
    return tuple(items)


@reads.logged("stats_query")
def query(actor, by, *, filters: dict | None = None, period: str | None = None, base: str = "identified",
          unit: str = "cases", check: bool = True) -> Table:
    """One or two dimensions (a period level counts as one), optional filters and a period, read from the reader's
    territory's publication. Only its tables exist: every dimension of the base alone and by each period level, and
    pairs of dimensions over a year."""
    if check:
        authz.require(actor, "stats.read")
    dimensions = dimensions_of(base)
    by = parse_by(by, dimensions)
    filters = {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")}
    for key in filters:
        if key not in dimensions or key in TIME_DIMS or key in by:
            raise Invalid(_("You cannot filter by that dimension here."), field_errors={key: _("Invalid filter.")})
    territory = viewer_territory(actor)
    require_inside(actor, territory)
    time_sel = parse_period(period)
    by_time = next((d for d in by if d in TIME_DIMS), None)
    if by_time and time_sel and time_sel[0] != by_time and \
            time_value(_sample_value(by_time), by_time, time_sel[0]) is None:
        raise Invalid(_("The period cannot be finer than the period dimension."),
                      field_errors={"period": _("Invalid period.")})
    level = by_time or (time_sel[0] if time_sel else "year")
    dims = canonical(tuple(d for d in by if d not in TIME_DIMS) + tuple(filters))
    if any(d in YEAR_ALONE_DIMS for d in dims) and not published(dims, level, YEAR_ALONE_DIMS):
        raise Invalid(_("The places (departments, country of destination) and the recruitment method are "
                        "published over a year and by themselves: choose a year and no other dimension or filter."),
                      field_errors={"by": _("Not published by place.")})
    if not published(dims, level, YEAR_ALONE_DIMS):
        raise Invalid(_("That combination is not published: two dimensions are counted over a year, one dimension "
                        "by any period. Remove a filter or choose a year."),
                      field_errors={"by": _("Too many dimensions.")})
    if time_sel:
        years = [int(time_sel[1][:4])]
    elif by_time:
        years = _years_with_data(territory)
    else:
        years = [publication.current_cut_off().year]
    table = Table(by=by, filters=filters, period=time_sel[1] if time_sel else (None if by_time else str(years[0])),
                  k=get_k(), unit=unit)
    total, total_hidden = 0, False
    for year in years:
        pub = publication.publication(territory, year)
        if pub is None:
            continue
        table.k, table.cut_off, table.built_at = pub.k, pub.cut_off, pub.built_at
        for (per, key), value in sorted(publication.cells(pub, base, level, dims).items()):
            values = dict(zip(dims, key, strict=True))
            if any(values[d] != v for d, v in filters.items()):
                continue
            if time_sel and (time_value(per, level, time_sel[0]) if by_time else per) != time_sel[1]:
                continue
            if by_time:
                values[by_time] = per
            table.rows.append(Row({d: values[d] for d in by}, value, value is None))
        fdims = canonical(tuple(filters))
        t_level, t_period = (time_sel if time_sel else ("year", str(year)))
        count, hidden = publication.cell(pub, base, t_level, t_period, fdims, tuple(filters[d] for d in fdims))
        total += count
        total_hidden |= hidden
    table.rows.sort(key=lambda r: tuple(_sort_key(d, r.values[d]) for d in by))
    table.total, table.total_suppressed = (None, True) if total_hidden else (total, False)
    return table


def _years_with_data(territory: str) -> list[int]:
    return publication.years_from(publication.first_case_year(territory))


def _sort_key(dim: str, value: str):
    """Periods in time order, age groups by age, other values by their labels."""
    if dim in TIME_DIMS:
        return (0, value)
    if dim == "age_group":
        order = list(LABELS["age_group"])
        return (0, order.index(value) if value in order else len(order))
    if value == UNKNOWN_VALUE:
        return (1, "")
    return (0, str(value_label(dim, value)).casefold())


def add_margins(table: Table, base: str = "identified", actor=None) -> None:
    """Row and column totals of a two-dimensional table, as published."""
    if len(table.by) != 2 or actor is None:
        return
    territory = viewer_territory(actor)
    time_sel = parse_period(table.period) if table.period else None
    read: dict[tuple, dict] = {}  # each margin table read once, whatever the number of rows shown

    def margin(level: str, period: str, fdims: tuple, key: tuple) -> tuple[int, bool]:
        if not period[:4].isdigit():
            return 0, False
        group = (int(period[:4]), level, fdims)
        if group not in read:
            read[group] = publication.cells(publication.publication(territory, group[0]), base, level, fdims)
        if (period, key) not in read[group]:
            return 0, False
        value = read[group][(period, key)]
        return (0, True) if value is None else (value, False)

    for dim in table.by:
        other = next(d for d in table.by if d != dim)
        for value in sorted({r.values[dim] for r in table.rows}):
            fixed = {**table.filters}
            if dim in TIME_DIMS:
                level, period = dim, value
            else:
                fixed[dim] = value
                if other in TIME_DIMS and not time_sel:
                    continue  # a value over every year is not published: no margin shown
                if other in TIME_DIMS:
                    level, period = time_sel
                else:
                    level, period = ("year", table.period or "")
            fdims = canonical(tuple(fixed))
            count, hidden = margin(level, period, fdims, tuple(fixed[d] for d in fdims))
            table.margins[(dim, value)] = (None if hidden else count, hidden)


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
    if dim in DEPARTMENT_DIMS or dim == "department":
        if value == NATIONAL_DEPARTMENT:
            return _("National entities")
        return territories.name(value) or label("stats_missing", UNKNOWN_VALUE)
    if dim == "step_kind":
        return step_kind_labels().get(value, value)
    if dim == "exploitation_purpose":
        if value == UNKNOWN_VALUE:
            return label("stats_missing", value)
        column = ExploitationPurpose.label_en if _english() else ExploitationPurpose.label_es
        row = db.session.scalar(select(column).where(ExploitationPurpose.code == value).limit(1))
        return row or value
    if dim in ("entity", "provider_entity"):
        if value in ("none", UNKNOWN_VALUE):
            return label("stats_missing", UNKNOWN_VALUE) if value == UNKNOWN_VALUE else str(_("None"))
        name = db.session.scalar(select(Entity.name).where(Entity.code == value))
        return f"{value} — {name}" if name else value
    return value


def step_kind_labels() -> dict[str, str]:
    """Every kind of step's label in the current language, read once per request (one statement for a whole
    table)."""
    if has_request_context() and "_step_kind_labels" in g:
        return g._step_kind_labels
    column = StepKind.label_en if _english() else StepKind.label_es
    found = dict(db.session.execute(select(StepKind.code, column)).all())
    if has_request_context():
        g._step_kind_labels = found
    return found


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
    base = basis if unit == "cases" else f"{basis}:victims"
    table = query(actor, by, filters=filters, period=period, base=base, unit=unit)
    add_margins(table, base, actor)
    return table


def product_base(product) -> str | None:
    """The publication's base of a computed product's rows (None for a value entered by hand or a share)."""
    if product.formula == "manual":
        return None
    sources = row_sources(product, FORMULAS[product.formula])
    return f"product:{product.id}" if [s for s, _rows in sources if s == ""] else None


@reads.logged("breakdowns")
def breakdown_tables(actor, product, dims, year: int) -> list[Table]:
    """A product's one-dimension breakdowns for a year, as published in the reader's territory."""
    base = product_base(product)
    if base is None:
        return []
    return [query(actor, dim, period=str(year), base=base, unit="victims") for dim in dims]


def log_export(actor, what: str, detail: dict) -> None:
    audit.record("stats.export", object_type="report", object_ref=what, detail=detail, actor=actor)
