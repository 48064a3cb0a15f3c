"""What each formula of the registry counts, as SQL: one function per formula returning the qualifying rows.

Every rows function has the signature `(params: dict, start: date, end: date, territory: str) -> Select` and
selects exactly three labelled columns: `unit_id` (what is counted distinct: a victim, a referral or a case id),
`case_id` (the case the row belongs to, for breakdowns) and `counted_on` (the date of the qualifying event inside
[start, end], which places the row in a month). The value of a count is count(distinct unit_id) over its rows;
a share is 100 x numerator / denominator, its numerator's rows a subset of its denominator's with the same
`counted_on`, so every month of a share is a share of the same women. Some rows also depend on `end` (a consent
in force at `end`, a step done or a referral answered by `end`): those formulas are not `placeable` (formulas.py),
and a shorter period is counted with its own `end`, not by filtering a longer period's rows. Nothing here decrypts
anything.

`params` holds codes, never ids: "population" (POPULATIONS), "step_kind" (a step-kind code), "provider_entity"
(an entity code). Every rows function counts only cases owned by entities inside `territory`.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.functions import FunctionElement

from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, CaseRoute, DueRule, LegalProceeding, PhaseExtension, StepKind
from caseapp.models.victims import Victim
from caseapp.services.indicators.scope import cases_inside

FEMALE_IDENTITIES = ("woman", "trans_woman")
MIGRANT_STATUSES = ("regular_migrant", "irregular_migrant", "refugee_or_asylum")
# Self-recognised ethnic groups (DANE); "none" and "unknown" are not an ethnic group.
ETHNIC_GROUPS = ("afrocolombian", "indigenous", "raizal", "palenquero", "rrom", "other")


class date_plus_days(FunctionElement):  # noqa: N801 - SQL function style
    """date + n days, in every dialect we run on."""

    type = Date()
    inherit_cache = True


@compiles(date_plus_days, "sqlite")
def _date_plus_days_sqlite(element, compiler, **kw):
    start, days = list(element.clauses)
    return f"date({compiler.process(start, **kw)}, '+' || ({compiler.process(days, **kw)}) || ' days')"


@compiles(date_plus_days)
def _date_plus_days_default(element, compiler, **kw):
    start, days = list(element.clauses)
    return f"({compiler.process(start, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER))"


class day_of(FunctionElement):  # noqa: N801 - SQL function style
    """The calendar day of a timestamp (SQLite's CAST(x AS DATE) would give the year as a number)."""

    type = Date()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return f"date({compiler.process(list(element.clauses)[0], **kw)})"


@compiles(day_of)
def _day_of_default(element, compiler, **kw):
    return f"CAST({compiler.process(list(element.clauses)[0], **kw)} AS DATE)"


def woman_clause():
    return or_(Victim.sex == "female", Victim.gender_identity.in_(FEMALE_IDENTITIES))


# The populations the plans count (the differential approach of seed 001's product 2.2): SQL conditions on the
# victim and her case, over the clear statistical columns only.
POPULATIONS = {
    "all": lambda: [],
    "women": lambda: [woman_clause()],
    "migrants": lambda: [Victim.migrant_status.in_(MIGRANT_STATUSES)],
    "children": lambda: [Case.is_child.is_(True)],
    "ethnic_groups": lambda: [Victim.ethnic_group.in_(ETHNIC_GROUPS)],
    "lgbtiq": lambda: [Victim.lgbtiq == "yes"],
    "disability": lambda: [Victim.disability == "yes"],
}


def population(params: dict) -> list:
    return POPULATIONS[params.get("population") or "all"]()


def _consent_in_force(on: date):
    return exists().where(
        Consent.case_id == Case.id, Consent.kind == "assistance", Consent.given_on <= on,
        or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > on),
    )


def women_linked_conditions(start: date, end: date) -> list:
    """Cases counting for product 3.5: a woman, linked (vinculación) in [start, end], with an assistance consent
    in force on `end` (the period's end or the cut-off date): a withdrawn consent takes her out from that date on."""
    return [Case.linked_on.is_not(None), Case.linked_on >= start, Case.linked_on <= end, woman_clause(),
            _consent_in_force(end)]


def _step_kind_is(code: str):
    return AssistanceStep.kind_id.in_(select(StepKind.id).where(StepKind.code == code))


def _entity_is(column, code: str):
    return column.in_(select(Entity.id).where(Entity.code == code))


# --- victims ------------------------------------------------------------------------------------------------


def women_linked_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Product 3.5: women linked in the period with their assistance consent in force at `end`, by linking date."""
    return (
        select(Case.victim_id.label("unit_id"), Case.id.label("case_id"), Case.linked_on.label("counted_on"))
        .join(Victim, Victim.id == Case.victim_id)
        .where(*women_linked_conditions(start, end), *population(params), *cases_inside(territory))
    )


def steps_done_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Victims with at least one assistance step done in the period (of `step_kind`, given by `provider_entity`
    when the product says so): one row per step, counted on the day it was done."""
    conditions = [AssistanceStep.status == "done", AssistanceStep.done_on >= start, AssistanceStep.done_on <= end]
    if params.get("step_kind"):
        conditions.append(_step_kind_is(params["step_kind"]))
    if params.get("provider_entity"):
        conditions.append(_entity_is(AssistanceStep.provider_entity_id, params["provider_entity"]))
    return (
        select(Case.victim_id.label("unit_id"), Case.id.label("case_id"), AssistanceStep.done_on.label("counted_on"))
        .select_from(AssistanceStep)
        .join(Case, Case.id == AssistanceStep.case_id)
        .join(Victim, Victim.id == Case.victim_id)
        .where(*conditions, *population(params), *cases_inside(territory))
    )


def identified_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Victims identified in the period, by identification date (coverage's denominator)."""
    return (
        select(Case.victim_id.label("unit_id"), Case.id.label("case_id"), Case.identified_on.label("counted_on"))
        .join(Victim, Victim.id == Case.victim_id)
        .where(Case.identified_on >= start, Case.identified_on <= end, *population(params), *cases_inside(territory))
    )


def identified_attended_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Coverage's numerator: victims identified in the period with a step done by `end` (any kind, any provider),
    counted on the identification date, so each month's numerator is part of that month's denominator."""
    attended = exists().where(AssistanceStep.case_id == Case.id, AssistanceStep.status == "done",
                              AssistanceStep.done_on.is_not(None), AssistanceStep.done_on <= end)
    return identified_rows(params, start, end, territory).where(attended)


def women_with_complaint_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Seed 000: women accompanied by the programme (linked by `end`, assistance consent in force at `end`) whose
    criminal complaint was filed in the period, counted on the complaint date (the legal follow-up's date, or
    the one recorded when the mediate phase started)."""
    complaint_on = func.coalesce(
        select(LegalProceeding.complaint_filed_on).where(LegalProceeding.case_id == Case.id,
                                                         LegalProceeding.kind == "criminal")  # one per case
        .correlate(Case).scalar_subquery(),
        select(CaseRoute.complaint_on).where(CaseRoute.case_id == Case.id).correlate(Case).scalar_subquery(),
    )
    return (
        select(Case.victim_id.label("unit_id"), Case.id.label("case_id"), complaint_on.label("counted_on"))
        .join(Victim, Victim.id == Case.victim_id)
        .where(Case.linked_on.is_not(None), Case.linked_on <= end, woman_clause(), _consent_in_force(end),
               complaint_on >= start, complaint_on <= end, *population(params), *cases_inside(territory))
    )


# --- cases: immediate assistance within its legal term ----------------------------------------------------------


def _immediate_due_on():
    rule_days = (
        select(DueRule.immediate_days)
        .where(DueRule.effective_from <= Case.intake_on,
               or_(DueRule.effective_to.is_(None), DueRule.effective_to >= Case.intake_on))
        .order_by(DueRule.effective_from.desc()).limit(1).correlate(Case).scalar_subquery()
    )
    extension = (
        select(func.coalesce(func.sum(PhaseExtension.extra_days), 0))
        .where(PhaseExtension.case_id == Case.id, PhaseExtension.phase == "immediate")
        .correlate(Case).scalar_subquery()
    )
    return date_plus_days(Case.intake_on, func.coalesce(rule_days, 5) + extension)


def intake_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Cases whose intake (start of immediate assistance) fell in the period, by intake date."""
    return (
        select(Case.id.label("unit_id"), Case.id.label("case_id"), Case.intake_on.label("counted_on"))
        .join(Victim, Victim.id == Case.victim_id)
        .where(Case.intake_on.is_not(None), Case.intake_on >= start, Case.intake_on <= end, *population(params),
               *cases_inside(territory))
    )


def immediate_in_term_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Of those, the cases with an immediate-assistance step done by `end` within the legal term of the rule in
    force at intake (plus its recorded extension)."""
    in_term = exists().where(
        AssistanceStep.case_id == Case.id, AssistanceStep.phase == "immediate", AssistanceStep.status == "done",
        AssistanceStep.done_on.is_not(None), AssistanceStep.done_on <= _immediate_due_on(),
        AssistanceStep.done_on <= end,
    )
    return intake_rows(params, start, end, territory).where(in_term)


# --- referrals ------------------------------------------------------------------------------------------------

_SENT_ON = day_of(func.coalesce(Referral.sent_at, Referral.created_at))


def _referral_rows(params: dict, start: date, end: date, territory: str, *conditions) -> Select:
    where = [_SENT_ON >= start, _SENT_ON <= end, *conditions]
    if params.get("provider_entity"):
        where.append(_entity_is(Referral.to_entity_id, params["provider_entity"]))
    return (
        select(Referral.id.label("unit_id"), Referral.case_id.label("case_id"), _SENT_ON.label("counted_on"))
        .select_from(Referral)
        .join(Case, Case.id == Referral.case_id)
        .join(Victim, Victim.id == Case.victim_id)
        .where(*where, *population(params), *cases_inside(territory))
    )


def referrals_sent_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Referrals sent in the period (to `provider_entity` when given) and not withdrawn or ended, by sending day."""
    return _referral_rows(params, start, end, territory, Referral.status.not_in(("withdrawn", "ended")))


def referrals_done_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Of those, the ones the receiver completed by `end`."""
    return _referral_rows(params, start, end, territory, Referral.status == "done",
                          Referral.completed_on.is_not(None), Referral.completed_on <= end)


def _answered_by(end: date):
    return and_(Referral.responded_on.is_not(None), Referral.responded_on <= end)


def referrals_owed_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Referrals sent in the period that owed an answer by `end`: answered by then, or due before it (one due on
    `end` itself can still be answered that day). A referral withdrawn or ended before any answer owed none."""
    unanswered_closed = and_(Referral.status.in_(("withdrawn", "ended")), Referral.responded_on.is_(None))
    return _referral_rows(params, start, end, territory, ~unanswered_closed,
                          or_(_answered_by(end), and_(Referral.due_on.is_not(None), Referral.due_on < end)))


def referrals_answered_on_time_rows(params: dict, start: date, end: date, territory: str) -> Select:
    """Of those, the ones answered (accepted or rejected) by `end` and on or before their due date."""
    return _referral_rows(params, start, end, territory, _answered_by(end),
                          or_(Referral.due_on.is_(None), Referral.responded_on <= Referral.due_on))

