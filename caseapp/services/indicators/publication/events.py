"""Bases of events the committee's reports count (steps, referrals, phases, closures, legal follow-up): each a base
of the publication with its own dimensions, protected like the cases.

Each event is counted once, in the month of its own date (a step on the day it was done, a referral's answer on
the day it was answered), and only when that date falls in [start, cut_off]: what happened after the cut-off is
not published yet, so a report of a closed month never changes when later events are recorded. Every base
counts only the cases owned by entities inside the territory. Values are codes (labels: `caseapp.labels`).

Barriers: a step "not provided" keeps its reason as encrypted free text only (it may name people), so the counts
have no reason category; barriers are counted by step kind and provider entity.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    AssistanceStep,
    CaseClosure,
    DueRule,
    LegalProceeding,
    PhaseExtension,
    ProtectionMeasure,
    StepKind,
)
from caseapp.services.indicators.publication.tables import BaseTables, Record, tabulate
from caseapp.services.indicators.scope import cases_inside
from caseapp.services.route import due
from caseapp.timeutil import to_local

# base name -> its dimensions, in the order its tables name them
EVENT_DIMS = {
    "steps:done": ("step_kind", "provider_entity"),
    "steps:not_provided": ("step_kind", "provider_entity"),
    "referrals:sent": ("to_entity",),
    "referrals:accepted": ("to_entity",),
    "referrals:rejected": ("to_entity",),
    "referrals:done": ("to_entity",),
    "referrals:overdue": ("to_entity",),
    "phases:immediate": ("term", "entity"),
    "phases:mediate": ("term", "entity"),
    "extensions": ("phase", "entity"),
    "closures": ("closure_reason", "entity"),
    "complaints": ("entity",),
    "protection:requested": ("protection_kind",),
    "protection:granted": ("protection_kind",),
}
REFERRAL_EVENTS = ("sent", "accepted", "rejected", "done", "overdue")
# How a phase stood at the cut-off: ended by its due date, ended after it, or still open past it.
TERMS = ("within_term", "ended_late", "open_overdue")


def event_bases(territory: str, start: date, cut_off: date) -> list[BaseTables]:
    """The event bases of `territory` for [start, cut_off]."""
    # The tables place an event by its month only, so events of one month with the same values are counted as
    # one weighted record: a year of a million steps tabulates as a few thousand records.
    found: dict[str, Counter] = {name: Counter() for name in EVENT_DIMS}
    for name, on, values, *grouped in _events(territory, start, cut_off):  # grouped: (count,) of a SQL group
        if on is not None and start <= on <= cut_off:
            found[name][(on.replace(day=1), tuple(values[d] for d in EVENT_DIMS[name]))] += grouped[0] if grouped else 1
    return [tabulate(name, [Record(on, dict(zip(EVENT_DIMS[name], key, strict=True)), weight)
                            for (on, key), weight in sorted(counts.items())],
                     EVENT_DIMS[name], last_month=cut_off.month)
            for name, counts in found.items()]


def _events(territory: str, start: date, cut_off: date):
    yield from _steps(territory, start, cut_off)
    yield from _referrals(territory, start, cut_off)
    yield from _phases(territory, start, cut_off)
    yield from _closures(territory, start, cut_off)
    yield from _legal(territory, start, cut_off)


def _day_before(start: date) -> datetime:
    """A UTC instant safely before the first local day of the span (timestamps are stored in UTC)."""
    return datetime.combine(start - timedelta(days=1), datetime.min.time())


def _local_date(value: datetime | None) -> date | None:
    return to_local(value).date() if value is not None else None


def _steps(territory: str, start: date, cut_off: date):
    """Steps done, grouped by day, kind and provider in SQL (a million steps are a few thousand groups); steps not
    provided one by one (few, and dated in Python)."""
    kinds = dict(db.session.execute(select(StepKind.id, StepKind.code)).all())
    entities = dict(db.session.execute(select(Entity.id, Entity.code)).all())
    done = (select(AssistanceStep.done_on, AssistanceStep.kind_id, AssistanceStep.provider_entity_id, func.count())
            .join(Case, Case.id == AssistanceStep.case_id)
            .where(AssistanceStep.status == "done", AssistanceStep.done_on >= start, AssistanceStep.done_on <= cut_off,
                   *cases_inside(territory))
            .group_by(AssistanceStep.done_on, AssistanceStep.kind_id, AssistanceStep.provider_entity_id))
    for done_on, kind_id, provider_id, count in db.session.execute(done):
        yield "steps:done", done_on, {"step_kind": kinds[kind_id], "provider_entity": entities.get(provider_id, "none")}, \
            count
    not_provided = (select(AssistanceStep.planned_on, AssistanceStep.updated_at, AssistanceStep.kind_id,
                           AssistanceStep.provider_entity_id)
                    .join(Case, Case.id == AssistanceStep.case_id)
                    .where(AssistanceStep.status == "not_provided",
                           or_(AssistanceStep.planned_on >= start, AssistanceStep.updated_at >= _day_before(start)),
                           *cases_inside(territory)))
    for planned_on, updated_at, kind_id, provider_id in db.session.execute(not_provided):
        # a service not provided counts on the day it was due, or else the day it was recorded so
        yield "steps:not_provided", planned_on or _local_date(updated_at), \
            {"step_kind": kinds[kind_id], "provider_entity": entities.get(provider_id, "none")}


def _referrals(territory: str, start: date, cut_off: date):
    """Sent on its sending day; accepted or rejected on its answer; done on its completion; overdue the day after
    its due date passed without an answer (whether answered late or not at all)."""
    to_entity = aliased(Entity)
    stmt = (select(Referral.status, Referral.sent_at, Referral.created_at, Referral.responded_on,
                   Referral.completed_on, Referral.due_on, Referral.access_ended_on, to_entity.code)
            .join(Case, Case.id == Referral.case_id).join(to_entity, to_entity.id == Referral.to_entity_id)
            .where(or_(Referral.created_at >= _day_before(start), Referral.sent_at >= _day_before(start),
                       Referral.responded_on >= start, Referral.completed_on >= start,
                       Referral.due_on >= start - timedelta(days=1)), *cases_inside(territory)))
    for status, sent_at, created_at, responded_on, completed_on, due_on, ended_on, entity in db.session.execute(stmt):
        values = {"to_entity": entity}
        yield "referrals:sent", _local_date(sent_at or created_at), values
        if status in ("accepted", "done"):
            yield "referrals:accepted", responded_on, values
        elif status == "rejected":
            yield "referrals:rejected", responded_on, values
        if status == "done":
            yield "referrals:done", completed_on, values
        if due_on is not None and status != "withdrawn" and (responded_on is None or responded_on > due_on) \
                and (ended_on is None or ended_on > due_on):
            yield "referrals:overdue", due_on + timedelta(days=1), values


def _phases(territory: str, start: date, cut_off: date):
    """Each phase of a case as it stood at the cut-off, with the due dates of the route's own rule
    (`route.due`): it counts in the month it ended, or, still open, in the month it fell overdue."""
    rules = list(db.session.scalars(select(DueRule)))
    owner = aliased(Entity)
    extensions: dict[int, dict] = {}
    for ext, entity in db.session.execute(select(PhaseExtension, owner.code)
                                          .join(Case, Case.id == PhaseExtension.case_id)
                                          .join(owner, owner.id == Case.owner_entity_id)
                                          .where(*cases_inside(territory))):
        extensions.setdefault(ext.case_id, {})[ext.phase] = ext
        yield "extensions", ext.decided_on, {"phase": ext.phase, "entity": entity}
    stmt = (select(Case.id, Case.intake_on, Case.immediate_closed_on, Case.closed_on, owner.code)
            .join(owner, owner.id == Case.owner_entity_id)
            .where(Case.intake_on.is_not(None), Case.intake_on <= cut_off,
                   or_(Case.closed_on.is_(None), Case.closed_on >= start), *cases_inside(territory)))
    for case_id, intake_on, immediate_closed_on, closed_on, entity in db.session.execute(stmt):
        dates = due.dates_under(due.covering_rule(rules, intake_on), intake_on, immediate_closed_on,
                                extensions.get(case_id, {}))
        # a case closed during the immediate phase ends it on its closure
        yield _phase("phases:immediate", dates.immediate_due_on, immediate_closed_on or closed_on, cut_off, entity)
        if immediate_closed_on is not None and immediate_closed_on <= cut_off:
            yield _phase("phases:mediate", dates.mediate_due_on, closed_on, cut_off, entity)


def _phase(name: str, due_on: date | None, ended_on: date | None, cut_off: date, entity: str):
    if ended_on is not None and ended_on > cut_off:
        ended_on = None  # ended after the cut-off: open at it
    if due_on is None:
        return name, ended_on, {"term": "within_term", "entity": entity}
    if ended_on is not None:
        return name, ended_on, {"term": "within_term" if ended_on <= due_on else "ended_late", "entity": entity}
    return name, due_on + timedelta(days=1), {"term": "open_overdue", "entity": entity}


def _closures(territory: str, start: date, cut_off: date):
    owner = aliased(Entity)
    stmt = (select(CaseClosure.closed_on, CaseClosure.reason, owner.code)
            .join(Case, Case.id == CaseClosure.case_id).join(owner, owner.id == Case.owner_entity_id)
            .where(CaseClosure.closed_on >= start, CaseClosure.closed_on <= cut_off, *cases_inside(territory)))
    for closed_on, reason, entity in db.session.execute(stmt):
        yield "closures", closed_on, {"closure_reason": reason, "entity": entity}


def _legal(territory: str, start: date, cut_off: date):
    owner = aliased(Entity)
    stmt = (select(LegalProceeding.complaint_filed_on, owner.code)
            .join(Case, Case.id == LegalProceeding.case_id).join(owner, owner.id == Case.owner_entity_id)
            .where(LegalProceeding.kind == "criminal",  # a complaint is the criminal proceeding's filing
                   LegalProceeding.complaint_filed_on >= start, LegalProceeding.complaint_filed_on <= cut_off,
                   *cases_inside(territory)))
    for filed_on, entity in db.session.execute(stmt):
        yield "complaints", filed_on, {"entity": entity}
    stmt = (select(ProtectionMeasure.kind, ProtectionMeasure.status, ProtectionMeasure.requested_on,
                   ProtectionMeasure.decided_on)
            .join(Case, Case.id == ProtectionMeasure.case_id)
            .where(func.coalesce(ProtectionMeasure.decided_on, ProtectionMeasure.requested_on) >= start,
                   *cases_inside(territory)))
    for kind, status, requested_on, decided_on in db.session.execute(stmt):
        yield "protection:requested", requested_on, {"protection_kind": kind}
        if status in ("granted", "ended") and decided_on is not None:
            yield "protection:granted", decided_on, {"protection_kind": kind}
