"""What a publication holds, in pure Python: the tables of one base (a set of counted rows, "records") and the
linear relations between their cells that anybody can rely on to combine published figures.

A record is one counted unit (a case, or a distinct woman at her first qualifying date of the year) with the date
that places it in a month and its value in every dimension (a tuple for a dimension where a unit may have several
values: purposes of exploitation, provider entities).

Tables of a base, for one year: every time level (year, semester, two-month period, quarter, month) alone and by
each dimension; at the year level, every pair of dimensions; and the cumulative year-to-date total at each month's
end ("ytd", what a product's progress at a cut-off date reads). A dimension published over a year alone
(`year_alone`: the places) has its one table by year and no other (`published`, the one rule the readers ask too). A cell is identified by
(time level, period, dimensions, values); a cell that is not in `cells` holds 0.

Relations (`lines`): the cells of a line add up to its margin (a month's cells to the quarter's and to the
two-month period's, the values of a dimension to the table without it); for a dimension with several values per
unit the line is only bounded: each cell is at most the margin and the cells add up to at least it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import combinations, product

TIME_LEVELS = ("year", "semester", "bimester", "quarter", "month")
# a finer level and the coarser ones it adds up to
TIME_PARENT = {"month": ("quarter", "bimester"), "quarter": ("semester",), "semester": ("year",),
               "bimester": ("year",)}
YTD = "ytd"


def period_of(on: date, level: str) -> str:
    y, m = on.year, on.month
    return {
        "year": f"{y}",
        "semester": f"{y}-S{(m + 5) // 6}",
        "bimester": f"{y}-B{(m + 1) // 2}",
        "quarter": f"{y}-Q{(m + 2) // 3}",
        "month": f"{y}-{m:02d}",
    }[level]


def parent_period(period: str, level: str, parent: str) -> str:
    year, _sep, rest = period.partition("-")
    if parent == "year":
        return year
    n = int(rest[1:]) if level != "month" else int(rest)
    if level == "month":
        return {"quarter": f"{year}-Q{(n + 2) // 3}", "bimester": f"{year}-B{(n + 1) // 2}",
                "semester": f"{year}-S{(n + 5) // 6}"}[parent]
    if level == "quarter" and parent == "semester":
        return f"{year}-S{(n + 1) // 2}"
    raise ValueError((period, level, parent))


Cell = tuple  # (time level, period, dims tuple, values tuple)


def stored(cell: Cell) -> tuple[str, str, str, str]:
    """A cell as `PublishedCell` stores it: time, period, its dimensions comma-separated, their values "|"-separated."""
    level, period, dims, values = cell
    return level, period, ",".join(dims), "|".join(values)


def from_stored(time: str, period: str, dims: str, key: str) -> Cell:
    """The cell of a stored row (`stored`, read back)."""
    names = tuple(dims.split(",")) if dims else ()
    return (time, period, names, tuple(key.split("|")) if names else ())


@dataclass(frozen=True)
class Record:
    on: date
    values: dict  # dim -> str, or tuple of str for a dimension with several values
    weight: int = 1  # how many units of the same month and values it stands for (events counted in bulk)


@dataclass
class Line:
    """Cells adding up to `margin` ("eq"), or each at most it and all together at least it ("ge")."""

    children: list
    margin: Cell
    kind: str = "eq"


@dataclass
class BaseTables:
    name: str
    dims: tuple[str, ...]
    multi: frozenset
    cells: dict = field(default_factory=dict)  # Cell -> count (> 0)
    lines: list = field(default_factory=list)
    official: set = field(default_factory=set)  # cells published as they are (a product's closed-year total)
    # Bases whose same cell bounds this one's: (name, always). `always`: its rows are among theirs (a product's women
    # among the linked cases); otherwise a relation a reader may assume (the cases linked in a period were
    # identified in it), used where the data satisfies it - a true relation can only narrow what is derived.
    subset_of: list = field(default_factory=list)
    ytd: bool = False  # has the year-to-date totals


def published(dims: tuple[str, ...], level: str, year_alone=frozenset()) -> bool:
    """Whether a base has the table by `dims` at time `level`: one dimension by any period, two over a year; a
    dimension in `year_alone` only by itself over a year."""
    if len(dims) > 2 or (len(dims) == 2 and level != "year"):
        return False
    return not (set(dims) & set(year_alone)) or (len(dims) == 1 and level == "year")


def _values(record: Record, dim: str, multi) -> tuple:
    value = record.values.get(dim)
    if dim in multi:
        return tuple(value) if value else ("unknown",)
    return ("unknown" if value in (None, "") else str(value),)


def tabulate(name: str, records, dims: tuple[str, ...], multi=frozenset(), *, last_month: int = 12,
             pairs: bool = True, ytd: bool = False, derived: dict | None = None,
             year_alone=frozenset()) -> BaseTables:
    """Count every table of the base and list the relations between its cells (the year to date at each month's
    end only for a product's progress: `ytd`)."""
    multi = frozenset(multi)
    base = BaseTables(name, tuple(dims), multi, ytd=ytd)
    cells = base.cells
    pair_dims = [p for p in combinations(dims, 2) if published(p, "year", year_alone)] if pairs else []
    by_level = {level: [d for d in dims if published((d,), level, year_alone)] for level in TIME_LEVELS}
    for record in records:
        periods = {level: period_of(record.on, level) for level in TIME_LEVELS}
        vals = {d: _values(record, d, multi) for d in dims}
        for level, period in periods.items():
            key = (level, period, (), ())
            cells[key] = cells.get(key, 0) + record.weight
            for d in by_level[level]:
                for v in vals[d]:
                    key = (level, period, (d,), (v,))
                    cells[key] = cells.get(key, 0) + record.weight
        year = periods["year"]
        for d1, d2 in pair_dims:
            for v1, v2 in product(vals[d1], vals[d2]):
                key = ("year", year, (d1, d2), (v1, v2))
                cells[key] = cells.get(key, 0) + record.weight
        for m in range(record.on.month, last_month + 1 if ytd else record.on.month):
            key = (YTD, f"{record.on.year}-{m:02d}", (), ())
            cells[key] = cells.get(key, 0) + record.weight
    base.lines = _lines(base, pair_dims) + _derived_lines(base, derived or {})
    return base


def _derived_lines(base: BaseTables, derived: dict) -> list[Line]:
    """A dimension computed from another (the phase from the status): each of its cells is the sum of the source's
    cells that map to it, so that the two are never protected as if they were unrelated."""
    lines = []
    order = {d: i for i, d in enumerate(base.dims)}
    by_key: dict[tuple, list] = {}
    for dim, (source, mapping) in derived.items():
        for cell in base.cells:
            level, period, dims, values = cell
            if source not in dims or dim in dims:
                continue
            swapped = dict(zip(dims, values, strict=True))
            swapped[dim] = mapping(swapped.pop(source))
            new_dims = tuple(sorted(swapped, key=order.__getitem__))
            margin = (level, period, new_dims, tuple(swapped[d] for d in new_dims))
            if margin in base.cells:
                by_key.setdefault(margin, []).append(cell)
    for margin, children in by_key.items():
        lines.append(Line(sorted(children), margin, "eq"))
    return sorted(lines, key=lambda ln: ln.margin)


def _lines(base: BaseTables, pair_dims) -> list[Line]:
    # one dimension: its values add up to the table without it; a time level adds up to the coarser ones
    by_margin_line: dict[tuple, list] = {}
    for cell in base.cells:
        level, period, dims, values = cell
        if level == YTD:
            continue
        if len(dims) == 1:
            kind = "ge" if dims[0] in base.multi else "eq"
            by_margin_line.setdefault(((level, period, (), ()), dims[0], kind), []).append(cell)
        elif len(dims) == 2:
            for i in range(2):
                other = 1 - i
                margin = (level, period, (dims[other],), (values[other],))
                kind = "ge" if dims[i] in base.multi else "eq"
                by_margin_line.setdefault((margin, dims[i], kind), []).append(cell)
        if len(dims) <= 1:
            for parent in TIME_PARENT.get(level, ()):
                margin = (parent, parent_period(period, level, parent), dims, values)
                by_margin_line.setdefault((margin, level, "eq"), []).append(cell)
    lines = [Line(sorted(children), margin, kind) for (margin, _axis, kind), children in by_margin_line.items()]
    # year to date: the months up to M add up to the cumulative total at M's end
    months = sorted(c for c in base.cells if c[0] == "month" and not c[2])
    for cell in base.cells:
        if cell[0] == YTD:
            upto = [m for m in months if m[1] <= cell[1]]
            lines.append(Line(upto, cell, "eq"))
    return sorted(lines, key=lambda ln: (ln.margin, ln.kind))
