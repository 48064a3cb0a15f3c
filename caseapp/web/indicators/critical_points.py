"""Seed 003's map of critical points, as a ranked bar chart: the cases of a year by department of exploitation,
read from the protected publication like every other table (a reserved count has no bar and no rank)."""
from __future__ import annotations

from flask_babel import gettext as _

from caseapp.services.indicators import stats
from caseapp.services.indicators.dimensions import UNKNOWN_VALUE
from caseapp.web.indicators import charts as ch

DIM = "exploitation_department"


def ranked(table: stats.Table) -> list[stats.Row]:
    """Published counts from the largest down, then the reserved ones and the cases with no department recorded,
    by name: a reserved count is never placed by its value."""
    def key(row):
        value = row.values[DIM]
        if row.suppressed or value == UNKNOWN_VALUE:
            return (1, value == UNKNOWN_VALUE, str(stats.value_label(DIM, value)).casefold())
        return (0, -row.count, str(stats.value_label(DIM, value)).casefold())

    return sorted(table.rows, key=key)


def critical_points(table: stats.Table | None, year: int) -> tuple[stats.Table | None, ch.Chart | None]:
    """The table (the dashboard service's `critical`) and its chart; (None, None) when the year has nothing
    published to show."""
    if table is None or not table.rows:
        return None, None
    table.rows = ranked(table)
    rows = [(stats.value_label(DIM, r.values[DIM]),
             [(None if r.suppressed else r.count, "bar-count", str(stats.RESERVED) if r.suppressed else None)])
            for r in table.rows]
    chart = ch.hbars("critical-points", _("Critical points %(year)s: cases by department of exploitation",
                                          year=year),
                     _("Departments ranked by the cases exploited there; reserved counts have no bar and no rank."),
                     rows)
    return table, chart
