"""The timeline of a case: everything that happened to it, newest first, filtered by what the reader may see.

Each source is one function of `SOURCES`: it turns one kind of record of the case into `TimelineEntry` rows, each
naming the need-to-know part it belongs to. Every record but the consents comes from one statement (`_dated_rows`,
only the branches of the parts the reader sees): steps and referrals through their rules' own conditions, the
others by their part; consents through authz.consents_seen_by. A source whose parts the reader may not see is never
run, and every entry is filtered again by its part here, in the one place every path (the web page, the API, the
printable summary) goes through. Adding a source is adding one function and, usually, one branch.

An entry's text is built from coded values and dates only (kinds, statuses, entity codes): never from the encrypted
free text (notes, titles, outcomes, reasons), which stays on the pages of its section.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import get_locale, get_translations
from sqlalchemy import (
    Date,
    DateTime,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.labels import label, stage_label
from caseapp.models.accounts import Entity
from caseapp.models.base import named_rows
from caseapp.models.cases import Case
from caseapp.models.legal import LegalStageChange
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    AssistanceStep,
    CaseClosure,
    CaseNote,
    CaseRoute,
    LegalEvent,
    LegalProceeding,
    LifePlanGoal,
    PhaseExtension,
    ProtectionMeasure,
    ShelterStay,
    StepKind,
)
from caseapp.services.casework import steps_seen
from caseapp.services.primitives import any_of, commit_read, load_case_for
from caseapp.timeutil import to_local

# Parts an entry may belong to: the case's sections (authz.case_sections), plus the lawyers' own notes, which only a
# lawyer with the legal section reads (authz "case.legal_notes.read").
LEGAL_NOTES = "legal_notes"


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str  # a stable code ("case.identified", "step.done", "referral.sent"...), for the API and the tests
    text: str  # what the reader reads, in her language (a _Text while the sources build it)
    section: str  # the need-to-know part it belongs to


@dataclass(frozen=True, slots=True)
class _Text:
    """An entry's text before it is translated: only the entries returned are (the case page shows six of a
    timeline that grows with the case), all with the request's translations found once, not once an entry through
    Flask-Babel's lazy strings."""
    message: str
    values: dict

    def translated(self, translations) -> str:
        text = translations.ugettext(self.message)
        return text % self.values if self.values else text

    def __str__(self) -> str:  # wherever it is printed as a lazy string would be: in the request's language
        return self.translated(get_translations())


def _l(message: str, **values) -> _Text:  # marked for extraction as lazy_gettext is (caseapp.i18n_catalog)
    return _Text(message, values)


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
    rows: dict  # the case's dated rows by kind (_dated_rows), read once for the sources that use them


def _day(value) -> date | None:
    """A date column as it is; a naive-UTC timestamp as the day it was in Colombia."""
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


# --- the dated rows of a case -------------------------------------------------------------------------------
#
# Every record an entry comes from is read in one statement: each kind a branch of a UNION ALL, in one shape (up
# to three dates, two timestamps and three codes), only the branches of the parts the reader sees. The records that
# need no rule beyond their section (the route's record of objectives, closures, extensions, the legal follow-up,
# life-plan goals, notes) are filtered by their case alone; steps and referrals by their rules' own conditions
# (casework.steps_seen, authz.referrals_seen); stays go with her identity, as stays_of says. A case page used to
# send one statement per kind (thirteen) for its timeline panel, then four, and built every step and referral as
# an object to read three dates of it.

_D = ("d1", "d2", "d3")
_T = ("t1", "t2")
_C = ("c1", "c2", "c3")


def _branch(kind: str, entity, *where, dates=(), times=(), codes=(), joins=()):
    """One branch of the dated rows: `kind`, the row's id, its dates, timestamps and codes, NULL-padded to one
    shape."""
    # a column typed for SQLAlchemy (SQLite's CAST(... AS DATE) would make a number of an ISO date), the padding
    # typed for the database (PostgreSQL resolves a UNION pairwise: NULL and NULL make text, which no date matches)
    padded = ([type_coerce(d, Date) for d in dates] + [cast(null(), Date)] * (len(_D) - len(dates))
              + [type_coerce(t, DateTime) for t in times] + [cast(null(), DateTime)] * (len(_T) - len(times))
              + [type_coerce(c, String) for c in codes] + [cast(null(), String)] * (len(_C) - len(codes)))
    stmt = select(literal_column(f"'{kind}'", String).label("kind"), entity.id.label("id"),
                  *(c.label(name) for c, name in zip(padded, _D + _T + _C, strict=True))).select_from(entity)
    for join in joins:
        stmt = stmt.outerjoin(*join)
    return stmt.where(*where)


def _dated_rows(reading_parts: frozenset, case: Case, actor) -> dict[str, list]:
    """The case's dated rows by kind, each kind in the order it was recorded, for the sources below."""
    parts = reading_parts & {"summary", "legal", "psychosocial", LEGAL_NOTES, "identity"}
    party = authz.referral_party(actor, case)
    stmt = _dated_rows_statement(parts, str(get_locale() or "es").startswith("en"), party is None)
    rows: dict[str, list] = {}
    if stmt is not None:
        # through the session's connection (its transaction): a Core statement gains nothing from the ORM's
        # dispatch, which cost a fifth of this read
        for row in named_rows(db.session.connection().execute(stmt, {"case_id": case.id, "party": party})):
            rows.setdefault(row.kind, []).append(row)
    return rows


@functools.cache
def _dated_rows_statement(parts: frozenset, english: bool, all_referrals: bool):
    """The UNION ALL for the parts a reader sees, in her language, built once per such reader (building it is what
    costs: 1.7 ms a request, against 0.01 ms for SQLite to run it)."""
    case_id = bindparam("case_id")
    branches = []
    if "summary" in parts:
        step_kind = StepKind.label_en if english else StepKind.label_es
        branches += [
            _branch("acta", CaseRoute, CaseRoute.case_id == case_id, CaseRoute.acta_on.is_not(None),
                    dates=(CaseRoute.acta_on,)),
            _branch("closure", CaseClosure, CaseClosure.case_id == case_id,
                    dates=(CaseClosure.closed_on, CaseClosure.reopened_on),
                    codes=(CaseClosure.reason, CaseClosure.reopen_code)),
            _branch("extension", PhaseExtension, PhaseExtension.case_id == case_id,
                    dates=(PhaseExtension.decided_on,), codes=(PhaseExtension.phase,)),
            # a lodging step only to a reader of her identity (steps_seen), like the route page
            _branch("step", AssistanceStep, steps_seen(case_id, with_identity="identity" in parts),
                    dates=(AssistanceStep.done_on,), times=(AssistanceStep.created_at, AssistanceStep.updated_at),
                    codes=(step_kind, AssistanceStep.status), joins=((StepKind, StepKind.id == AssistanceStep.kind_id),)),
            # the owner's every referral, another entity's only those to or from it (authz.referrals_seen)
            _branch("referral", Referral,
                    authz.referrals_seen(case_id, None if all_referrals else bindparam("party")),
                    dates=(Referral.responded_on, Referral.completed_on, Referral.access_ended_on),
                    times=(func.coalesce(Referral.sent_at, Referral.created_at), Referral.updated_at),
                    codes=(Entity.code, func.coalesce(func.nullif(step_kind, ""), Referral.service), Referral.status),
                    joins=((Entity, Entity.id == Referral.to_entity_id), (StepKind, StepKind.code == Referral.service))),
        ]
    if "legal" in parts:
        branches += [
            _branch("proceeding", LegalProceeding, LegalProceeding.case_id == case_id,
                    dates=(LegalProceeding.complaint_filed_on,), codes=(LegalProceeding.kind,)),
            _branch("stage", LegalStageChange, LegalStageChange.case_id == case_id,
                    dates=(LegalStageChange.changed_on,), codes=(LegalProceeding.kind, LegalStageChange.stage),
                    joins=((LegalProceeding, LegalProceeding.id == LegalStageChange.proceeding_id),)),
            _branch("event", LegalEvent, LegalEvent.case_id == case_id, dates=(LegalEvent.on,),
                    codes=(LegalEvent.kind,)),
            _branch("measure", ProtectionMeasure, ProtectionMeasure.case_id == case_id,
                    dates=(ProtectionMeasure.requested_on, ProtectionMeasure.decided_on, ProtectionMeasure.ended_on),
                    codes=(ProtectionMeasure.kind, ProtectionMeasure.status)),
        ]
    if "psychosocial" in parts:
        branches.append(_branch("goal", LifePlanGoal, LifePlanGoal.case_id == case_id,
                                dates=(LifePlanGoal.agreed_on, LifePlanGoal.reviewed_on),
                                codes=(LifePlanGoal.area, LifePlanGoal.status)))
    sections = tuple(s for s, part in (("psychosocial", "psychosocial"), ("legal", LEGAL_NOTES)) if part in parts)
    if sections:
        branches.append(_branch("note", CaseNote, CaseNote.case_id == case_id, any_of(CaseNote.section, sections),
                                dates=(CaseNote.written_on,), codes=(CaseNote.section,)))
    if "identity" in parts:  # where she is lodged goes with her identity and contact (casework.stays_of)
        branches.append(_branch("stay", ShelterStay, ShelterStay.case_id == case_id,
                                dates=(ShelterStay.admitted_on, ShelterStay.left_on)))
    if not branches:
        return None
    both = union_all(*branches).subquery()
    return select(both).order_by(both.c.kind, both.c.id)


# --- sources ------------------------------------------------------------------------------------------------


def _phases(r: _Reading) -> Iterable[TimelineEntry]:
    """The case's status moves and phase dates (its own columns, its closures and reopenings, extensions)."""
    case = r.case
    yield TimelineEntry(case.identified_on, "case.identified", _l("Identified (%(source)s)",
                        source=label("identification_source", case.identification_source)), "summary")
    if case.linked_on:
        yield TimelineEntry(case.linked_on, "case.linked", _l("Linked to the programme"), "summary")
    if case.intake_on:
        yield TimelineEntry(case.intake_on, "case.intake", _l("Immediate assistance started"), "summary")
    if case.immediate_closed_on:
        yield TimelineEntry(case.immediate_closed_on, "case.immediate_closed",
                            _l("Immediate assistance closed; mediate assistance started"), "summary")
    for acta in r.rows.get("acta", ()):
        yield TimelineEntry(acta.d1, "case.acta", _l("Record of objectives and commitments (acta única) agreed"),
                            "summary")
    closures = r.rows.get("closure", ())
    for closure in closures:  # d1 closed on, d2 reopened on; c1 the reason, c2 the reopening's code
        yield TimelineEntry(closure.d1, "case.closed",
                            _l("Case closed: %(reason)s", reason=label("closure", closure.c1)), "summary")
        if closure.d2:
            yield TimelineEntry(closure.d2, "case.reopened",
                                _l("Case reopened: %(reason)s", reason=label("reopen", closure.c2)), "summary")
    if not closures and case.closed_on:  # closed before closures were recorded one by one
        yield TimelineEntry(case.closed_on, "case.closed",
                            _l("Case closed: %(reason)s", reason=label("closure", case.closure_reason)), "summary")
    for ext in r.rows.get("extension", ()):
        yield TimelineEntry(ext.d1, "case.extended", _l("Phase extended: %(phase)s", phase=label("phase", ext.c1)),
                            "summary")


def _consents(r: _Reading) -> Iterable[TimelineEntry]:
    for c in authz.consents_seen_by(r.actor, r.case):
        what = label("consent_kind", c.kind) + (f" ({c.entity.code})" if c.entity is not None else "")
        yield TimelineEntry(c.given_on, "consent.given", _l("Consent given: %(what)s", what=what), "summary")
        if c.withdrawn_on:
            yield TimelineEntry(c.withdrawn_on, "consent.withdrawn", _l("Consent withdrawn: %(what)s", what=what),
                                "summary")


def _steps(r: _Reading) -> Iterable[TimelineEntry]:
    """Assistance steps, as the route page shows them to this reader (steps_seen: a lodging step only with her
    identity): when each was recorded, done, or found not provided."""
    for step in r.rows.get("step", ()):  # d1 done on; t1 created, t2 updated at; c1 the kind's label, c2 the status
        yield TimelineEntry(_day(step.t1), "step.recorded", _l("Step recorded: %(kind)s", kind=step.c1), "summary")
        if step.c2 == "done" and step.d1:
            yield TimelineEntry(step.d1, "step.done", _l("Step done: %(kind)s", kind=step.c1), "summary")
        elif step.c2 == "not_provided":
            yield TimelineEntry(_day(step.t2), "step.not_provided",
                                _l("Step not provided: %(kind)s", kind=step.c1), "summary")


def _referrals(r: _Reading) -> Iterable[TimelineEntry]:
    # d1 responded, d2 completed, d3 access ended on; t1 sent (or created), t2 updated at; c1 the receiving
    # entity's code, c2 the service's label (its code if the catalogue has none), c3 the status
    for ref in r.rows.get("referral", ()):
        what = {"entity": ref.c1, "service": ref.c2}
        yield TimelineEntry(_day(ref.t1), "referral.sent", _l("Referral sent to %(entity)s: %(service)s", **what),
                            "summary")
        if ref.d1:
            if ref.c3 == "rejected":
                yield TimelineEntry(ref.d1, "referral.rejected",
                                    _l("Referral rejected by %(entity)s: %(service)s", **what), "summary")
            else:
                yield TimelineEntry(ref.d1, "referral.accepted",
                                    _l("Referral accepted by %(entity)s: %(service)s", **what), "summary")
        if ref.d2:
            yield TimelineEntry(ref.d2, "referral.done",
                                _l("Referral fulfilled by %(entity)s: %(service)s", **what), "summary")
        if ref.d3:
            yield TimelineEntry(ref.d3, "referral.ended",
                                _l("Access of %(entity)s ended: %(service)s", **what), "summary")
        elif ref.c3 == "withdrawn":
            yield TimelineEntry(_day(ref.t2), "referral.withdrawn",
                                _l("Referral to %(entity)s withdrawn: %(service)s", **what), "summary")


def _legal(r: _Reading) -> Iterable[TimelineEntry]:
    """The legal follow-up by its dates and codes only: the complaint, each proceeding's stage changes (their
    kept history), hearings and events, protection measures requested, decided and ended."""
    proceedings = r.rows.get("proceeding", ())
    for proc in proceedings:  # d1 the complaint's date, c1 the proceeding's kind
        if proc.c1 == "criminal" and proc.d1:
            yield TimelineEntry(proc.d1, "legal.complaint", _l("Criminal complaint filed"), "legal")
    if proceedings:
        for change in r.rows.get("stage", ()):  # d1 changed on; c1 its proceeding's kind, c2 the stage
            kind = change.c1 or "criminal"
            yield TimelineEntry(change.d1, "legal.stage", _l(
                "%(proceeding)s: stage %(stage)s", proceeding=label("proceeding_kind", kind),
                stage=stage_label(kind, change.c2)), "legal")
    for event in r.rows.get("event", ()):
        yield TimelineEntry(event.d1, "legal.event", _l("Legal event: %(kind)s", kind=label("event_kind", event.c1)),
                            "legal")
    for m in r.rows.get("measure", ()):  # d1 requested, d2 decided, d3 ended on; c1 the kind, c2 the status
        kind = label("protection", m.c1)
        yield TimelineEntry(m.d1, "legal.measure.requested",
                            _l("Protection measure requested: %(kind)s", kind=kind), "legal")
        decided = "granted" if m.c2 == "ended" else m.c2  # only a granted measure ends
        if m.d2 and decided != "requested":
            yield TimelineEntry(m.d2, "legal.measure." + decided, _l(
                "Protection measure %(kind)s: %(status)s", kind=kind, status=label("protection_status", decided)),
                "legal")
        if m.d3:
            yield TimelineEntry(m.d3, "legal.measure.ended", _l(
                "Protection measure %(kind)s: %(status)s", kind=kind, status=label("protection_status", "ended")),
                "legal")


def _life_plan(r: _Reading) -> Iterable[TimelineEntry]:
    for goal in r.rows.get("goal", ()):  # d1 agreed, d2 reviewed on; c1 the area, c2 the status
        area = label("goal_area", goal.c1)
        yield TimelineEntry(goal.d1, "goal.agreed", _l("Life plan goal agreed: %(area)s", area=area),
                            "psychosocial")
        if goal.d2:
            yield TimelineEntry(goal.d2, "goal.reviewed", _l(
                "Life plan goal reviewed: %(area)s (%(status)s)", area=area,
                status=label("goal_status", goal.c2)), "psychosocial")


def _notes(r: _Reading) -> Iterable[TimelineEntry]:
    """That a note was written, in the sections the reader reads (never its body)."""
    for note in r.rows.get("note", ()):  # d1 written on, c1 its section (_dated_rows reads only the reader's)
        if note.c1 == "legal":
            yield TimelineEntry(note.d1, "note.legal", _l("Legal note written"), LEGAL_NOTES)
        else:
            yield TimelineEntry(note.d1, "note.psychosocial", _l("Psychosocial note written"), "psychosocial")


def _stays(r: _Reading) -> Iterable[TimelineEntry]:
    """Shelter stays: where she is lodged goes with her identity and contact (stays_of says so)."""
    for stay in r.rows.get("stay", ()):  # d1 admitted, d2 left on
        yield TimelineEntry(stay.d1, "stay.admitted", _l("Admitted to a shelter"), "identity")
        if stay.d2:
            yield TimelineEntry(stay.d2, "stay.left", _l("Left the shelter"), "identity")


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


def entries_of(actor, case: Case, parts: frozenset | None = None, *, newest: int | None = None) -> list[TimelineEntry]:
    """The timeline of a case the caller has loaded for `actor`, newest first (the caller logs the read); only the
    `newest` entries when given. An entry's text is written (translated and formatted) only if it is returned: the
    case page shows six entries of a timeline that grows with the case."""
    parts = readable_parts(actor, case) if parts is None else parts
    reading = _Reading(actor, case, parts, _dated_rows(parts, case, actor))
    found: list[TimelineEntry] = []
    for needs, source in SOURCES:
        if needs & parts:
            found.extend(e for e in source(reading) if e.section in parts and e.on is not None)
    # newest first; on one day, the later record first (sources yield in the order things happen)
    ranked = sorted(enumerate(found), key=lambda pair: (pair[1].on, pair[0]), reverse=True)
    if newest is not None:
        ranked = ranked[:newest]
    translations = get_translations()
    return [TimelineEntry(e.on, e.kind, e.text.translated(translations) if isinstance(e.text, _Text) else str(e.text),
                          e.section) for _rank, e in ranked]


def timeline(actor, code: str) -> Timeline:
    """The timeline of the case named `code`, for a reader of it (NotFound otherwise); the read is logged."""
    case = load_case_for(actor, code)
    parts = readable_parts(actor, case)
    entries = entries_of(actor, case, parts)
    audit.record("case.timeline.view", case, actor=actor, detail={"sections": sorted(parts)})
    commit_read()
    return Timeline(case=case, parts=parts, entries=entries)
