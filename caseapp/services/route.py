"""The assistance route (issue 4): steps, phases, due dates from the rule table, life plan, extensions."""
from __future__ import annotations


def due_dates(case) -> dict:
    """The phase due dates of a case from the rule in force on its intake date."""
    return {"immediate_due_on": None, "mediate_due_on": None}
