"""A reader who kept every release of a year, as a linear programme: every cell of every release is an unknown, fixed
where it was published, at least 1 where it was suppressed, 0 where it was not stored; each release's own sums hold;
counts only grow from one release to the next (no erasure, no correction - the reader's best guess); and a cell
suppressed after an earlier release published it has changed (a cell already out at today's value is never
suppressed), so it is at least that value + 1. A count from 1 to k-1, or a change of one cell between two releases
by 1 to k-1, that this reader pins to one value is an exact read. (From two outside reviews of the release
protection, 2026-12-04.)

Not modelled: the bounded lines of a dimension with several values per unit, the relations between bases, counts
that shrink (a correction makes the programme infeasible: use it on data that only grows), and ranges narrower than
k that are not exact (the protection's own rule is a range at least k wide; several releases together can narrow a
suppressed cell below that without pinning it)."""
from __future__ import annotations

import math

import highspy
import numpy as np

from caseapp.services.indicators.publication.tables import BaseTables


def exact_reads(releases: list[tuple[BaseTables, dict]], k: int = 5, reserved_means_changed: bool = True) -> list[tuple]:
    """`releases`: (the true tables of a release, its published cells {cell: value or None}), oldest first.
    `reserved_means_changed`: the inference above (true of the current protection, with k unchanged)."""
    universe = sorted({c for base, _published in releases for c in base.cells})
    index = {(r, c): i for i, (r, c) in enumerate((r, c) for r in range(len(releases)) for c in universe)}
    n = len(index)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(n, np.zeros(n), np.full(n, 1e4))

    def row(terms, lo, hi):
        h.addRow(lo, hi, len(terms), np.array([t[0] for t in terms], dtype=np.int32),
                 np.array([t[1] for t in terms], dtype=np.float64))

    last_out: dict = {}  # cell -> the last value a release published
    for r, (base, published) in enumerate(releases):
        for c in universe:
            j = index[(r, c)]
            if c not in published:
                h.changeColBounds(j, 0, 0)
            elif published[c] is None:
                changed = reserved_means_changed and c in last_out
                h.changeColBounds(j, last_out[c] + 1 if changed else 1, 1e4)
            else:
                h.changeColBounds(j, published[c], published[c])
        last_out.update({c: v for c, v in published.items() if v is not None})
        for line in base.lines:
            if line.kind == "eq":
                row([(index[(r, c)], 1.0) for c in line.children] + [(index[(r, line.margin)], -1.0)], 0, 0)
        if r:
            for c in universe:
                row([(index[(r, c)], 1.0), (index[(r - 1, c)], -1.0)], 0, 1e4)

    def width(terms) -> int:
        ends = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            cost = np.zeros(n)
            for j, v in terms:
                cost[j] += v
            h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
            h.changeObjectiveSense(sense)
            h.run()
            assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            ends.append(h.getInfo().objective_function_value)
        return math.floor(ends[1] + 1e-6) - math.ceil(ends[0] - 1e-6)

    reads = []
    for r, (base, _published) in enumerate(releases):
        for c, v in base.cells.items():
            if 0 < v < k and width([(index[(r, c)], 1.0)]) == 0:
                reads.append(("cell", r, c, v))
    for r in range(len(releases)):
        for s in range(r + 1, len(releases)):
            for c in universe:
                d = releases[s][0].cells.get(c, 0) - releases[r][0].cells.get(c, 0)
                if 0 < abs(d) < k and width([(index[(s, c)], 1.0), (index[(r, c)], -1.0)]) == 0:
                    reads.append(("change", r, s, c, d))
    return reads
