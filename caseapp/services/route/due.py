"""Due dates of the route phases from the rule table (DueRule), never from constants in code.

Immediate assistance: `immediate_days` calendar days from intake (+ its one extension, in days).
Mediate assistance: `mediate_months` calendar months from the end of the immediate phase (+ its one
extension, in months). Months are added the calendar way, clamping to the month's last day
(2023-08-31 + 6 months = 2024-02-29).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import or_, select

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.route import DueRule, PhaseExtension
from caseapp.services.primitives import commit


def add_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def add_months(start: date, months: int) -> date:
    """Calendar months with end-of-month clamping (Jan 31 + 1 month = Feb 28/29)."""
    return start + relativedelta(months=months)


def rule_in_force(on: date | None) -> DueRule | None:
    """The rule whose validity covers `on` (the latest effective_from wins if an admin left an overlap)."""
    if on is None:
        return None
    return db.session.scalar(
        select(DueRule)
        .where(DueRule.effective_from <= on, or_(DueRule.effective_to.is_(None), DueRule.effective_to >= on))
        .order_by(DueRule.effective_from.desc())
        .limit(1)
    )


@dataclass
class PhaseDates:
    rule: DueRule | None
    immediate_due_on: date | None = None
    immediate_extension: PhaseExtension | None = None
    mediate_started_on: date | None = None
    mediate_due_on: date | None = None
    mediate_extension: PhaseExtension | None = None

    def as_dict(self) -> dict:
        return {"immediate_due_on": self.immediate_due_on, "mediate_due_on": self.mediate_due_on}


def extensions_of(case) -> dict[str, PhaseExtension]:
    rows = db.session.scalars(select(PhaseExtension).where(PhaseExtension.case_id == case.id))
    return {row.phase: row for row in rows}


def phase_dates(case) -> PhaseDates:
    """Due dates of a case from the rule in force on its intake date and its recorded extensions."""
    rule = rule_in_force(case.intake_on)
    ext = extensions_of(case) if case.id is not None and rule is not None else {}
    return dates_under(rule, case.intake_on, case.immediate_closed_on, ext)


def phase_dates_of(cases, among=None) -> dict[int, PhaseDates]:
    """`phase_dates` of many cases in two statements (the rules, their extensions), for pages that list cases.

    `cases`: anything with the case's id, intake_on and immediate_closed_on (cases, or rows of those columns).
    `among`: the ids of the cases, or a select of them, which a list of thousands passes (a statement with an id
    each can exceed the database's limit of parameters)."""
    cases = list(cases)
    rules = list_rules()
    ext: dict[int, dict[str, PhaseExtension]] = {}
    ids = [c.id for c in cases if c.id is not None]
    if ids and rules:
        for row in db.session.scalars(select(PhaseExtension).where(
                PhaseExtension.case_id.in_(among if among is not None else ids))):
            ext.setdefault(row.case_id, {})[row.phase] = row
    out = {}
    for case in cases:
        rule = covering_rule(rules, case.intake_on)
        out[case.id] = dates_under(rule, case.intake_on, case.immediate_closed_on, ext.get(case.id, {}))
    return out


def covering_rule(rules: list[DueRule], on: date | None) -> DueRule | None:
    """`rule_in_force` over rules already read (the counts read them once for every case)."""
    if on is None:
        return None
    covering = [r for r in rules if r.in_force(on)]
    return max(covering, key=lambda r: r.effective_from) if covering else None


def dates_under(rule: DueRule | None, intake_on: date | None, immediate_closed_on: date | None,
                ext: dict[str, PhaseExtension]) -> PhaseDates:
    """The due dates under `rule`: the one computation every reader of due dates shares."""
    result = PhaseDates(rule=rule)
    if rule is None or intake_on is None:
        return result
    result.immediate_extension = ext.get("immediate")
    result.mediate_extension = ext.get("mediate")
    extra_days = result.immediate_extension.extra_days if result.immediate_extension else 0
    result.immediate_due_on = add_days(intake_on, rule.immediate_days + extra_days)
    if immediate_closed_on is not None:
        result.mediate_started_on = immediate_closed_on
        extra_months = result.mediate_extension.extra_months if result.mediate_extension else 0
        result.mediate_due_on = add_months(immediate_closed_on, rule.mediate_months + extra_months)
    return result


def list_rules() -> list[DueRule]:
    return list(db.session.scalars(select(DueRule).order_by(DueRule.effective_from.desc())))


def add_rule(actor, *, effective_from: date, immediate_days: int, immediate_extension_days: int,
             mediate_months: int, mediate_extension_months: int, legal_source: str) -> DueRule:
    """An admin records a new rule (e.g. the 2026 re-regulation); the rule before it ends the day before.

    Cases keep the rule in force on their intake date, so earlier cases are not recomputed.
    """
    authz.require(actor, "admin.manage")
    errors: dict = {}
    latest = db.session.scalar(select(DueRule).order_by(DueRule.effective_from.desc()).limit(1))
    if effective_from is None:
        errors["effective_from"] = _("Say from when the rule is in force.")
    elif latest is not None and effective_from <= latest.effective_from:
        errors["effective_from"] = _("A new rule must start after the current one (%(date)s).",
                                     date=latest.effective_from.strftime("%d/%m/%Y"))
    if not (legal_source or "").strip():
        errors["legal_source"] = _("Name the legal source.")
    for name, value, low, high in (("immediate_days", immediate_days, 1, 365),
                                   ("immediate_extension_days", immediate_extension_days, 0, 365),
                                   ("mediate_months", mediate_months, 1, 60),
                                   ("mediate_extension_months", mediate_extension_months, 0, 60)):
        if not isinstance(value, int) or not low <= value <= high:
            errors[name] = _("Between %(low)s and %(high)s.", low=low, high=high)
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    if latest is not None and (latest.effective_to is None or latest.effective_to >= effective_from):
        latest.effective_to = effective_from - timedelta(days=1)
    rule = DueRule(effective_from=effective_from, immediate_days=immediate_days,
                   immediate_extension_days=immediate_extension_days, mediate_months=mediate_months,
                   mediate_extension_months=mediate_extension_months, legal_source=legal_source.strip()[:300],
                   created_by_id=actor.id)
    db.session.add(rule)
    db.session.flush()
    audit.record("route.rule.create", rule, actor=actor,
                 detail={"from": effective_from.isoformat(), "immediate_days": immediate_days,
                         "mediate_months": mediate_months})
    commit()
    return rule


def due_dates(case) -> dict:
    """The phase due dates of a case from the rule in force on its intake date (for the API)."""
    return phase_dates(case).as_dict()
