"""The audit of a publication: for every small cell (1 to k-1), the range of values it may hold given everything
published is computed by linear programmes (HiGHS), and must be at least k wide.

The attacker's knowledge modelled: every published cell of the component (one base, or several linked by a subset
relation), every relation between its cells (`tables.Line`: sums of the time hierarchy and of each dimension, the
bounds of a dimension with several values per unit), the subset relation (a product's women are among the linked
cases, cell by cell) and non-negativity. The unknowns are the suppressed cells. For a small cell x the programme
finds min x and max x; the width counted is floor(max) - ceil(min) (the relaxation rounded inward, as counts are
whole numbers), required to be at least k (or the official total, when a published official total is smaller: then
nothing narrower than "between 0 and the total" may be derived).

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

from caseapp.services.indicators.publication.tables import BaseTables

EPS = 1e-6


@dataclass
class AuditResult:
    narrow: list = field(default_factory=list)  # (base name, cell, width) of small cells narrower than required
    narrowest: int | None = None  # the narrowest width found among small cells (None: no small cell)
    programmes: int = 0
    small_cells: int = 0


def _required(base: BaseTables, k: int) -> int:
    official = [base.cells.get(c, 0) for c in base.official]
    return min([k] + [v for v in official if v > 0])


def audit(bases: list[BaseTables], hidden: dict[str, set], k: int) -> AuditResult:
    """Audit one component: `bases` related by subset, `hidden[name]` the suppressed cells of each."""
    result = AuditResult()
    index: dict[tuple, int] = {}
    truth: list[float] = []
    for base in bases:
        for cell in sorted(hidden[base.name]):
            index[(base.name, cell)] = len(truth)
            truth.append(float(base.cells.get(cell, 0)))
    small = [(base, cell) for base in bases for cell in sorted(hidden[base.name])
             if 0 < base.cells.get(cell, 0) < k and cell not in base.official]
    result.small_cells = len(small)
    if not small:
        return result
    rows = _rows(bases, hidden, index)
    h = _highs()
    n = len(truth)
    h.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
    for lower, upper, cols, coefs in rows:
        h.addRow(lower, upper, len(cols), np.array(cols, dtype=np.int32), np.array(coefs, dtype=np.float64))
    seen_lo = np.array(truth)
    seen_hi = np.array(truth)
    current = None

    def solve(col: int, sense) -> float:
        nonlocal current
        if current is not None and current != col:
            h.changeColCost(current, 0.0)
        h.changeColCost(col, 1.0)
        current = col
        h.changeObjectiveSense(sense)
        h.run()
        result.programmes += 1
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return math.inf
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"publication audit: {status}")
        values = np.array(h.getSolution().col_value)
        np.minimum(seen_lo, values, out=seen_lo)
        np.maximum(seen_hi, values, out=seen_hi)
        return values[col]

    widths = []
    for base, cell in small:
        need = _required(base, k)
        col = index[(base.name, cell)]
        width = _width(seen_lo[col], seen_hi[col])
        if width < need:
            hi = solve(col, highspy.ObjSense.kMaximize)
            width = _width(seen_lo[col], hi)
            if width < need:
                width = _width(solve(col, highspy.ObjSense.kMinimize), hi)
                if width < need:
                    result.narrow.append((base.name, cell, width))
        widths.append(width)
    # the narrowest range proven (a certified cell counts with the width shown, a lower bound of its range)
    result.narrowest = min(widths)
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


def _rows(bases, hidden, index) -> list:
    """Each relation as lower <= sum(coef * unknown) <= upper, the published cells moved to the bounds."""
    rows = []
    by_name = {b.name: b for b in bases}

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
        if base.subset_of and base.subset_of in by_name:
            sup = by_name[base.subset_of]
            for cell in base.cells:
                add([(term(base, cell), 1.0), (term(sup, cell), -1.0)], -inf, 0.0)
    return rows
