"""The one clock seam: every read of the current time in caseapp goes through this module.

Instants are stored as naive UTC; the domain's calendar (due dates, "today", working hours) is Colombia's.
Nothing here depends on the machine's time zone. Tests move the clock with time-machine (see tests/conftest.py),
which this module reads like any other caller, so no test patches a module's `today`.
"""
from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BOGOTA = ZoneInfo("America/Bogota")


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column stores naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def now_local() -> datetime:
    """Now in Colombia (aware), for working hours and anything a person reads as a time of day."""
    return datetime.now(BOGOTA)


def today() -> date:
    """Today's date in Colombia (the legal calendar of the route)."""
    return now_local().date()


def epoch() -> float:
    """Seconds since the epoch (TOTP steps, short-lived login state)."""
    return time.time()


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(BOGOTA)
