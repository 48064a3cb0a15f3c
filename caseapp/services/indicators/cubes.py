"""Anonymised counts of cases and victims, with disclosure control applied before anything leaves the server.

Counting
    Every count is an SQL aggregate (GROUP BY over the clear statistical columns of `cases` and `victims`); nothing is
    decrypted and no record is loaded. Only the cases owned by entities inside the universe's territory are counted
    (`scope.cases_inside`). A case with several purposes of exploitation counts once under each. Periods
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

from sqlalchemy import String, cast, func, literal, select, union_all

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, case_purposes
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.victims import Victim
from caseapp.services.indicators.dimensions import (
    TIME_DIMS,
    TIME_PARENTS,
    VICTIM_DIMS,
    Universe,
    _derive,
    _dim_expr,
    _format,
    _in_order,
    _raw_expr,
    _sample_value,
    canonical,
    get_k,
    time_value,
)
from caseapp.services.indicators.scope import cases_inside


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
        return stmt.where(*cases_inside(u.territory))

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
