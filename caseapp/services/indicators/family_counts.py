"""The coordinator's counts of family members who received assistance (indirect victims, Law 985, seed 003) and of
their assistance steps, counted apart from the direct victims: read from the territory's protected publication, where
publication/family.py counts them in bases of their own and protect.py protects them with every other table. No
product, no case count and no event count of the victims includes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from caseapp import authz
from caseapp.errors import Invalid
from caseapp.models.cases import RELATIONSHIPS
from caseapp.services.indicators import publication, reads
from caseapp.services.indicators.dimensions import FAMILY_MEMBERS, FAMILY_STEPS, FAMILY_UNITS
from caseapp.services.indicators.scope import require_inside, viewer_territory
from caseapp.services.indicators.tables import Table, add_margins, query

DIM = "relationship"


@reads.logged("stats_family")
def family_table(actor, by="relationship", *, filters=None, period=None, unit: str = "members") -> Table:
    """Family members assisted (`members`: each once, in the month of her first service of the year) or the services
    done for them (`steps`), by one or two of their dimensions, as published in the reader's territory."""
    if unit not in FAMILY_UNITS:
        raise Invalid(_("Count family members or their assistance steps."), field_errors={"unit": _("Invalid unit.")})
    base = FAMILY_UNITS[unit]
    table = query(actor, by, filters=filters, period=period, base=base, unit=unit)
    add_margins(table, base, actor)
    return table


@dataclass
class FamilyRow:
    relationship: str | None  # None: the total
    members: int | None  # None: reserved
    steps: int | None


@dataclass
class FamilySummary:
    """The dashboard's small table: family members assisted in a year and the services done for them, by relationship."""

    year: int
    k: int
    cut_off: date
    rows: list[FamilyRow] = field(default_factory=list)
    total: FamilyRow | None = None


@reads.logged("family_summary")
def family_summary(actor, year: int) -> FamilySummary | None:
    """The year's family members assisted and their steps, by relationship, in the reader's territory (None while no
    month of the year is published). One lookup of the stored cells, whatever the number of rows."""
    authz.require(actor, "stats.read")
    territory = viewer_territory(actor)
    require_inside(actor, territory)
    pub = publication.publication(territory, year)
    if pub is None:
        return None
    found = publication.period_cells(pub, (FAMILY_MEMBERS, FAMILY_STEPS), "year", str(year), [(DIM,), ()])

    def value(base, dims, values):
        return found.get((base, dims, values), 0)  # None: reserved; a cell that is not there holds 0

    shown = {values[0] for (_base, dims, values) in found if dims == (DIM,)}
    order = {code: i for i, code in enumerate(RELATIONSHIPS)}
    summary = FamilySummary(year=year, k=pub.k, cut_off=pub.cut_off)
    for code in sorted(shown, key=lambda c: (order.get(c, len(order)), c)):
        summary.rows.append(FamilyRow(code, value(FAMILY_MEMBERS, (DIM,), (code,)), value(FAMILY_STEPS, (DIM,), (code,))))
    if summary.rows:
        summary.total = FamilyRow(None, value(FAMILY_MEMBERS, (), ()), value(FAMILY_STEPS, (), ()))
    return summary
