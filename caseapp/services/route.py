"""The assistance route (issue 4): the case's route overview, due dates, agenda, closure, the monthly list.

Every function takes the acting user first, checks permission through authz, records the access log by
case code in the same transaction as the change, and commits.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.cases import CLOSURE_REASONS, Case
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    AssistanceStep,
    CaseClosure,
    CaseRoute,
    LegalEvent,
    LegalProceeding,
    LifePlanGoal,
    ProtectionMeasure,
    ShelterStay,
)
from caseapp.services import due
from caseapp.timeutil import today

OPEN_STEP_STATUSES = ("planned", "in_progress")

# Spanish (translated) labels of the route's codes, for screens and exports.
LABELS = {
    "status": {"identified": _l("Identified"), "in_immediate_assistance": _l("In immediate assistance"),
               "in_mediate_assistance": _l("In mediate assistance"), "closed": _l("Closed")},
    "phase": {"immediate": _l("Immediate assistance"), "mediate": _l("Mediate assistance")},
    "step_status": {"planned": _l("Planned"), "in_progress": _l("In progress"), "done": _l("Done"),
                    "not_provided": _l("Not provided")},
    "closure": {"goals_met": _l("Goals met"), "voluntary_withdrawal": _l("Voluntary withdrawal"),
                "transferred": _l("Transferred"), "lost_contact": _l("Lost contact"), "death": _l("Death"),
                "other": _l("Other")},
    "stage": {"complaint": _l("Complaint"), "inquiry": _l("Inquiry"), "investigation": _l("Investigation"),
              "trial": _l("Trial"), "judgment": _l("Judgment"), "closed": _l("Closed")},
    "representation": {"none": _l("None"), "public_defender": _l("Public defender (Defensoría)"),
                       "entity_lawyer": _l("Lawyer of the entity"), "private_lawyer": _l("Private lawyer"),
                       "other": _l("Other")},
    "goal_area": {"health": _l("Health"), "education": _l("Education"), "employment": _l("Employment"),
                  "income": _l("Income"), "housing": _l("Housing"), "family": _l("Family"), "legal": _l("Legal"),
                  "other": _l("Other")},
    "goal_status": {"agreed": _l("Agreed"), "in_progress": _l("In progress"), "achieved": _l("Achieved"),
                    "dropped": _l("Dropped")},
    "event_kind": {"hearing": _l("Hearing"), "stage_change": _l("Change of stage"), "other": _l("Other")},
    "protection": {"witness_protection": _l("Witness protection"), "police_measures": _l("Police measures"),
                   "other": _l("Other")},
    "protection_status": {"requested": _l("Requested"), "granted": _l("Granted"), "denied": _l("Denied"),
                          "ended": _l("Ended")},
    "referral_status": {"sent": _l("Sent"), "accepted": _l("Accepted"), "rejected": _l("Rejected"),
                        "done": _l("Done"), "withdrawn": _l("Withdrawn")},
    "section": {"identity": _l("Identity and contact"), "summary": _l("Case summary"),
                "psychosocial": _l("Psychosocial"), "legal": _l("Legal")},
}


def label(group: str, code: str | None) -> str:
    if not code:
        return ""
    return str(LABELS.get(group, {}).get(code, code))


def due_dates(case) -> dict:
    """The phase due dates of a case from the rule in force on its intake date."""
    return due.phase_dates(case).as_dict()


# --- helpers shared by the route services ---------------------------------------------------------------


def case_by_code(code: str) -> Case:
    if not isinstance(code, str) or not code.strip() or len(code) > 32:
        raise NotFound()
    case = db.session.scalar(select(Case).where(Case.code == code.strip().upper()))
    if case is None:
        raise NotFound()
    return case


def load_case(actor, code: str, action: str = "case.read") -> Case:
    """The case named by `code` if `actor` may do `action` on it (NotFound when she may not know it exists)."""
    case = case_by_code(code)
    if action != "case.read":
        authz.require(actor, "case.read", case)
    authz.require(actor, action, case)
    return case


def check_version(row, version) -> None:
    """Refuse an edit made on a stale copy of the row, or made without saying which copy it was made from."""
    if version is None or version == "":
        raise Invalid(_("The form is incomplete. Reload the page and try again."))
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise Invalid(_("The form is incomplete. Reload the page and try again.")) from None
    if row.version != version:
        raise Conflict(_("Someone else changed this record while you were editing it. "
                         "Reload it and try again; nothing was saved."))


def commit(conflict_message: str | None = None) -> None:
    """Commit; a concurrent edit of a versioned row becomes a clear Conflict, nothing half-written."""
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise Conflict(conflict_message or _("Someone else changed this record while you were editing it. "
                                             "Reload it and try again; nothing was saved.")) from None


def not_future(value: date | None, field_name: str, errors: dict) -> None:
    if value is not None and value > today():
        errors[field_name] = _("The date cannot be in the future.")


def require_open(case: Case) -> None:
    if case.status == "closed":
        raise Conflict(_("The case is closed. Reopen it first."))


# --- the route page ----------------------------------------------------------------------------------------


@dataclass
class RouteOverview:
    case: Case
    sections: frozenset
    dates: due.PhaseDates
    route: CaseRoute | None
    steps: list = field(default_factory=list)
    goals: list = field(default_factory=list)
    stays: list = field(default_factory=list)
    referrals: list = field(default_factory=list)
    closures: list = field(default_factory=list)
    legal: object | None = None
    psychosocial_notes: list | None = None
    legal_notes: list | None = None
    can_see_psychosocial: bool = False
    can_see_legal: bool = False
    can_see_legal_notes: bool = False


def overview(actor, code: str) -> RouteOverview:
    """Everything of a case's route that `actor` may see, by section; the read is logged by case code."""
    from caseapp.services import legal as legal_service
    from caseapp.services import steps as step_service

    case = load_case(actor, code)
    sections = authz.case_sections(actor, case)
    view = RouteOverview(
        case=case, sections=sections, dates=due.phase_dates(case),
        route=db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id)),
    )
    view.steps = list(db.session.scalars(
        select(AssistanceStep).where(AssistanceStep.case_id == case.id)
        .order_by(AssistanceStep.phase, AssistanceStep.id)
    ))
    view.can_see_psychosocial = authz.can(actor, "case.psychosocial.read", case)
    view.can_see_legal = authz.can(actor, "case.legal.read", case)
    view.can_see_legal_notes = authz.can(actor, "case.legal_notes.read", case)
    if view.can_see_psychosocial:
        view.goals = list(db.session.scalars(
            select(LifePlanGoal).where(LifePlanGoal.case_id == case.id).order_by(LifePlanGoal.id)))
        view.psychosocial_notes = step_service.notes_of(case, "psychosocial")
    view.stays = list(db.session.scalars(
        select(ShelterStay).where(ShelterStay.case_id == case.id).order_by(ShelterStay.id)))
    if view.can_see_legal:
        view.legal = legal_service.legal_of(case)
    if view.can_see_legal_notes:
        view.legal_notes = step_service.notes_of(case, "legal")
    referrals = select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)
    if case.owner_entity_id != actor.entity_id:
        referrals = referrals.where(or_(Referral.to_entity_id == actor.entity_id,
                                        Referral.from_entity_id == actor.entity_id))
    view.referrals = list(db.session.scalars(referrals))
    view.closures = list(db.session.scalars(
        select(CaseClosure).where(CaseClosure.case_id == case.id).order_by(CaseClosure.id)))
    audit.record("case.route.view", case, actor=actor, detail={"sections": sorted(sections)})
    db.session.commit()
    return view


# --- closure -----------------------------------------------------------------------------------------------


def pending_referrals(case: Case) -> list[Referral]:
    return list(db.session.scalars(
        select(Referral).where(Referral.case_id == case.id, Referral.status == "sent")))


def close_case(actor, code: str, *, reason: str, closed_on: date | None, note: str | None, version) -> Case:
    """Close a case with a reason, only when no referral waits for an answer (the child one included)."""
    from caseapp.services import referrals as referral_service

    case = load_case(actor, code, "case.close")
    check_version(case, version)
    require_open(case)
    errors: dict = {}
    if reason not in CLOSURE_REASONS:
        errors["reason"] = _("Choose a closure reason from the list.")
    closed_on = closed_on or today()
    not_future(closed_on, "closed_on", errors)
    if closed_on < case.identified_on:
        errors["closed_on"] = _("The case cannot close before it was identified.")
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    referral_service.ensure_child_referral(actor, case)
    if pending_referrals(case):
        raise Conflict(_("The case has referrals waiting for an answer; it cannot be closed until they are answered."))
    if db.session.scalar(select(ShelterStay.id).where(ShelterStay.case_id == case.id, ShelterStay.left_on.is_(None))):
        raise Conflict(_("The victim is still lodged in a shelter: record her departure before closing the case."))
    closure = CaseClosure(case=case, closed_on=closed_on, reason=reason, status_before=case.status,
                          closed_by_id=actor.id)
    db.session.add(closure)
    closure.note = note
    case.status, case.closed_on, case.closure_reason = "closed", closed_on, reason
    audit.record("case.close", case, actor=actor, detail={"reason": reason})
    commit()
    return case


def reopen_case(actor, code: str, *, reason: str | None, reopened_on: date | None, version) -> Case:
    """Reopen a closed case into the phase it was in; the closure stays in the history."""
    case = load_case(actor, code, "case.close")
    check_version(case, version)
    if case.status != "closed":
        raise Conflict(_("The case is not closed."))
    if not (reason or "").strip():
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"reason": _("Say why the case is reopened.")})
    closure = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case.id,
                                                          CaseClosure.reopened_on.is_(None))
                                .order_by(CaseClosure.id.desc()).limit(1))
    previous = closure.status_before if closure else (
        "in_mediate_assistance" if case.immediate_closed_on else
        "in_immediate_assistance" if case.intake_on else "identified")
    if closure is not None:
        closure.reopened_on = reopened_on or today()
        closure.reopened_by_id = actor.id
        closure.reopen_reason = reason.strip()
    case.status, case.closed_on, case.closure_reason = previous, None, None
    audit.record("case.reopen", case, actor=actor)
    commit()
    return case


# --- agenda ------------------------------------------------------------------------------------------------


@dataclass
class AgendaItem:
    case_code: str
    what: str
    due_on: date
    overdue: bool
    kind: str  # phase | step | goal | hearing | referral
    referral_id: int | None = None


def _my_open_cases(actor):
    return select(Case).where(
        Case.owner_entity_id == actor.entity_id,
        or_(Case.assigned_to_id == actor.id, Case.created_by_id == actor.id),
        Case.status != "closed",
    )


def agenda(actor, on: date | None = None, days: int = 7) -> dict:
    """What is overdue and what falls due in the next `days` days among the cases the user owns or is assigned."""
    authz.require(actor, "route.agenda")
    on = on or today()
    horizon = on + timedelta(days=days - 1)
    items: list[AgendaItem] = []
    cases = list(db.session.scalars(_my_open_cases(actor).order_by(Case.id)))
    ids = [c.id for c in cases]
    codes = {c.id: c.code for c in cases}
    for case in cases:
        dates = due.phase_dates(case)
        if case.status == "in_immediate_assistance" and dates.immediate_due_on:
            items.append(AgendaItem(case.code, _("End of immediate assistance"), dates.immediate_due_on,
                                    dates.immediate_due_on < on, "phase"))
        if case.status == "in_mediate_assistance" and dates.mediate_due_on:
            items.append(AgendaItem(case.code, _("End of mediate assistance"), dates.mediate_due_on,
                                    dates.mediate_due_on < on, "phase"))
    if ids:
        for step in db.session.scalars(select(AssistanceStep).where(
                AssistanceStep.case_id.in_(ids), AssistanceStep.status.in_(OPEN_STEP_STATUSES),
                AssistanceStep.planned_on.is_not(None), AssistanceStep.planned_on <= horizon)):
            items.append(AgendaItem(codes[step.case_id], step.kind.label_es if _lang_es() else step.kind.label_en,
                                    step.planned_on, step.planned_on < on, "step"))
        for goal in db.session.scalars(select(LifePlanGoal).where(
                LifePlanGoal.case_id.in_(ids), LifePlanGoal.status.in_(("agreed", "in_progress")),
                LifePlanGoal.target_on.is_not(None), LifePlanGoal.target_on <= horizon)):
            items.append(AgendaItem(codes[goal.case_id], _("Life plan goal"), goal.target_on,
                                    goal.target_on < on, "goal"))
        for event in db.session.scalars(select(LegalEvent).where(
                LegalEvent.case_id.in_(ids), LegalEvent.on >= on, LegalEvent.on <= horizon)):
            items.append(AgendaItem(codes[event.case_id], _("Hearing"), event.on, False, "hearing"))
    for ref in db.session.scalars(select(Referral).where(
            Referral.to_entity_id == actor.entity_id, Referral.status == "sent",
            Referral.due_on.is_not(None), Referral.due_on <= horizon)):
        items.append(AgendaItem(ref.case.code, _("Answer a referral"), ref.due_on, ref.due_on < on, "referral",
                                referral_id=ref.id))
    items.sort(key=lambda i: (i.due_on, i.case_code))
    audit.record("route.agenda", actor=actor, object_type="agenda", object_ref=actor.username,
                 detail={"items": len(items)})
    db.session.commit()
    return {"on": on, "horizon": horizon,
            "overdue": [i for i in items if i.overdue],
            "upcoming": [i for i in items if not i.overdue]}


def _lang_es() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is None or locale.language != "en"


# --- monthly list for the investigation and prosecution table -------------------------------------------------


TABLE_COLUMNS = ("case", "status", "stage", "complaint_on", "next_hearing", "pending_actions")


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"month": _("Choose a valid month.")})
    start = date(year, month, 1)
    return start, due.add_months(start, 1) - timedelta(days=1)


def table_list(actor, year: int, month: int, *, export: str | None = None) -> list[dict]:
    """Case codes with the stage of the criminal process and pending actions, no names (seed 003).

    The entity's cases open at some time during the month. Logged as a view, or as an export with its format.
    """
    authz.require(actor, "route.table_list")
    start, end = _month_bounds(year, month)
    cases = list(db.session.scalars(
        select(Case).where(Case.owner_entity_id == actor.entity_id, Case.identified_on <= end,
                           or_(Case.closed_on.is_(None), Case.closed_on >= start)).order_by(Case.code)))
    ids = [c.id for c in cases]
    proceedings, hearings, steps, refs, measures = {}, {}, {}, {}, {}
    if ids:
        proceedings = {p.case_id: p for p in db.session.scalars(
            select(LegalProceeding).where(LegalProceeding.case_id.in_(ids)))}
        for ev in db.session.scalars(select(LegalEvent).where(LegalEvent.case_id.in_(ids), LegalEvent.on >= start,
                                                              LegalEvent.kind == "hearing").order_by(LegalEvent.on)):
            hearings.setdefault(ev.case_id, ev.on)
        for st in db.session.scalars(select(AssistanceStep).where(
                AssistanceStep.case_id.in_(ids), AssistanceStep.status.in_(OPEN_STEP_STATUSES))):
            steps.setdefault(st.case_id, []).append(st.kind.label_es if _lang_es() else st.kind.label_en)
        for ref in db.session.scalars(select(Referral).where(Referral.case_id.in_(ids), Referral.status == "sent")):
            refs.setdefault(ref.case_id, []).append(ref.to_entity.code)
        for m in db.session.scalars(select(ProtectionMeasure).where(
                ProtectionMeasure.case_id.in_(ids), ProtectionMeasure.status == "requested")):
            measures[m.case_id] = measures.get(m.case_id, 0) + 1
    rows = []
    for case in cases:
        proc = proceedings.get(case.id)
        pending = list(steps.get(case.id, []))
        pending += [_("Referral to %(entity)s awaiting answer", entity=e) for e in refs.get(case.id, [])]
        if measures.get(case.id):
            pending.append(_("Protection measure awaiting decision"))
        if proc is None or proc.complaint_filed_on is None:
            pending.append(_("Criminal complaint not recorded"))
        dates = due.phase_dates(case)
        overdue_on = (dates.immediate_due_on if case.status == "in_immediate_assistance" else
                      dates.mediate_due_on if case.status == "in_mediate_assistance" else None)
        if overdue_on and overdue_on < today():
            pending.append(_("Phase past its due date"))
        rows.append({
            "case": case.code,
            "status": label("status", case.status),
            "stage": label("stage", proc.stage) if proc else "",
            "complaint_on": proc.complaint_filed_on.isoformat() if proc and proc.complaint_filed_on else "",
            "next_hearing": hearings[case.id].isoformat() if case.id in hearings else "",
            "pending_actions": "; ".join(pending),
        })
    period = f"{year:04d}-{month:02d}"
    if export:
        audit.record("export.table_list", actor=actor, object_type="export", object_ref=period,
                     detail={"format": export, "rows": len(rows)})
    else:
        audit.record("route.table_list.view", actor=actor, object_type="report", object_ref=period,
                     detail={"rows": len(rows)})
    db.session.commit()
    return rows


def _safe_cell(value) -> str:
    """Neutralise spreadsheet formulas (CSV/formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def table_headers() -> list[str]:
    return [_("Case"), _("Status"), _("Stage of the criminal process"), _("Complaint filed on"),
            _("Next hearing"), _("Pending actions")]


def table_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table_headers())
    for row in rows:
        writer.writerow([_safe_cell(row[c]) for c in TABLE_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(rows: list[dict], period: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = period
    ws.append(table_headers())
    for row in rows:
        ws.append([_safe_cell(row[c]) for c in TABLE_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

