"""Anonymised counts of cases and victims, with disclosure control applied before anything leaves the server.

Counting
    Every count is an SQL aggregate (GROUP BY over the clear statistical columns of `cases` and `victims`); nothing is
    decrypted and no record is loaded. A case with several purposes of exploitation counts once under each. Periods
    (year, quarter, month) are those of the identification date (`basis="linked"`: the linking date, linked cases
    only).

    Cost at scale (100,000 cases): counting cases without purposes is count(*) over the date's covering index (a
    period is first grouped by the stored date, read in index order, then summed); the victim and purpose tables
    are joined only when a dimension needs them; entities are grouped by id and named afterwards; the breakdowns
    of a product (distinct victims, which cannot be summed from one another) are counted in one statement over
    the product's rows selected once (`Engine.prefetch`). Cubes are kept in the order of their values, so the
    suppression below never depends on the order in which a database returns groups. Nothing is kept between
    requests: an Engine lives for one request.

Disclosure control (method)
    A query asks for one or two dimensions ("by"), optional filters on other dimensions and an optional period. It is
    always answered from the *cube* over D = by dimensions + filter dimensions (the period is a filter on its time
    dimension), computed whole and then sliced. So the same cell gets the same answer whichever way it is asked
    (`by=sex&entity=A` and `by=entity&sex=female` read the same cell of the same cube): the suppression of a cell
    depends only on the data and on D, never on the query.

    1. Primary suppression: a count from 1 to k-1 is shown as "<k" (k is the admin setting `suppression_k`,
       default 5). Zeros are shown.
    2. Margins: the cubes over D minus one dimension (for time, each coarser period a period adds up to: months to
       quarters and to two-month periods, quarters to half-years, half-years and two-month periods to years, years
       to the total) are the row and column totals of D's cube. They are published by their own queries, so they are
       protected first, recursively, down to the grand total.
    3. Complementary suppression in D's cube, to a fixed point, for every line (the cells that add up to one margin
       cell; for a time axis, the periods inside the coarser period):
       a. a line with a suppressed cell has at least two (so no cell is the total minus the published ones);
       b. when the margin is published, the suppressed cells of the line add up to at least k, so the difference
          between a published total and the published cells - which is exactly what one more or one fewer filter
          reveals - is either 0 or at least k, never a small number (the differencing attack);
       c. when the margin is itself suppressed, the line has a suppressed cell (otherwise the hidden margin would be
          the sum of the line);
       d. purposes are not a partition (a case may have several), so for them, instead of (b): a published cell is
          never a published margin minus 1..k-1 ("cases without purpose X").
       Partners are the smallest non-zero published cells of the line, avoiding a cell that is alone in another line
       (it would equal that line's published total).
    Two queries that differ by one filter are a margin and a cell of the same line, hence (b) and (d); totals of a
    row or column are margins, hence (a) and (b). Tests in tests/unit/test_stats.py attack both ways.

    A product's official total (product 3.5 per period) is published even when small; its breakdowns are not.

    Limits, said plainly: the rules block exact recovery by subtraction between published figures (totals, one
    filter more or less); they are not a full linear-programming audit, so a suppressed cell may still be bounded to
    an interval. Counting distinct victims (`unit="victims"`), a victim with cases in two cells is in both, so the
    sums are approximate there. Queries use at most four dimensions in all (by + filters + period).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, cast, func, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, Setting
from caseapp.models.cases import Case, case_purposes
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.victims import Victim

SETTING_K = "suppression_k"
DEFAULT_K = 5
MAX_DIMS = 4

TIME_DIMS = ("year", "semester", "bimester", "quarter", "month")  # coarse to fine
# Each time level and the coarser levels it adds up to (a month is inside a quarter and inside a two-month period).
TIME_PARENTS = {"month": ("quarter", "bimester"), "quarter": ("semester",), "semester": ("year",),
                "bimester": ("year",), "year": (None,)}
TIME_RANK = {"year": 0, "semester": 1, "bimester": 1, "quarter": 2, "month": 3}
DIMENSIONS = ("year", "semester", "bimester", "quarter", "month", "entity", "exploitation_purpose", "trafficking_scope", "age_group", "sex",
              "nationality", "ethnic_group", "phase", "status")
DIM_LABELS = {
    "year": _l("Year"), "semester": _l("Half-year"), "bimester": _l("Two-month period"), "quarter": _l("Quarter"), "month": _l("Month"), "entity": _l("Entity"),
    "exploitation_purpose": _l("Purpose of exploitation"), "trafficking_scope": _l("Internal or external"),
    "age_group": _l("Age group"), "sex": _l("Sex"), "nationality": _l("Nationality"),
    "ethnic_group": _l("Ethnic group"), "phase": _l("Phase"), "status": _l("Status"),
}
VALUE_LABELS = {
    "sex": {"female": _l("Female"), "male": _l("Male"), "intersex": _l("Intersex"), "unknown": _l("Unknown")},
    "trafficking_scope": {"internal": _l("Internal"), "external": _l("External")},
    "phase": {"identification": _l("Identification"), "immediate": _l("Immediate assistance"),
              "mediate": _l("Mediate assistance"), "closed": _l("Closed")},
    "status": {"identified": _l("Identified"), "in_immediate_assistance": _l("In immediate assistance"),
               "in_mediate_assistance": _l("In mediate assistance"), "closed": _l("Closed")},
    "ethnic_group": {"none": _l("None"), "afrocolombian": _l("Afro-Colombian"), "indigenous": _l("Indigenous"),
                     "raizal": _l("Raizal"), "palenquero": _l("Palenquero"), "rrom": _l("Rrom (Gypsy)"),
                     "other": _l("Other"), "unknown": _l("Unknown")},
    "age_group": {"unknown": _l("Unknown")},
    "exploitation_purpose": {"unknown": _l("Unknown")},
}
UNITS = ("cases", "victims")


# --- the threshold ---------------------------------------------------------------------------------------------


def get_k() -> int:
    row = db.session.get(Setting, SETTING_K)
    if row is None:
        return DEFAULT_K
    try:
        k = int(json.loads(row.value))
    except (ValueError, TypeError):
        return DEFAULT_K
    return k if 2 <= k <= 100 else DEFAULT_K


def setting_version() -> int | None:
    row = db.session.get(Setting, SETTING_K)
    return row.version if row else None


def set_k(actor, value, version=None) -> int:
    """An admin sets the suppression threshold k (2..100)."""
    authz.require(actor, "admin.manage")
    try:
        k = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(_("Enter a whole number between 2 and 100."),
                      field_errors={"k": _("Enter a whole number between 2 and 100.")}) from None
    if not 2 <= k <= 100:
        raise Invalid(_("Enter a whole number between 2 and 100."),
                      field_errors={"k": _("Enter a whole number between 2 and 100.")})
    row = db.session.get(Setting, SETTING_K)
    old = get_k()
    if row is None:
        db.session.add(Setting(key=SETTING_K, value=json.dumps(k)))
    else:
        if version not in (None, "") and str(row.version) != str(version):
            raise Conflict(_("Someone else changed this setting while you were editing it. Reload it and try "
                             "again; nothing was saved."))
        row.value = json.dumps(k)
    audit.record("settings.update", object_type="setting", object_ref=SETTING_K, detail={"from": old, "to": k})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise Conflict(_("Someone else changed this setting while you were editing it. Reload it and try again; "
                         "nothing was saved.")) from None
    return k


# --- SQL cubes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Universe:
    """What is counted: which rows, by which date, counting cases or distinct victims."""

    name: str = "cases"
    unit: str = "cases"
    basis: str = "identified"  # identified | linked
    conditions: tuple = ()
    official_total: bool = False

    def date_col(self):
        return Case.linked_on if self.basis == "linked" else Case.identified_on


VICTIM_DIMS = ("age_group", "sex", "nationality", "ethnic_group")


def _raw_expr(dim: str, universe: Universe):
    """The stored column a dimension is computed from (time from the date, phase from the status, entity by id)."""
    if dim in TIME_DIMS:
        return universe.date_col()
    return {
        "entity": lambda: Case.owner_entity_id,
        "exploitation_purpose": lambda: func.coalesce(ExploitationPurpose.code, "unknown"),
        "trafficking_scope": lambda: Case.trafficking_scope,
        "age_group": lambda: Victim.age_group,
        "sex": lambda: Victim.sex,
        "nationality": lambda: Victim.nationality,
        "ethnic_group": lambda: Victim.ethnic_group,
        "phase": lambda: Case.status,
        "status": lambda: Case.status,
    }[dim]()


class date_part(FunctionElement):  # noqa: N801 - SQL function style
    """The year or the month of a date column, as an integer, in every dialect we run on."""

    type = Integer()
    inherit_cache = True

    def __init__(self, part: str, column):
        if part not in ("year", "month"):
            raise ValueError(part)
        self.part = part
        super().__init__(column)


@compiles(date_part, "sqlite")
def _date_part_sqlite(element, compiler, **kw):
    # SQLAlchemy stores a Date on SQLite as 'YYYY-MM-DD' text: cutting it is much cheaper than strftime() per row.
    start, length = (1, 4) if element.part == "year" else (6, 2)
    return f"CAST(substr({compiler.process(list(element.clauses)[0], **kw)}, {start}, {length}) AS INTEGER)"


@compiles(date_part)
def _date_part_default(element, compiler, **kw):
    return f"CAST(EXTRACT({element.part.upper()} FROM {compiler.process(list(element.clauses)[0], **kw)}) AS INTEGER)"


def _derive(dim: str, raw):
    """The dimension's value from its stored column `raw` (a column of the tables or of an inner aggregate)."""
    if dim in TIME_DIMS:
        year = date_part("year", raw)
        month = date_part("month", raw)
        return {
            "year": lambda: year,
            "semester": lambda: year * 10 + (month + 5) // 6,
            "bimester": lambda: year * 10 + (month + 1) // 2,
            "quarter": lambda: year * 10 + (month + 2) // 3,
            "month": lambda: year * 100 + month,
        }[dim]()
    if dim == "phase":
        return db.case(
            (raw == "identified", "identification"),
            (raw == "in_immediate_assistance", "immediate"),
            (raw == "in_mediate_assistance", "mediate"),
            else_="closed")
    return raw


def _dim_expr(dim: str, universe: Universe):
    return _derive(dim, _raw_expr(dim, universe))


def _format(dim: str, raw) -> str:
    if raw is None:
        return "unknown"
    if dim == "year":
        return str(int(raw))
    if dim in ("quarter", "semester", "bimester"):
        raw = int(raw)
        return f"{raw // 10}-{dim[0].upper()}{raw % 10}"
    if dim == "month":
        raw = int(raw)
        return f"{raw // 100}-{raw % 100:02d}"
    return str(raw)


def time_value(value: str, dim: str, target: str) -> str | None:
    """The `target`-level period containing a `dim`-level period value (None when it is not inside one)."""
    if dim == target:
        return value
    year, _sep, rest = value.partition("-")
    if target == "year":
        return year
    if dim == "month":
        month = int(rest)
        number = {"quarter": (month + 2) // 3, "semester": (month + 5) // 6, "bimester": (month + 1) // 2}[target]
        return f"{year}-{target[0].upper()}{number}"
    if dim == "quarter" and target == "semester":
        return f"{year}-S{(int(rest[1:]) + 1) // 2}"
    return None


def _in_order(cube: dict[tuple, int]) -> dict[tuple, int]:
    """A cube's cells in the order of their values. Complementary suppression visits lines and cells in this order,
    so it must not depend on the order in which a database happens to return groups."""
    return dict(sorted(cube.items()))


def canonical(dims) -> tuple[str, ...]:
    dims = tuple(dict.fromkeys(dims))
    return tuple(sorted(dims, key=DIMENSIONS.index))


class Engine:
    """Cubes and their protection for one universe and one k, cached for the life of the object (one request)."""

    def __init__(self, universe: Universe | None = None, k: int | None = None):
        self.universe = universe or Universe()
        self.k = k or get_k()
        self._cubes: dict[tuple, dict[tuple, int]] = {}
        self._protected: dict[tuple, set[tuple]] = {}
        self._entity_codes: dict[int, str] | None = None

    # counts
    def cube(self, dims: tuple[str, ...]) -> dict[tuple, int]:
        """Counts per cell of the cube over `dims` (non-zero cells only).

        Counting cases, a coarser cube is the sum of a finer one (months add up to quarters, entities to the
        total), except over purposes (a case may have several): so one SQL aggregate at the finest time level
        serves every margin of a query, and the others are summed from it.
        """
        dims = canonical(dims)
        if dims in self._cubes:
            return self._cubes[dims]
        if self.universe.unit == "cases":
            source = self._derivable_from(dims)
            if source is None:
                finest = canonical(tuple(d for d in dims if d not in TIME_DIMS)
                                   + (("month",) if any(d in TIME_DIMS for d in dims) else ()))
                if finest != dims:
                    self._cubes[finest] = self._sql_cube(finest)
                    source = finest
            if source is not None:
                self._cubes[dims] = self._sum(source, dims)
                return self._cubes[dims]
        self._cubes[dims] = self._sql_cube(dims)
        return self._cubes[dims]

    def _derivable_from(self, dims: tuple[str, ...]) -> tuple[str, ...] | None:
        want_time = next((d for d in dims if d in TIME_DIMS), None)
        for source in self._cubes:
            if ("exploitation_purpose" in source) != ("exploitation_purpose" in dims):
                continue
            if any(d not in source for d in dims if d not in TIME_DIMS):
                continue
            have_time = next((d for d in source if d in TIME_DIMS), None)
            if want_time and (have_time is None or time_value(_sample_value(have_time), have_time, want_time) is None):
                continue
            return source
        return None

    def _sum(self, source: tuple[str, ...], dims: tuple[str, ...]) -> dict[tuple, int]:
        have_time = next((d for d in source if d in TIME_DIMS), None)
        want_time = next((d for d in dims if d in TIME_DIMS), None)
        result: dict[tuple, int] = {}
        for key, count in self._cubes[source].items():
            values = dict(zip(source, key, strict=True))
            if want_time:
                values[want_time] = time_value(values[have_time], have_time, want_time)
            out = tuple(values[d] for d in dims)
            result[out] = result.get(out, 0) + count
        return result

    def _entity_code(self, entity_id) -> str | None:
        if self._entity_codes is None:
            self._entity_codes = {row[0]: row[1] for row in db.session.execute(select(Entity.id, Entity.code))}
        return self._entity_codes.get(entity_id)

    def _key(self, dims: tuple[str, ...], raw_values) -> tuple:
        return tuple(_format(d, self._entity_code(int(v)) if d == "entity" and v is not None else v)
                     for d, v in zip(dims, raw_values, strict=True))

    def _from(self, stmt, dims, *, purposes: bool):
        """The rows counted: the universe's cases, with their victim and purposes when a dimension needs them."""
        u = self.universe
        stmt = stmt.select_from(Case)
        # Every case has its victim (a non-null foreign key), so the join only adds columns: made when needed.
        if u.conditions or any(d in VICTIM_DIMS for d in dims):
            stmt = stmt.join(Victim, Victim.id == Case.victim_id)
        if purposes:
            stmt = stmt.outerjoin(case_purposes, case_purposes.c.case_id == Case.id).outerjoin(
                ExploitationPurpose, ExploitationPurpose.id == case_purposes.c.purpose_id)
        if u.basis == "linked":
            stmt = stmt.where(Case.linked_on.is_not(None))
        if u.conditions:
            stmt = stmt.where(*u.conditions)
        return stmt

    def _sql_cube(self, dims: tuple[str, ...]) -> dict[tuple, int]:
        """One GROUP BY. Counting cases without purposes, each row is one case: count(*); and when every column is
        in the date's covering index, the rows are first grouped by the stored date (read in index order, no sort)
        and only those groups are summed into periods."""
        u = self.universe
        purposes = "exploitation_purpose" in dims
        raws = [_raw_expr(d, u) for d in dims]
        if u.unit == "victims" or purposes:
            counted = Case.victim_id if u.unit == "victims" else Case.id
            exprs = [_derive(d, r).label(f"d{i}") for i, (d, r) in enumerate(zip(dims, raws, strict=True))]
            stmt = self._from(select(*exprs, func.count(func.distinct(counted))), dims, purposes=purposes)
            if exprs:
                stmt = stmt.group_by(*exprs)
        elif any(d in TIME_DIMS for d in dims) and not any(d in VICTIM_DIMS for d in dims) and not u.conditions:
            inner = self._from(select(*[r.label(f"r{i}") for i, r in enumerate(raws)], func.count().label("n")),
                               dims, purposes=False).group_by(*raws).subquery()
            exprs = [_derive(d, inner.c[f"r{i}"]).label(f"d{i}") for i, d in enumerate(dims)]
            stmt = select(*exprs, func.sum(inner.c.n)).group_by(*exprs)
        else:
            exprs = [_derive(d, r).label(f"d{i}") for i, (d, r) in enumerate(zip(dims, raws, strict=True))]
            stmt = self._from(select(*exprs, func.count()), dims, purposes=False)
            if exprs:
                stmt = stmt.group_by(*exprs)
        result: dict[tuple, int] = {}
        for row in db.session.execute(stmt):
            count = int(row[-1] or 0)
            if count:
                key = self._key(dims, row[:-1])
                result[key] = result.get(key, 0) + count
        return _in_order(result)

    def prefetch(self, cubes) -> None:
        """Count several cubes of a small universe in one statement: its rows are selected once (a materialised
        common table expression) and grouped once per cube. For distinct victims, whose counts do not add up, so
        that no cube can be summed from another."""
        todo = list(dict.fromkeys(canonical(c) for c in cubes if canonical(c) not in self._cubes))
        if len(todo) < 2:
            return
        u = self.universe
        dims = canonical(tuple(d for c in todo for d in c))
        purposes = "exploitation_purpose" in dims
        counted = Case.victim_id if u.unit == "victims" else Case.id
        rows = self._from(select(counted.label("counted"), *[_dim_expr(d, u).label(d) for d in dims]), dims,
                          purposes=purposes).cte("counted_rows").prefix_with("MATERIALIZED")
        width = max(len(c) for c in todo)
        parts = []
        for i, cube_dims in enumerate(todo):
            values = [cast(rows.c[d], String) for d in cube_dims]
            values += [cast(literal(None), String)] * (width - len(cube_dims))
            part = select(literal(i).label("cube"), *[v.label(f"d{j}") for j, v in enumerate(values)],
                          func.count(func.distinct(rows.c.counted)).label("n"))
            if cube_dims:
                part = part.group_by(*[rows.c[d] for d in cube_dims])
            parts.append(part)
        results: list[dict[tuple, int]] = [{} for _cube in todo]
        for row in db.session.execute(union_all(*parts)):
            i, count = int(row[0]), int(row[-1] or 0)
            if count:
                cube_dims = todo[i]
                key = self._key(cube_dims, row[1:1 + len(cube_dims)])
                results[i][key] = results[i].get(key, 0) + count
        for cube_dims, result in zip(todo, results, strict=True):
            self._cubes[cube_dims] = _in_order(result)

    def total(self) -> int:
        return self.cube(()).get((), 0)

    # protection
    def _margins(self, dims: tuple[str, ...], axis: int, key: tuple) -> list[tuple[tuple[str, ...], tuple]]:
        """The margin cubes and cells of the lines through `key` along `axis` (several for a month)."""
        dim = dims[axis]
        rest_dims, rest_key = dims[:axis] + dims[axis + 1:], key[:axis] + key[axis + 1:]
        result = []
        for parent in (TIME_PARENTS[dim] if dim in TIME_DIMS else (None,)):
            if parent is None:
                result.append((rest_dims, rest_key))
                continue
            mapping = dict(zip(rest_dims, rest_key, strict=True))
            mapping[parent] = time_value(key[axis], dim, parent)
            mdims = canonical(rest_dims + (parent,))
            result.append((mdims, tuple(mapping[d] for d in mdims)))
        return result

    def suppressed(self, dims: tuple[str, ...]) -> set[tuple]:
        """The cells of the cube over `dims` that are not published (primary + complementary)."""
        dims = canonical(dims)
        if dims in self._protected:
            return self._protected[dims]
        k, cube = self.k, self.cube(dims)
        if not dims:
            hidden = {key for key, n in cube.items() if 0 < n < k and not self.universe.official_total}
            self._protected[dims] = hidden
            return hidden
        hidden = {key for key, n in cube.items() if 0 < n < k}
        # lines: (axis, line id) -> cells; with the margin cube and cell for each line
        lines: dict[tuple, list[tuple]] = {}
        margins: dict[tuple, tuple] = {}
        for key in cube:
            for axis in range(len(dims)):
                for mdims, mkey in self._margins(dims, axis, key):
                    line = (axis, mdims, mkey)
                    lines.setdefault(line, []).append(key)
                    margins[line] = (mdims, mkey)
        margin_hidden = {}
        for line, (mdims, mkey) in margins.items():
            margin_hidden[line] = mkey in self.suppressed(mdims)
        # a cell alone in a line whose total is published equals that total: never pick it as a partner
        lonely = {cells[0] for line, cells in lines.items() if len(cells) == 1 and not margin_hidden[line]}
        changed = True
        while changed:
            changed = False
            for line, cells in lines.items():
                axis, mdims, mkey = line
                purpose = dims[axis] == "exploitation_purpose"
                m_hidden = margin_hidden[line]
                m_value = self.cube(mdims).get(mkey, 0)
                while True:
                    sup = [c for c in cells if c in hidden]
                    candidates = sorted((c for c in cells if c not in hidden), key=lambda c: (cube[c], c))
                    need = False
                    pick = None
                    if sup and len(sup) < 2:
                        need = True
                    elif m_hidden and not sup:
                        need = True
                    elif not m_hidden and sup and not purpose and sum(cube[c] for c in sup) < k:
                        need = True
                    if purpose and not m_hidden:
                        for c in candidates:
                            if 0 < m_value - cube[c] < k:
                                pick = c
                                break
                    if pick is None and need and candidates:
                        preferred = [c for c in candidates if c not in lonely]
                        pick = (preferred or candidates)[0]
                    if pick is None:
                        break
                    hidden.add(pick)
                    changed = True
        self._protected[dims] = hidden
        return hidden

    def cell(self, dims: tuple[str, ...], key: tuple) -> tuple[int, bool]:
        dims = canonical(dims)
        return self.cube(dims).get(key, 0), key in self.suppressed(dims)


# --- queries ---------------------------------------------------------------------------------------------------


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


def _sample_value(dim: str) -> str:
    return {"year": "2000", "semester": "2000-S1", "bimester": "2000-B1", "quarter": "2000-Q1",
            "month": "2000-01"}[dim]


def parse_by(text) -> tuple[str, ...]:
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else (text or [])) if t and t.strip()]
    if not items or len(items) > 2 or len(set(items)) != len(items) or any(i not in DIMENSIONS for i in items):
        raise Invalid(_("Choose one or two dimensions among: %(dims)s.", dims=", ".join(DIMENSIONS)),
                      field_errors={"by": _("Invalid dimension.")})
    if sum(i in TIME_DIMS for i in items) > 1:
        raise Invalid(_("Choose at most one period dimension (year, quarter or month)."),
                      field_errors={"by": _("Invalid dimension.")})
    return tuple(items)


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
    engine = engine or Engine(universe)
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
    labels = VALUE_LABELS.get(dim, {})
    if value in labels:
        return str(labels[value])
    if dim == "exploitation_purpose":
        row = db.session.scalar(select(ExploitationPurpose.label_es).where(ExploitationPurpose.code == value).limit(1))
        return row or value
    if dim == "entity":
        name = db.session.scalar(select(Entity.name).where(Entity.code == value))
        return f"{value} — {name}" if name else value
    return value


def cases_table(actor, by, *, filters=None, period=None, unit: str = "cases", basis: str = "identified") -> Table:
    if unit not in UNITS:
        raise Invalid(_("Count cases or victims."), field_errors={"unit": _("Invalid unit.")})
    if basis not in ("identified", "linked"):
        raise Invalid(_("Count by identification or linking date."), field_errors={"basis": _("Invalid basis.")})
    engine = Engine(Universe(unit=unit, basis=basis))
    table = query(actor, by, filters=filters, period=period, engine=engine)
    add_margins(engine, table)
    return table


def product_universe(formula: str, start: date, end: date) -> Universe | None:
    """The rows behind a computed product, for its (suppressed) breakdowns; its total is the official figure."""
    from caseapp.services.indicators import women_linked_conditions

    if formula == "women_linked":
        return Universe(name=f"women_linked:{start}:{end}", unit="victims", basis="linked",
                        conditions=tuple(women_linked_conditions(start, end)), official_total=True)
    if formula == "victims_attended":
        from sqlalchemy import exists

        from caseapp.models.route import AssistanceStep

        done = exists().where(AssistanceStep.case_id == Case.id, AssistanceStep.status == "done",
                              AssistanceStep.done_on >= start, AssistanceStep.done_on <= end)
        return Universe(name=f"victims_attended:{start}:{end}", unit="victims", basis="identified",
                        conditions=(done,), official_total=True)
    return None


def breakdown_tables(actor, universe: Universe, dims) -> list[Table]:
    """A product's one-dimension breakdowns, their cubes and the total counted in one statement."""
    engine = Engine(universe)
    engine.prefetch([()] + [(dim,) for dim in dims])
    return [query(actor, dim, engine=engine, check=False) for dim in dims]


def breakdown(actor, formula: str, start: date, end: date, dim: str) -> Table | None:
    universe = product_universe(formula, start, end)
    if universe is None:
        return None
    return query(actor, dim, universe=universe)


def log_export(actor, what: str, detail: dict) -> None:
    audit.record("stats.export", object_type="report", object_ref=what, detail=detail, actor=actor)
