"""The audit of a publication: for every small cell (1 to k-1), the range of values it may hold given everything
published is computed by linear programmes (HiGHS), and must be at least k wide.

The attacker's knowledge modelled: every published cell of the component (one base, or several linked by a subset
relation), every value earlier releases of the year published and every sum of suppressed cells they gave away
(releases.py: a lower bound where the count grew since), every relation between its cells (`tables.Line`: sums of the time hierarchy and of each dimension, the
bounds of a dimension with several values per unit), the subset relations (a product's women are among the
linked cases; the cases linked in a period are among those identified in it, wherever the data agrees) and
non-negativity. The unknowns are the suppressed cells. For a small cell x the programme
finds min x and max x; the width counted is floor(max) - ceil(min) (the relaxation rounded inward, as counts are
whole numbers), required to be at least k. A suppressed cell is shown (as "reservado") and only cells that hold
someone are stored, so an unknown is at least 1. What a product's official figures give away by themselves is left
to protect.py (`forced`).

Cost: one model per component, re-solved with a new objective from the previous basis. A small cell already seen at
two values at least k apart in earlier solutions (each one a data set consistent with everything published) is
certified without a programme of its own.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field

import highspy
import numpy as np

from caseapp.services.indicators.publication import releases
from caseapp.services.indicators.publication.tables import YTD, BaseTables

EPS = 1e-6
LARGE = 3000  # unknowns above which a component is solved by interior points


@dataclass
class AuditResult:
    narrow: list = field(default_factory=list)  # (base name, cell, width) of small cells narrower than required
    certified: dict = field(default_factory=dict)  # label -> width proven, of targets wide enough
    narrow_labels: list = field(default_factory=list)
    narrowest: int | None = None  # the narrowest width found among small cells (None: no small cell)
    programmes: int = 0
    small_cells: int = 0


def targets(bases: list[BaseTables], k: int, known: dict | None = None, sums: dict | None = None) -> list[tuple]:
    """What must stay at least k wide: every small cell, every cell 1 to k-1 away from a value an earlier release
    published (releases.py), and every small group a reader can form as the difference of two related cells - the
    rows of a base missing from the base it is among (identified but not linked, linked but not counted for the
    product: a withdrawn consent), or a margin's units without one value of a dimension with several values per
    unit (cases without purpose X). Each as (label, [(base, cell, coefficient)], truth)."""
    found = []
    for base in bases:
        moved = releases.moved(base, known or {}, k)
        for cell, count in base.cells.items():
            if 0 < count < k and cell not in base.official:
                found.append(((base.name, cell), [(base, cell, 1.0)], count))
            elif cell in moved and cell not in base.official:
                found.append((("release", base.name, cell), [(base, cell, 1.0)], count))
        for group, published in (sums or {}).get(base.name, ()):
            total = sum(base.cells.get(c, 0) for c in group)
            if releases.delta_is_small(total, published, k):
                found.append((("release-sum", base.name, group), [(base, c, 1.0) for c in group], total))
        for line in base.lines:
            if line.kind != "ge":
                continue
            margin = base.cells.get(line.margin, 0)
            for cell in line.children:
                rest = margin - base.cells[cell]
                if 0 < rest < k:
                    found.append(((base.name, line.margin, cell), [(base, cell, -1.0), (base, line.margin, 1.0)],
                                  rest))
    for base, sup, cell, always in subset_pairs(bases):
        rest = sup.cells.get(cell, 0) - base.cells[cell]
        if 0 < rest < k:
            # the cell to hide first: a product's own figure stays, the wider count gives way
            terms = [(sup, cell, 1.0), (base, cell, -1.0)] if always else [(base, cell, -1.0), (sup, cell, 1.0)]
            found.append(((base.name, cell, sup.name), terms, rest))
    return found


def subset_pairs(bases: list[BaseTables]):
    """(base, wider base, cell, always) for every cell a subset relation bounds: always for rows among the wider
    base's, else where the data agrees; a table the wider base lacks (year to date) bounds nothing."""
    by_name = {b.name: b for b in bases}
    for base in bases:
        for name, always in base.subset_of:
            sup = by_name.get(name)
            if sup is None:
                continue
            for cell, count in base.cells.items():
                if cell[0] == YTD and not sup.ytd:
                    continue
                if always or count <= sup.cells.get(cell, 0):
                    yield base, sup, cell, always


def audit(bases: list[BaseTables], hidden: dict[str, set], k: int, skip: frozenset = frozenset(),
          known: dict | None = None, sums: dict | None = None) -> AuditResult:
    """Audit one component: `bases` related by subset, `hidden[name]` the suppressed cells of each. A narrow
    target is reported by its first cell that is still published, else its first cell. Targets in `skip` were
    proven wide before more cells were suppressed (which only widens ranges) and are not solved again."""
    result = AuditResult()
    index: dict[tuple, int] = {}
    truth: list[float] = []
    for base in bases:
        for cell in sorted(hidden[base.name]):
            index[(base.name, cell)] = len(truth)
            truth.append(float(base.cells.get(cell, 0)))
    todo = targets(bases, k, known, sums)
    result.small_cells = len(todo)
    todo = [t for t in todo if t[0] not in skip]
    if not todo:
        return result
    rows = _rows(bases, hidden, index, known or {}, sums or {})
    n = len(truth)
    h = _highs()
    if n > LARGE:
        # A large component: the interior-point method, without crossover (a feasible point is all we read), is
        # several times faster here than the simplex, which wins on small ones by restarting from its last basis.
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
    # An upper bound on every unknown, far above any count of the component: it only narrows what a reader could
    # derive (so the audit is stricter, never looser), and it keeps the programmes bounded, so that one solution
    # raising many unknowns at once settles them all.
    ceiling = float(max([10 * k] + [2 * max(b.cells.values(), default=0) for b in bases]))
    if n:
        # a suppressed cell is shown (as "reservado"), and only cells that hold someone are: it is at least 1
        h.addVars(n, np.ones(n), np.full(n, ceiling))
    for lower, upper, cols, coefs in rows:
        held = sum(truth[c] * v for c, v in zip(cols, coefs, strict=True))
        if not lower - EPS <= held <= upper + EPS:  # a relation the data breaks would make the audit wrong
            raise RuntimeError("publication audit: a relation does not hold on the data")
        h.addRow(lower, upper, len(cols), np.array(cols, dtype=np.int32), np.array(coefs, dtype=np.float64))
    # What earlier solutions (each a data set consistent with everything published) showed: per unknown, its lowest
    # and highest value; per target of several unknowns, its own.
    col_lo, col_hi = np.array(truth), np.array(truth)
    tracked: list[list] = []  # [cols, const, lo, hi] of targets of several unknowns
    costs: dict[int, float] = {}

    def linear(terms):
        cols, const = {}, 0.0
        for base, cell, coef in terms:
            col = index.get((base.name, cell))
            if col is None:
                const += coef * base.cells.get(cell, 0)
            else:
                cols[col] = cols.get(col, 0.0) + coef
        return {c: v for c, v in cols.items() if v}, const

    def solve(cols: dict, const: float, sense) -> float:
        for col in list(costs):
            if col not in cols:
                h.changeColCost(col, 0.0)
                del costs[col]
        for col, coef in cols.items():
            if costs.get(col) != coef:
                h.changeColCost(col, coef)
                costs[col] = coef
        h.changeObjectiveSense(sense)
        h.run()
        if n <= LARGE:
            # Only the objective changes between solves: after the first (with presolve), restart from the last
            # basis (presolve would throw it away).
            h.setOptionValue("presolve", "off")
        result.programmes += 1
        status = h.getModelStatus()
        settled = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded)
        if status not in settled:
            h.clearSolver()  # a warm start gone wrong: solve this one from scratch
            h.run()
            status = h.getModelStatus()
        if status not in settled and n > LARGE:
            # the interior point without crossover may stop short of a proven optimum (kUnknown): the simplex decides
            h.setOptionValue("solver", "simplex")
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
            h.setOptionValue("solver", "ipm")
        if status == highspy.HighsModelStatus.kUnbounded:
            return math.inf if sense == highspy.ObjSense.kMaximize else -math.inf
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"publication audit: {status}")
        values = np.array(h.getSolution().col_value)
        np.minimum(col_lo, values, out=col_lo)
        np.maximum(col_hi, values, out=col_hi)
        for entry in tracked:
            v = float(sum(coef * values[col] for col, coef in entry[0].items())) + entry[1]
            entry[2], entry[3] = min(entry[2], v), max(entry[3], v)
        return float(sum(coef * values[col] for col, coef in cols.items())) + const

    prepared = []
    for label, terms, _truth in todo:
        cols, const = linear(terms)
        entry = None
        if len(cols) > 1:
            v = float(sum(coef * truth[col] for col, coef in cols.items())) + const
            entry = [cols, const, v, v]
            tracked.append(entry)
        prepared.append((label, terms, cols, const, k, entry))

    def seen_range(cols, const, entry):
        if entry is not None:
            return entry[2], entry[3]
        (col, coef), = cols.items()
        lo, hi = sorted((coef * col_lo[col] + const, coef * col_hi[col] + const))
        return float(lo), float(hi)

    def seen_width(cols, const, entry):
        return _width(*seen_range(cols, const, entry))

    # Batches first: raising (then lowering) all the open targets at once settles most of them with two programmes.
    open_ = [i for i, p in enumerate(prepared) if p[2] and seen_width(p[2], p[3], p[5]) < p[4]]
    rng = np.random.default_rng(len(open_))  # deterministic: the same data gives the same programmes
    for _attempt in range(40):
        if len(open_) < 4:
            break
        weights = rng.uniform(0.5, 1.5, len(open_))
        combined: dict = {}
        for w, i in zip(weights, open_, strict=True):
            for col, coef in prepared[i][2].items():
                combined[col] = combined.get(col, 0.0) + coef * w
        combined = {c: v for c, v in combined.items() if v}
        if not combined:
            break
        solve(combined, 0.0, highspy.ObjSense.kMaximize)
        solve(combined, 0.0, highspy.ObjSense.kMinimize)
        still = [i for i in open_ if seen_width(prepared[i][2], prepared[i][3], prepared[i][5]) < prepared[i][4]]
        stalled = len(still) > 0.95 * len(open_)
        open_ = still
        if stalled and _attempt:
            break
    widths = []
    for label, terms, cols, const, need, entry in prepared:
        if not cols:
            width = 0
        else:
            width = seen_width(cols, const, entry)
            if width < need:
                lo_seen = seen_range(cols, const, entry)[0]
                hi = solve(cols, const, highspy.ObjSense.kMaximize)
                width = _width(lo_seen, hi)
                if width < need:
                    width = _width(solve(cols, const, highspy.ObjSense.kMinimize), hi)
        if width < need:
            published = [(b.name, c) for b, c, _coef in terms if (b.name, c) not in index]
            result.narrow.append((*(published[0] if published else (terms[0][0].name, terms[0][1])), width))
            result.narrow_labels.append(label)
        else:
            result.certified[label] = width
        widths.append(width)
    # the narrowest range proven (a target certified by earlier solutions counts with the width seen, a lower
    # bound of its range)
    result.narrowest = min(widths) if widths else None
    return result


_quiet = False


def _highs():
    """A silent solver. HiGHS prints a banner on standard output the first time one is made in a process (it would
    break a command's JSON output): the first one is made with standard output sent to /dev/null."""
    global _quiet
    if not _quiet:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _quiet = True
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _width(lo: float, hi: float) -> int | float:
    if hi == math.inf:
        return math.inf
    return math.floor(hi + EPS) - math.ceil(lo - EPS)


def _rows(bases, hidden, index, known: dict, sums: dict) -> list:
    """Each relation as lower <= sum(coef * unknown) <= upper, the published cells moved to the bounds."""
    rows = []

    def term(base, cell):
        col = index.get((base.name, cell))
        if col is not None:
            return col, 0.0
        return None, float(base.cells.get(cell, 0))

    def add(terms, lower, upper):
        cols, coefs, const = {}, [], 0.0
        for (col, value), coef in terms:
            if col is None:
                const += coef * value
            else:
                cols[col] = cols.get(col, 0.0) + coef
        cols = {c: v for c, v in cols.items() if v}
        if not cols:
            return
        rows.append((lower - const, upper - const, list(cols), [cols[c] for c in cols]))
        del coefs

    inf = highspy.kHighsInf
    for base in bases:
        for line in base.lines:
            margin = term(base, line.margin)
            children = [term(base, c) for c in line.children]
            if line.kind == "eq":
                add([(m, 1.0) for m in children] + [(margin, -1.0)], 0.0, 0.0)
            else:
                add([(m, 1.0) for m in children] + [(margin, -1.0)], 0.0, inf)
                for child in children:
                    add([(child, 1.0), (margin, -1.0)], -inf, 0.0)
    for base, sup, cell, _always in subset_pairs(bases):
        add([(term(base, cell), 1.0), (term(sup, cell), -1.0)], -inf, 0.0)
    for base in bases:
        # the values earlier releases published: a count that grew since is at least what was published - and,
        # once suppressed, more: a cell already out at today's value is never suppressed (protect.py, unless small),
        # so a reader who sees a published cell go "reservado" knows it changed
        for cell, published in known.get(base.name, {}).items():
            if (base.name, cell) not in index:
                continue
            count = base.cells.get(cell, 0)
            below = releases.floor_of(count, published)
            if below is not None:
                add([(term(base, cell), 1.0)], float(below if count in published else below + 1), inf)
        for group, published in sums.get(base.name, ()):
            below = releases.floor_of(sum(base.cells.get(c, 0) for c in group), published)
            if below is not None:
                add([(term(base, c), 1.0) for c in group], float(below), inf)
    return rows
