"""Periods of a policy product (a year, a half-year, a quarter) and the cut-off dates and years a reader asks for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from caseapp.errors import Invalid
from caseapp.timeutil import today

# --- periods -------------------------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^\s*(\d{4})(?:\s*[-/ ]\s*([SsQqTt]?)\s*(\d)\s*([Ss]?))?\s*$")


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # annual | semiannual | quarterly
    starts_on: date
    ends_on: date

    @property
    def year(self) -> int:
        return self.starts_on.year


def _month_end(year: int, month: int) -> date:
    return (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)


def parse_period(text: str, periodicity: str | None = None) -> Period:
    """'2025' (a year), '2025-S1'/'2025-2S' (a half), '2025-Q3'/'2025-T3' (a quarter); canonical label out."""
    match = _PERIOD_RE.match(str(text or ""))
    if not match:
        raise ValueError(text)
    year = int(match.group(1))
    letter, number, suffix = (match.group(2) or "").upper(), match.group(3), (match.group(4) or "").upper()
    if not (1900 < year < 2200):
        raise ValueError(text)
    if number is None:
        kind = "annual"
    elif letter == "S" or suffix == "S" or (not letter and periodicity == "semiannual"):
        kind = "semiannual"
    elif letter in ("Q", "T") or (not letter and periodicity == "quarterly"):
        kind = "quarterly"
    else:
        raise ValueError(text)
    if kind == "annual":
        return Period(str(year), kind, date(year, 1, 1), date(year, 12, 31))
    n = int(number)
    if kind == "semiannual":
        if n not in (1, 2):
            raise ValueError(text)
        first = 1 + 6 * (n - 1)
        return Period(f"{year}-S{n}", kind, date(year, first, 1), _month_end(year, first + 5))
    if n not in (1, 2, 3, 4):
        raise ValueError(text)
    first = 1 + 3 * (n - 1)
    return Period(f"{year}-Q{n}", kind, date(year, first, 1), _month_end(year, first + 2))


def periods_of_year(year: int, periodicity: str) -> list[Period]:
    if periodicity == "semiannual":
        return [parse_period(f"{year}-S{n}") for n in (1, 2)]
    if periodicity == "quarterly":
        return [parse_period(f"{year}-Q{n}") for n in (1, 2, 3, 4)]
    return [parse_period(str(year))]


# --- SQL helpers ---------------------------------------------------------------------------------------------



def parse_as_of(text: str | None) -> date:
    if not text:
        return today()
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise Invalid(_("The cut-off date must look like 2025-06-30."), field_errors={"as_of": _("Invalid date.")}) \
            from None


def parse_year(text: str | None) -> int:
    if text in (None, ""):
        return today().year
    try:
        year = int(str(text).strip())
    except ValueError:
        raise Invalid(_("The period must be a year such as 2025."), field_errors={"period": _("Invalid year.")}) \
            from None
    if not 1900 < year < 2200:
        raise Invalid(_("The period must be a year such as 2025."), field_errors={"period": _("Invalid year.")})
    return year
