"""A computed product's value over a span, as its reader's publication has it: the official figure of a closed
period, or a protected cell (the year to date at a month's end, a period, or the months added up)."""
from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from caseapp.services.indicators import formulas
from caseapp.services.indicators.publication.read import cell, publication

_LEVELS = ("semester", "bimester", "quarter", "month")


def _month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def span_cell(start: date, end: date) -> list[tuple[str, str]]:
    """The cells that add up to [start, end] (whole months of one year)."""
    year = start.year
    if start == date(year, 1, 1) and end == date(year, 12, 31):
        return [("year", str(year))]
    if start == date(year, 1, 1):
        return [("ytd", f"{year}-{end.month:02d}")]
    for level in _LEVELS:
        size = {"semester": 6, "bimester": 2, "quarter": 3, "month": 1}[level]
        if (start.month - 1) % size == 0 and end.month - start.month + 1 == size:
            n = (start.month - 1) // size + 1
            return [(level, f"{year}-{start.month:02d}" if level == "month" else f"{year}-{level[0].upper()}{n}")]
    return [("month", f"{year}-{m:02d}") for m in range(start.month, end.month + 1)]


def product_value(territory: str, product, start: date, end: date) -> tuple[Fraction | None, bool]:
    """(value, withheld). A span that is not whole months of one year, or past the publication's cut-off, is cut
    to what is published."""
    sources = dict(formulas.row_sources(product, formulas.FORMULAS[product.formula]))
    if not sources:
        return formulas.compute(product, start, end), False
    pub = publication(territory, start.year)
    if pub is None or start > pub.cut_off:
        return None, False
    end = min(end, pub.cut_off)
    if not _month_end(end):
        end = end.replace(day=1) - timedelta(days=1)
    if end < start:
        return None, False
    counts = {}
    for suffix in sources:
        total = 0
        for level, period in span_cell(start, end):
            value, hidden = cell(pub, f"product:{product.id}{suffix}", level, period)
            if hidden:
                return None, True
            total += value
        counts[suffix] = total
    if "" in counts:
        return Fraction(counts[""]), False
    if not counts.get(":den"):
        return None, False
    return Fraction(100 * counts[":num"], counts[":den"]), False


def reader_values(territory: str):
    """`value_of` for `method.evaluate`, bound to a reader's territory."""
    return lambda product, start, end: product_value(territory, product, start, end)
