"""What earlier releases of a year already published, and how the next release is protected against it.

A publication is replaced at every release (each month's end, or on change), but a reader may keep every release
and subtract one from the next: the year's total went from 12 to 13, so the one woman of May is read although May's
cell is suppressed. Every value a release published is therefore kept (`ReleasedValue`) and the audit takes each as
known to the reader (`audit.targets` and `audit._rows`):

- a cell whose value now differs from a value already published by 1 to k-1 is suppressed like a small cell (the
  difference is the few who entered it, or left it, between the two releases) - an official figure too: it is
  published as is only while it has not moved;
- a published value is a lower bound a reader may rely on where the data agrees with it (a count that grew since is
  at least what was published - counts of a year mostly grow), so an earlier figure cannot serve as the complement
  of a suppressed one. A cell already out at today's value is never suppressed (unless small under a raised k), so
  a cell out before and suppressed now has changed: with growth, its bound is one more than the value out. That a
  count shrank is not something a reader can assume, and is not modelled as a bound;
- a sum of suppressed cells a release gave away (a line's published margin minus its published cells: "PE and VE
  together, 19") is kept too (`ReleasedSum`) and treated the same way: if the same cells now add up to 1 to k-1
  more or less, their sum must not be read whole again;
- what no suppression can widen any more (a target narrow with everything suppressed but the official figures and
  the cells out at today's value) is left out of the rounds (protect.py), instead of hiding the whole publication.

Not modelled: what a reader derives from an earlier release beyond one line (its suppressed cells' relations over
several lines), and a cell that fell to 0 (it is not stored, so a reader sees it go: a count cannot hide a zero).
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from caseapp.extensions import db
from caseapp.models.publication import Publication, PublishedCell, ReleasedSum, ReleasedValue
from caseapp.services.indicators.publication.tables import BaseTables, from_stored, stored

Known = dict  # base name -> {cell: sorted tuple of values published}


def known_values(territory: str, year: int) -> Known:
    """Every value published so far for the year's cells, by base and cell."""
    known: Known = {}
    rows = db.session.execute(select(ReleasedValue.base, ReleasedValue.time, ReleasedValue.period,
                                     ReleasedValue.dims, ReleasedValue.key, ReleasedValue.value)
                              .where(ReleasedValue.territory == territory, ReleasedValue.year == year))
    for base, time, period, dims, key, value in rows:
        cells = known.setdefault(base, {})
        cell = from_stored(time, period, dims, key)
        cells[cell] = tuple(sorted({*cells.get(cell, ()), value}))
    return known


def last_hidden(territory: str, year: int) -> dict:
    """The cells the release being replaced suppressed, by base: partners taken among them first cost the reader
    nothing new (and keep one release like the last)."""
    hidden: dict = {}
    rows = db.session.execute(select(PublishedCell.base, PublishedCell.time, PublishedCell.period, PublishedCell.dims,
                                     PublishedCell.key)
                              .join(Publication, Publication.id == PublishedCell.publication_id)
                              .where(Publication.territory == territory, Publication.year == year,
                                     PublishedCell.value.is_(None)))
    for base, time, period, dims, key in rows:
        hidden.setdefault(base, set()).add(from_stored(time, period, dims, key))
    return hidden


def keep(territory: str, year: int, rows: list[dict], known: Known) -> int:
    """Keep the values a new release publishes that no earlier release did (in the caller's transaction)."""
    new = []
    for row in rows:
        if row["value"] is None:
            continue
        cell = from_stored(row["time"], row["period"], row["dims"], row["key"])
        if row["value"] in known.get(row["base"], {}).get(cell, ()):
            continue
        new.append({"territory": territory, "year": year, "base": row["base"], "time": row["time"],
                    "period": row["period"], "dims": row["dims"], "key": row["key"], "value": row["value"]})
    if new:
        _insert_new(ReleasedValue, new)
    return len(new)


def _insert_new(model, rows: list[dict]) -> None:
    # a value another build kept meanwhile (the command line while a server counts) is kept once
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.engine.dialect.name]
    db.session.execute(dialect.insert(model.__table__).on_conflict_do_nothing(), rows)


def known_sums(territory: str, year: int) -> dict:
    """The sums of suppressed cells earlier releases gave away: base -> [(cells, values published)]."""
    found: dict = {}
    rows = db.session.execute(select(ReleasedSum.base, ReleasedSum.members, ReleasedSum.value)
                              .where(ReleasedSum.territory == territory, ReleasedSum.year == year))
    for base, members, value in rows:
        group = tuple(from_stored(*m) for m in json.loads(members))
        found.setdefault(base, {}).setdefault(group, set()).add(value)
    return {base: [(group, tuple(sorted(values))) for group, values in groups.items()]
            for base, groups in found.items()}


def sums_given_away(base: BaseTables, hidden: set) -> list[tuple[tuple, int]]:
    """The sums a release of `base` gives away: on each line with its margin published, the suppressed cells add up
    to the margin minus the published ones."""
    found = []
    for line in base.lines:
        if line.kind != "eq" or line.margin in hidden:
            continue
        group = tuple(sorted(c for c in line.children if c in hidden))
        if len(group) < 2:
            continue
        value = base.cells.get(line.margin, 0) - sum(base.cells[c] for c in line.children if c not in hidden)
        found.append((group, value))
    return found


def keep_sums(territory: str, year: int, given: dict, known: dict) -> int:
    """Keep the sums a new release gives away (`given`: base -> [(cells, value)]) that no earlier release did."""
    new, seen = [], set()
    for base, groups in given.items():
        before = {(g, v) for g, values in known.get(base, ()) for v in values}
        for group, value in groups:
            if (group, value) in before:
                continue
            members = json.dumps([stored(c) for c in group], separators=(",", ":"))
            digest = hashlib.sha256(members.encode()).hexdigest()
            if (base, digest, value) in seen:
                continue
            seen.add((base, digest, value))
            new.append({"territory": territory, "year": year, "base": base, "members": members,
                        "members_hash": digest, "value": value})
    if new:
        _insert_new(ReleasedSum, new)
    return len(new)


def moved(base: BaseTables, known: Known, k: int) -> set:
    """The cells of `base` 1 to k-1 away from a value an earlier release published (official figures included):
    suppressed like small cells (protect.py), and targets of the audit (audit.targets)."""
    released = known.get(base.name, {})
    return {c for c, n in base.cells.items() if c in released and delta_is_small(n, released[c], k)}


def delta_is_small(count: int, published: tuple, k: int) -> bool:
    """Whether a cell now holding `count` differs from a value already published by 1 to k-1."""
    return any(0 < abs(count - v) < k for v in published)


def floor_of(count: int, published: tuple) -> int | None:
    """The highest value already published at or below `count`: the lower bound a reader may rely on."""
    return max((v for v in published if v <= count), default=None)
