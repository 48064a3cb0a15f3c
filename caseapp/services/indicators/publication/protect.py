"""Which cells of a publication are suppressed: primary, complementary by rules, then more until the audit passes.

1. Primary: every cell from 1 to k-1, and every cell 1 to k-1 away from a value an earlier release of the year
   published (releases.py), except an official total (a product's closed-year figure, published as is).
2. Rules, to a fixed point, on every line (cells adding up to a margin):
   a. a line with a suppressed cell has at least two, so none is the margin minus the published ones;
   b. with its margin published, the suppressed cells of a line add up to at least k: the difference between a
      published total and published cells - what one filter more or less reveals - is 0 or at least k;
   c. a suppressed margin has a suppressed cell in its line, or it would be the sum of the line;
   d. on a line of a dimension with several values per unit (purposes), no published cell is the published
      margin minus 1..k-1 ("cases without purpose X").
   Partners are the smallest published cells of the line, those the last release suppressed first; never one an
   earlier release published at today's value (a reader has it).
3. The audit (`audit.audit`, linear programmes over everything published), leaving out what a product's official
   figures alone give away (a breakdown with a single value equals the official total). For each small cell still narrower than
   required, the smallest published cell of each of its lines is suppressed too (or the line's margin when the
   line has none left), and the audit runs again, until no small cell is narrower than k.
"""
from __future__ import annotations

from caseapp.services.indicators.publication import releases
from caseapp.services.indicators.publication.audit import AuditResult, audit
from caseapp.services.indicators.publication.tables import BaseTables

MAX_ROUNDS = 200


def protect(bases: list[BaseTables], k: int, known: dict | None = None, last_hidden: dict | None = None,
            sums: dict | None = None) -> tuple[dict[str, set], AuditResult]:
    """The suppressed cells of each base of one component, and the final audit's figures. `known`: the values
    earlier releases of the year published (releases.known_values); `last_hidden`: the cells the release being
    replaced suppressed (partners are taken among them first); `sums`: the sums of suppressed cells earlier
    releases gave away (releases.known_sums)."""
    known = known or {}
    last_hidden = last_hidden or {}
    hidden = {}
    for b in bases:
        moved = releases.moved(b, known, k)
        # an official figure that moved since it was published (a consent withdrawn after its period closed, a late
        # registration, an erasure) is not published as is: the difference would be read
        b.official = b.official - moved
        hidden[b.name] = moved | {c for c, n in b.cells.items() if 0 < n < k and c not in b.official}
    member = {b.name: _lines_of(b) for b in bases}
    # cells an earlier release already published at today's value: hiding one hides nothing from a reader who kept
    # it, so none is taken as a partner (each stays published, at the value the reader already has)
    pinned = {b.name: {c for c, n in b.cells.items() if n in known.get(b.name, {}).get(c, ())} for b in bases}
    programmes = 0
    certified: dict = {}
    # What is given away whatever this release suppresses: the official figures (a breakdown with one value only
    # equals the official total) and the cells a reader already has from earlier releases at today's value (a
    # count already out at 5 when k is raised to 6; the unchanged cells around one that moved). Those targets are
    # left out of the rounds below: hiding more could not widen them, and would hide everything.
    forced: frozenset = frozenset()
    kept_out = {b.name: b.official | pinned[b.name] for b in bases}
    if any(kept_out.values()):
        probe = audit(bases, {b.name: {c for c in b.cells if c not in kept_out[b.name]} for b in bases}, k,
                      known=known, sums=sums)
        programmes += probe.programmes
        forced = frozenset(probe.narrow_labels)
    for _round in range(MAX_ROUNDS):
        for base in bases:
            _rules(base, hidden[base.name], k, pinned[base.name], last_hidden.get(base.name, frozenset()))
        result = audit(bases, hidden, k, skip=frozenset(certified) | forced, known=known, sums=sums)
        certified.update(result.certified)
        programmes += result.programmes
        if not result.narrow:
            # the narrowest range proven, over every target (each certified in the round it passed)
            result.programmes = programmes
            result.narrowest = min(certified.values()) if certified else None
            return hidden, result
        by_name = {b.name: b for b in bases}
        added = False
        for (name, cell, _width), label in zip(result.narrow, result.narrow_labels, strict=True):
            base = by_name[name]
            if label[0] == "release-sum" and cell not in hidden[name] and cell not in base.official:
                # a sum an earlier release gave away, moved by 1 to k-1 and published whole: one of its cells goes
                hidden[name].add(cell)
                added = True
                continue
            added |= _widen_around(base, member[name], hidden[name], cell, pinned[name],
                                   last_hidden.get(name, frozenset()))
            for sup_name, _always in base.subset_of:  # the same cell of a wider base is a bound on this one
                sup = by_name.get(sup_name)
                if sup and cell in sup.cells and cell not in hidden[sup.name] and cell not in sup.official and \
                        cell not in pinned[sup.name]:
                    hidden[sup.name].add(cell)
                    added = True
        if not added:
            break
    # Nothing left to add on the narrow cells' lines: publish nothing of these bases but their official totals and
    # what a reader already has at today's value.
    for base in bases:
        hidden[base.name] = {c for c in base.cells if c not in base.official and (
            c not in pinned[base.name] or 0 < base.cells[c] < k)}
    result = audit(bases, hidden, k, skip=frozenset(certified) | forced, known=known, sums=sums)
    result.programmes += programmes
    certified.update(result.certified)
    result.narrowest = min(certified.values()) if certified else None
    if result.narrow:
        raise RuntimeError(f"publication: the audit fails with every cell suppressed: {result.narrow[:3]}")
    return hidden, result


def _lines_of(base: BaseTables) -> dict:
    member: dict = {}
    for line in base.lines:
        for cell in line.children:
            member.setdefault(cell, []).append(line)
        member.setdefault(line.margin, []).append(line)
    return member


def _widen_around(base: BaseTables, member: dict, hidden: set, cell, pinned: frozenset = frozenset(),
                  before: frozenset = frozenset()) -> bool:
    """Suppress one more cell near a narrow one: the smallest published cell of the lines it is in (as a cell,
    then as a margin); when those are all hidden, the same on the lines of their cells, ring by ring outwards."""
    ring, seen = {cell}, {cell}
    while ring:
        # siblings on the lines it is in first, then those lines' margins, then the lines it is the margin of
        for as_margin, pick_margin in ((False, False), (False, True), (True, False)):
            best = None
            for c in sorted(ring):
                for line in member.get(c, ()):
                    if (line.margin == c) != as_margin:
                        continue
                    for x in ((line.margin,) if pick_margin else line.children):
                        if x != cell and x not in hidden and x not in base.official and base.cells.get(x, 0) > 0:
                            if x in pinned:
                                continue
                            if best is None or (x not in before, base.cells[x], x) < (
                                    best not in before, base.cells[best], best):
                                best = x
            if best is not None:
                hidden.add(best)
                return True
        ring = {x for c in ring for line in member.get(c, ()) for x in (*line.children, line.margin)} - seen
        seen |= ring
    return False


def _rules(base: BaseTables, hidden: set, k: int, pinned: frozenset = frozenset(),
           before: frozenset = frozenset()) -> None:
    cells = base.cells
    changed = True
    while changed:
        changed = False
        for line in base.lines:
            while True:
                sup = [c for c in line.children if c in hidden]
                published = sorted((c for c in line.children
                                    if c not in hidden and c not in base.official and c not in pinned),
                                   key=lambda c: (c not in before, cells[c], c))
                m_hidden = line.margin in hidden
                pick = None
                if line.kind == "ge":
                    if not m_hidden:
                        m_value = cells.get(line.margin, 0)
                        pick = next((c for c in published if 0 < m_value - cells[c] < k), None)
                    if pick is None and m_hidden and not sup and published:
                        pick = published[0]
                else:
                    need = (sup and len(sup) < 2) or (m_hidden and not sup) or \
                        (not m_hidden and sup and sum(cells[c] for c in sup) < k)
                    if need and published:
                        pick = published[0]
                    elif need and not m_hidden and line.margin not in base.official and line.margin not in pinned and \
                            len(sup) < 2:
                        # a lone suppressed cell with nothing left to pair it with: hide the margin instead
                        pick = line.margin
                if pick is None:
                    break
                hidden.add(pick)
                changed = True
