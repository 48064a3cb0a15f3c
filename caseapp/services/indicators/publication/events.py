"""Bases of events the committee's reports count (steps, referrals, phases, closures, legal follow-up): each a base
of the publication with its own dimensions, protected like the cases."""
from __future__ import annotations

from datetime import date

from caseapp.services.indicators.publication.tables import BaseTables


def event_bases(territory: str, start: date, cut_off: date) -> list[BaseTables]:
    """The event bases of `territory` for [start, cut_off]."""
    return []
