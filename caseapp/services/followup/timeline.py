"""The timeline of a case: everything that happened to it, newest first, filtered by what the reader may see.

Each source is one function of `SOURCES`: it reads one kind of record of the case (one or two statements, whatever
the number of rows) and yields `TimelineEntry` rows, each naming the need-to-know part it belongs to. A source whose
parts the reader may not see is never run, and every entry is filtered again by its part here, in the one place
every path (the web page, the API, the printable summary) goes through. Adding a source is adding one function.

An entry's text is built from coded values and dates only (kinds, statuses, entity codes): never from the encrypted
free text (notes, titles, outcomes, reasons), which stays on the pages of its section.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.labels import label, stage_label
from caseapp.models.cases import Case
from caseapp.models.legal import LegalStageChange
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    CaseClosure,
    CaseNote,
    CaseRoute,
    LegalEvent,
    LegalProceeding,
    LifePlanGoal,
    PhaseExtension,
    ProtectionMeasure,
    StepKind,
)
from caseapp.services.casework import stays_of, steps_of
from caseapp.services.primitives import commit_read, load_case_for
from caseapp.timeutil import to_local

# Parts an entry may belong to: the case's sections (authz.case_sections), plus the lawyers' own notes, which only a
# lawyer with the legal section reads (authz "case.legal_notes.read").
LEGAL_NOTES = "legal_notes"


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str  # a stable code ("case.identified", "step.done", "referral.sent"...), for the API and the tests
    text: str  # what the reader reads, in her language
    section: str  # the need-to-know part it belongs to


@dataclass
class Timeline:
    case: Case
    parts: frozenset
    entries: list


@dataclass(frozen=True)
class _Reading:
    actor: object
    case: Case
    parts: frozenset


def _day(value) -> date | None:
    """A date column as it is; a naive-UTC timestamp as the day it was in Colombia."""
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


# --- sources ------------------------------------------------------------------------------------------------


def _phases(r: _Reading) -> Iterable[TimelineEntry]:
    """The case's status moves and phase dates (its own columns, its closures and reopenings, extensions)."""
    case = r.case
    yield TimelineEntry(case.identified_on, "case.identified", _("Identified (%(source)s)",
                        source=label("identification_source", case.identification_source)), "summary")
    if case.linked_on:
        yield TimelineEntry(case.linked_on, "case.linked", _("Linked to the programme"), "summary")
    if case.intake_on:
        yield TimelineEntry(case.intake_on, "case.intake", _("Immediate assistance started"), "summary")
    if case.immediate_closed_on:
        yield TimelineEntry(case.immediate_closed_on, "case.immediate_closed",
                            _("Immediate assistance closed; mediate assistance started"), "summary")
    route = db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id))
    if route is not None and route.acta_on:
        yield TimelineEntry(route.acta_on, "case.acta", _("Record of objectives and commitments (acta única) agreed"),
                            "summary")
    closures = list(db.session.scalars(select(CaseClosure).where(CaseClosure.case_id == case.id)))
    for closure in closures:
        yield TimelineEntry(closure.closed_on, "case.closed",
                            _("Case closed: %(reason)s", reason=label("closure", closure.reason)), "summary")
        if closure.reopened_on:
            yield TimelineEntry(closure.reopened_on, "case.reopened",
                                _("Case reopened: %(reason)s", reason=label("reopen", closure.reopen_code)), "summary")
    if not closures and case.closed_on:  # closed before closures were recorded one by one
        yield TimelineEntry(case.closed_on, "case.closed",
                            _("Case closed: %(reason)s", reason=label("closure", case.closure_reason)), "summary")
    for ext in db.session.scalars(select(PhaseExtension).where(PhaseExtension.case_id == case.id)):
        yield TimelineEntry(ext.decided_on, "case.extended",
                            _("Phase extended: %(phase)s", phase=label("phase", ext.phase)), "summary")


def _consents(r: _Reading) -> Iterable[TimelineEntry]:
    for c in authz.consents_seen_by(r.actor, r.case):
        what = label("consent_kind", c.kind) + (f" ({c.entity.code})" if c.entity is not None else "")
        yield TimelineEntry(c.given_on, "consent.given", _("Consent given: %(what)s", what=what), "summary")
        if c.withdrawn_on:
            yield TimelineEntry(c.withdrawn_on, "consent.withdrawn", _("Consent withdrawn: %(what)s", what=what),
                                "summary")


def _steps(r: _Reading) -> Iterable[TimelineEntry]:
    """Assistance steps, as the route page shows them to this reader (steps_of: a lodging step only with her
    identity): when each was recorded, done, or found not provided."""
    locale = str(get_locale() or "es")
    for step in steps_of(r.actor, r.case):
        name = step.kind.label(locale)  # the kind comes with the step (joined)
        yield TimelineEntry(_day(step.created_at), "step.recorded", _("Step recorded: %(kind)s", kind=name),
                            "summary")
        if step.status == "done" and step.done_on:
            yield TimelineEntry(step.done_on, "step.done", _("Step done: %(kind)s", kind=name), "summary")
        elif step.status == "not_provided":
            yield TimelineEntry(_day(step.updated_at), "step.not_provided",
                                _("Step not provided: %(kind)s", kind=name), "summary")


def _referrals(r: _Reading) -> Iterable[TimelineEntry]:
    english = str(get_locale() or "es").startswith("en")
    # the service's label with each referral (one statement); the case is the one already loaded
    stmt = (authz.referrals_seen_by(r.actor, r.case).options(lazyload(Referral.case))
            .outerjoin(StepKind, StepKind.code == Referral.service)
            .add_columns(StepKind.label_en if english else StepKind.label_es))
    for ref, service in db.session.execute(stmt):
        what = {"entity": ref.to_entity.code, "service": service or ref.service}
        sent = _day(ref.sent_at) or _day(ref.created_at)
        yield TimelineEntry(sent, "referral.sent", _("Referral sent to %(entity)s: %(service)s", **what), "summary")
        if ref.responded_on:
            if ref.status == "rejected":
                yield TimelineEntry(ref.responded_on, "referral.rejected",
                                    _("Referral rejected by %(entity)s: %(service)s", **what), "summary")
            else:
                yield TimelineEntry(ref.responded_on, "referral.accepted",
                                    _("Referral accepted by %(entity)s: %(service)s", **what), "summary")
        if ref.completed_on:
            yield TimelineEntry(ref.completed_on, "referral.done",
                                _("Referral fulfilled by %(entity)s: %(service)s", **what), "summary")
        if ref.access_ended_on:
            yield TimelineEntry(ref.access_ended_on, "referral.ended",
                                _("Access of %(entity)s ended: %(service)s", **what), "summary")
        elif ref.status == "withdrawn":
            yield TimelineEntry(_day(ref.updated_at), "referral.withdrawn",
                                _("Referral to %(entity)s withdrawn: %(service)s", **what), "summary")


def _legal(r: _Reading) -> Iterable[TimelineEntry]:
    """The legal follow-up by its dates and codes only: the complaint, each proceeding's stage changes (their
    kept history), hearings and events, protection measures requested, decided and ended."""
    case_id = r.case.id
    kinds = {}
    for proc in db.session.scalars(select(LegalProceeding).where(LegalProceeding.case_id == case_id)):
        kinds[proc.id] = proc.kind
        if proc.kind == "criminal" and proc.complaint_filed_on:
            yield TimelineEntry(proc.complaint_filed_on, "legal.complaint", _("Criminal complaint filed"), "legal")
    if kinds:
        for change in db.session.scalars(select(LegalStageChange).where(LegalStageChange.case_id == case_id)):
            kind = kinds.get(change.proceeding_id, "criminal")
            yield TimelineEntry(change.changed_on, "legal.stage", _(
                "%(proceeding)s: stage %(stage)s", proceeding=label("proceeding_kind", kind),
                stage=stage_label(kind, change.stage)), "legal")
    for event in db.session.scalars(select(LegalEvent).where(LegalEvent.case_id == case_id)):
        yield TimelineEntry(event.on, "legal.event", _("Legal event: %(kind)s", kind=label("event_kind", event.kind)),
                            "legal")
    for m in db.session.scalars(select(ProtectionMeasure).where(ProtectionMeasure.case_id == case_id)):
        kind = label("protection", m.kind)
        yield TimelineEntry(m.requested_on, "legal.measure.requested",
                            _("Protection measure requested: %(kind)s", kind=kind), "legal")
        decided = "granted" if m.status == "ended" else m.status  # only a granted measure ends
        if m.decided_on and decided != "requested":
            yield TimelineEntry(m.decided_on, "legal.measure." + decided, _(
                "Protection measure %(kind)s: %(status)s", kind=kind, status=label("protection_status", decided)),
                "legal")
        if m.ended_on:
            yield TimelineEntry(m.ended_on, "legal.measure.ended", _(
                "Protection measure %(kind)s: %(status)s", kind=kind, status=label("protection_status", "ended")),
                "legal")


def _life_plan(r: _Reading) -> Iterable[TimelineEntry]:
    for goal in db.session.scalars(select(LifePlanGoal).where(LifePlanGoal.case_id == r.case.id)):
        area = label("goal_area", goal.area)
        yield TimelineEntry(goal.agreed_on, "goal.agreed", _("Life plan goal agreed: %(area)s", area=area),
                            "psychosocial")
        if goal.reviewed_on:
            yield TimelineEntry(goal.reviewed_on, "goal.reviewed", _(
                "Life plan goal reviewed: %(area)s (%(status)s)", area=area,
                status=label("goal_status", goal.status)), "psychosocial")


def _notes(r: _Reading) -> Iterable[TimelineEntry]:
    """That a note was written, in the sections the reader reads (never its body)."""
    sections = [s for s, part in (("psychosocial", "psychosocial"), ("legal", LEGAL_NOTES)) if part in r.parts]
    for note in db.session.scalars(select(CaseNote).where(CaseNote.case_id == r.case.id,
                                                          CaseNote.section.in_(sections))):
        if note.section == "legal":
            yield TimelineEntry(note.written_on, "note.legal", _("Legal note written"), LEGAL_NOTES)
        else:
            yield TimelineEntry(note.written_on, "note.psychosocial", _("Psychosocial note written"), "psychosocial")


def _stays(r: _Reading) -> Iterable[TimelineEntry]:
    """Shelter stays: where she is lodged goes with her identity and contact (stays_of says so)."""
    for stay in stays_of(r.actor, r.case):
        yield TimelineEntry(stay.admitted_on, "stay.admitted", _("Admitted to a shelter"), "identity")
        if stay.left_on:
            yield TimelineEntry(stay.left_on, "stay.left", _("Left the shelter"), "identity")


# (the parts a source may yield, the source): a source none of whose parts the reader sees is not run at all.
SOURCES: list[tuple[frozenset, Callable[[_Reading], Iterable[TimelineEntry]]]] = [
    (frozenset({"summary"}), _phases),
    (frozenset({"summary"}), _consents),
    (frozenset({"summary"}), _steps),
    (frozenset({"summary"}), _referrals),
    (frozenset({"legal"}), _legal),
    (frozenset({"psychosocial"}), _life_plan),
    (frozenset({"psychosocial", LEGAL_NOTES}), _notes),
    (frozenset({"identity"}), _stays),
]


def readable_parts(actor, case: Case) -> frozenset:
    """The parts of a case's timeline `actor` may read (empty: none, and she may not know the case exists)."""
    parts = authz.case_sections(actor, case)
    if parts and authz.can(actor, "case.legal_notes.read", case):
        parts |= {LEGAL_NOTES}
    return parts


def entries_of(actor, case: Case, parts: frozenset | None = None) -> list[TimelineEntry]:
    """The timeline of a case the caller has loaded for `actor`, newest first (the caller logs the read)."""
    parts = readable_parts(actor, case) if parts is None else parts
    reading = _Reading(actor, case, parts)
    found: list[TimelineEntry] = []
    for needs, source in SOURCES:
        if needs & parts:
            found.extend(e for e in source(reading) if e.section in parts and e.on is not None)
    # newest first; on one day, the later record first (sources yield in the order things happen)
    ranked = sorted(enumerate(found), key=lambda pair: (pair[1].on, pair[0]), reverse=True)
    return [entry for _rank, entry in ranked]


def timeline(actor, code: str) -> Timeline:
    """The timeline of the case named `code`, for a reader of it (NotFound otherwise); the read is logged."""
    case = load_case_for(actor, code)
    parts = readable_parts(actor, case)
    entries = entries_of(actor, case, parts)
    audit.record("case.timeline.view", case, actor=actor, detail={"sections": sorted(parts)})
    commit_read()
    return Timeline(case=case, parts=parts, entries=entries)
