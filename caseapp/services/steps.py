"""Assistance steps, the phases of the route, extensions, the life plan and the follow-up notes.

A case enters immediate assistance with its first immediate step (its intake date is that step's date)
and mediate assistance when the immediate phase is closed with the criminal complaint and the agreed record of
objectives and commitments ("acta única", Decree 1066 of 2015 art. 2.2.2.2.17) recorded.
Notes are split by need-to-know: psychosocial (social workers) and legal (lawyers).
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.route import (
    GOAL_AREAS,
    GOAL_STATUSES,
    NOTE_SECTIONS,
    STEP_STATUSES,
    AssistanceStep,
    CaseNote,
    CaseRoute,
    LegalProceeding,
    LifePlanGoal,
    PhaseExtension,
    StepKind,
)
from caseapp.services import due
from caseapp.services.route import check_version, commit, load_case, not_future, require_open
from caseapp.timeutil import today, utcnow

MAX_TEXT = 4000


def _invalid(errors: dict):
    return Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)


def _text(value, limit: int = MAX_TEXT) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    return value[:limit] or None


def parse_date(value, field_name: str, errors: dict) -> date | None:
    """A date from a form/API value (date or ISO text); a clear message on bad input."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field_name] = _("Write the date as YYYY-MM-DD.")
        return None


# --- catalogue ---------------------------------------------------------------------------------------------


def step_kinds(active_only: bool = True) -> list[StepKind]:
    query = select(StepKind).order_by(StepKind.phase, StepKind.sort_order, StepKind.id)
    if active_only:
        query = query.where(StepKind.active.is_(True))
    return list(db.session.scalars(query))


def kind_by_code(code: str | None) -> StepKind | None:
    if not code:
        return None
    return db.session.scalar(select(StepKind).where(StepKind.code == str(code).strip()))


def _write_action(kind: StepKind) -> str:
    return "case.legal.write" if kind.section == "legal" else "case.psychosocial.write"


def _read_action(section: str) -> str:
    return "case.legal_notes.read" if section == "legal" else "case.psychosocial.read"


def can_read_step_notes(actor, step: AssistanceStep) -> bool:
    return authz.can(actor, _read_action(step.kind.section), step.case)


# --- steps -------------------------------------------------------------------------------------------------


def list_steps(actor, code: str) -> tuple:
    case = load_case(actor, code)
    steps = list(db.session.scalars(
        select(AssistanceStep).where(AssistanceStep.case_id == case.id).order_by(AssistanceStep.id)))
    audit.record("case.steps.view", case, actor=actor)
    db.session.commit()
    return case, steps


def _check_consent(case) -> None:
    if case.declined_assistance or case.active_consent("assistance") is None:
        raise Conflict(_("The victim has not given her consent to assistance; record it before logging steps."))


def add_step(actor, code: str, *, kind: str, status: str = "done", planned_on=None, done_on=None,
             provider_entity: str | None = None, notes: str | None = None,
             not_provided_reason: str | None = None, version=None, _commit: bool = True) -> AssistanceStep:
    """Log an assistance step; the first immediate step opens the immediate phase (intake)."""
    case = load_case(actor, code)
    errors: dict = {}
    kind_row = kind_by_code(kind)
    if kind_row is None or not kind_row.active:
        errors["kind"] = _("Choose a kind of step from the list.")
    if status not in STEP_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    planned_on = parse_date(planned_on, "planned_on", errors)
    done_on = parse_date(done_on, "done_on", errors)
    if errors:
        raise _invalid(errors)
    authz.require(actor, _write_action(kind_row), case)
    if version is not None:  # a new step needs no version; the web form sends the case's to catch a stale page
        check_version(case, version)
    require_open(case)
    _check_consent(case)
    if status == "done" and done_on is None:
        errors["done_on"] = _("Say when the step was done.")
    if status == "planned" and planned_on is None:
        errors["planned_on"] = _("Say when the step is planned.")
    if status == "not_provided" and not _text(not_provided_reason):
        errors["not_provided_reason"] = _("Say why the service was not provided.")
    not_future(done_on, "done_on", errors)
    for name, value in (("done_on", done_on), ("planned_on", planned_on)):
        if value is not None and value < case.identified_on and name not in errors:
            errors[name] = _("The date cannot be before the case was identified.")
    provider = None
    if provider_entity:
        provider = db.session.scalar(select(Entity).where(Entity.code == str(provider_entity).strip().upper()))
        if provider is None:
            errors["provider_entity"] = _("Unknown entity.")
    if errors:
        raise _invalid(errors)
    if kind_row.phase == "mediate" and case.status != "in_mediate_assistance":
        raise Conflict(_("Mediate assistance starts when the immediate phase is closed with the complaint and the "
                         "agreed record of objectives."))
    step = AssistanceStep(case=case, phase=kind_row.phase, kind=kind_row, status=status, planned_on=planned_on,
                          done_on=done_on if status == "done" else None,
                          provider_entity_id=provider.id if provider else actor.entity_id,
                          professional_id=actor.id, created_by_id=actor.id)
    db.session.add(step)
    step.notes = _text(notes)
    step.not_provided_reason = _text(not_provided_reason) if status == "not_provided" else None
    if kind_row.phase == "immediate" and case.status == "identified":
        case.status = "in_immediate_assistance"
        case.intake_on = done_on or planned_on or today()
        audit.record("case.phase.immediate", case, actor=actor)
    audit.record("case.step.add", case, actor=actor, detail={"kind": kind_row.code, "status": status})
    if _commit:
        commit()
    return step


def update_step(actor, step_id: int, *, version, status: str, planned_on=None, done_on=None,
                notes: str | None = None, not_provided_reason: str | None = None) -> AssistanceStep:
    step = db.session.get(AssistanceStep, step_id)
    if step is None:
        raise NotFound()
    load_case(actor, step.case.code)
    authz.require(actor, _write_action(step.kind), step.case)
    check_version(step, version)
    require_open(step.case)
    errors: dict = {}
    if status not in STEP_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    planned_on = parse_date(planned_on, "planned_on", errors)
    done_on = parse_date(done_on, "done_on", errors)
    if status == "done" and done_on is None and "done_on" not in errors:
        errors["done_on"] = _("Say when the step was done.")
    if status == "not_provided" and not _text(not_provided_reason):
        errors["not_provided_reason"] = _("Say why the service was not provided.")
    not_future(done_on, "done_on", errors)
    if errors:
        raise _invalid(errors)
    step.status = status
    step.planned_on = planned_on or step.planned_on
    step.done_on = done_on if status == "done" else None
    if notes is not None and _text(notes):
        step.notes = _text(notes)
    step.not_provided_reason = _text(not_provided_reason) if status == "not_provided" else None
    audit.record("case.step.update", step.case, actor=actor, detail={"step": step.id, "status": status})
    commit()
    return step


# --- phases ------------------------------------------------------------------------------------------------


def close_immediate(actor, code: str, *, version, closed_on=None, complaint_on=None, acta_on=None,
                    acta_summary: str | None = None) -> object:
    """Close the immediate phase and open the mediate one: needs the complaint date and the acta única."""
    case = load_case(actor, code, "case.update")
    check_version(case, version)
    require_open(case)
    if case.status != "in_immediate_assistance":
        raise Conflict(_("The case is not in immediate assistance."))
    errors: dict = {}
    closed_on = parse_date(closed_on, "closed_on", errors) or (today() if "closed_on" not in errors else None)
    complaint_on = parse_date(complaint_on, "complaint_on", errors)
    acta_on = parse_date(acta_on, "acta_on", errors)
    if complaint_on is None and "complaint_on" not in errors:
        proc = db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == case.id))
        complaint_on = proc.complaint_filed_on if proc else None
        if complaint_on is None:
            errors["complaint_on"] = _("Mediate assistance starts from the criminal complaint: record its date.")
    if acta_on is None and "acta_on" not in errors:
        errors["acta_on"] = _("Record the date of the agreed record of objectives and commitments (acta única).")
    for name, value in (("closed_on", closed_on), ("complaint_on", complaint_on), ("acta_on", acta_on)):
        not_future(value, name, errors)
    if closed_on and case.intake_on and closed_on < case.intake_on and "closed_on" not in errors:
        errors["closed_on"] = _("The immediate phase cannot end before it started.")
    if errors:
        raise _invalid(errors)
    route = db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id))
    if route is None:
        route = CaseRoute(case=case)
        db.session.add(route)
    route.complaint_on, route.acta_on, route.immediate_closed_by_id = complaint_on, acta_on, actor.id
    route.acta_summary = _text(acta_summary)
    case.immediate_closed_on = closed_on
    case.status = "in_mediate_assistance"
    audit.record("case.phase.mediate", case, actor=actor)
    commit()
    return case


def extend_phase(actor, code: str, *, version, phase: str, amount, reason: str | None, decided_by: str | None,
                 decided_on=None, reported: bool = False) -> PhaseExtension:
    """Record the one extension a phase allows (days for immediate, months for mediate), within the rule."""
    case = load_case(actor, code, "case.update")
    check_version(case, version)
    require_open(case)
    current = {"in_immediate_assistance": "immediate", "in_mediate_assistance": "mediate"}.get(case.status)
    if phase != current:
        raise Conflict(_("Only the phase the case is in can be extended."))
    rule = due.rule_in_force(case.intake_on)
    if rule is None:
        raise Conflict(_("No due-date rule is in force for this case's intake date; ask an administrator."))
    errors: dict = {}
    limit = rule.immediate_extension_days if phase == "immediate" else rule.mediate_extension_months
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        amount = 0
    if not 1 <= amount <= limit:
        errors["amount"] = (_("Between 1 and %(n)s days.", n=limit) if phase == "immediate"
                            else _("Between 1 and %(n)s months.", n=limit))
    if not _text(reason):
        errors["reason"] = _("Say why the phase is extended.")
    if not _text(decided_by, 200):
        errors["decided_by"] = _("Say who decided the extension.")
    decided_on = parse_date(decided_on, "decided_on", errors) or (today() if "decided_on" not in errors else None)
    not_future(decided_on, "decided_on", errors)
    if errors:
        raise _invalid(errors)
    existing = db.session.scalar(select(PhaseExtension).where(PhaseExtension.case_id == case.id,
                                                              PhaseExtension.phase == phase))
    if existing is not None or rule.max_extensions < 1:
        raise Conflict(_("This phase has already been extended; the rule allows one extension."))
    ext = PhaseExtension(case=case, phase=phase, extra_days=amount if phase == "immediate" else 0,
                         extra_months=amount if phase == "mediate" else 0, decided_on=decided_on,
                         decided_by=_text(decided_by, 200), reported_to_secretariat=bool(reported),
                         recorded_by_id=actor.id, recorded_at=utcnow())
    db.session.add(ext)
    ext.reason = _text(reason)
    audit.record("case.phase.extend", case, actor=actor, detail={"phase": phase, "amount": amount})
    commit(_("This phase has already been extended; the rule allows one extension."))
    return ext


# --- life plan ---------------------------------------------------------------------------------------------


def add_goal(actor, code: str, *, area: str, description: str | None, agreed_on=None, target_on=None) -> LifePlanGoal:
    case = load_case(actor, code, "case.psychosocial.write")
    require_open(case)
    errors: dict = {}
    if area not in GOAL_AREAS:
        errors["area"] = _("Choose an area from the list.")
    if not _text(description):
        errors["description"] = _("Describe the goal agreed with the victim.")
    agreed_on = parse_date(agreed_on, "agreed_on", errors) or (today() if "agreed_on" not in errors else None)
    target_on = parse_date(target_on, "target_on", errors)
    not_future(agreed_on, "agreed_on", errors)
    if target_on and agreed_on and target_on < agreed_on:
        errors["target_on"] = _("The target date cannot be before the agreement.")
    if errors:
        raise _invalid(errors)
    goal = LifePlanGoal(case=case, area=area, status="agreed", agreed_on=agreed_on, target_on=target_on,
                        created_by_id=actor.id)
    db.session.add(goal)
    goal.description = _text(description)
    audit.record("case.life_plan.add", case, actor=actor, detail={"area": area})
    commit()
    return goal


def review_goal(actor, goal_id: int, *, version, status: str, reviewed_on=None, review_note: str | None = None):
    goal = db.session.get(LifePlanGoal, goal_id)
    if goal is None:
        raise NotFound()
    load_case(actor, goal.case.code, "case.psychosocial.write")
    check_version(goal, version)
    require_open(goal.case)
    errors: dict = {}
    if status not in GOAL_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    reviewed_on = parse_date(reviewed_on, "reviewed_on", errors) or (today() if "reviewed_on" not in errors else None)
    not_future(reviewed_on, "reviewed_on", errors)
    if errors:
        raise _invalid(errors)
    goal.status, goal.reviewed_on = status, reviewed_on
    if _text(review_note):
        goal.review_note = _text(review_note)
    audit.record("case.life_plan.review", goal.case, actor=actor, detail={"goal": goal.id, "status": status})
    commit()
    return goal


# --- notes (need-to-know) ------------------------------------------------------------------------------------


def notes_of(case, section: str) -> list[CaseNote]:
    """Notes of one section (the caller has checked permission)."""
    return list(db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id, CaseNote.section == section)
                                   .order_by(CaseNote.written_on.desc(), CaseNote.id.desc())))


def list_notes(actor, code: str, section: str) -> tuple:
    if section not in NOTE_SECTIONS:
        raise NotFound()
    case = load_case(actor, code, _read_action(section))
    notes = notes_of(case, section)
    audit.record(f"case.{section}_notes.view", case, actor=actor)
    db.session.commit()
    return case, notes


def add_note(actor, code: str, section: str, *, body: str | None, written_on=None) -> CaseNote:
    if section not in NOTE_SECTIONS:
        raise NotFound()
    case = load_case(actor, code, _read_action(section))
    authz.require(actor, "case.legal.write" if section == "legal" else "case.psychosocial.write", case)
    errors: dict = {}
    if not _text(body):
        errors["body"] = _("Write the note.")
    written_on = parse_date(written_on, "written_on", errors) or (today() if "written_on" not in errors else None)
    not_future(written_on, "written_on", errors)
    if errors:
        raise _invalid(errors)
    note = CaseNote(case=case, section=section, written_on=written_on, author_id=actor.id, created_at=utcnow())
    db.session.add(note)
    note.body = _text(body)
    audit.record(f"case.{section}_notes.add", case, actor=actor)
    commit()
    return note


# --- catalogue administration ------------------------------------------------------------------------------


def save_step_kind(actor, *, code: str, phase: str, section: str, label_es: str, label_en: str) -> StepKind:
    """An admin adds a kind of step (codes are permanent: steps refer to them)."""
    from caseapp.models.route import PHASES, STEP_SECTIONS

    authz.require(actor, "admin.manage")
    errors: dict = {}
    code = (code or "").strip().lower()
    if not code or len(code) > 40 or not all(c.isalnum() or c == "_" for c in code):
        errors["code"] = _("Use up to 40 lowercase letters, digits or underscores.")
    elif kind_by_code(code) is not None:
        errors["code"] = _("A kind with this code already exists.")
    if phase not in PHASES:
        errors["phase"] = _("Choose a phase from the list.")
    if section not in STEP_SECTIONS:
        errors["section"] = _("Choose a section from the list.")
    if not _text(label_es, 200):
        errors["label_es"] = _("Write the label.")
    if not _text(label_en, 200):
        errors["label_en"] = _("Write the label.")
    if errors:
        raise _invalid(errors)
    order = db.session.scalar(select(StepKind.sort_order).order_by(StepKind.sort_order.desc()).limit(1)) or 0
    kind = StepKind(code=code, phase=phase, section=section, label_es=_text(label_es, 200),
                    label_en=_text(label_en, 200), active=True, sort_order=order + 1)
    db.session.add(kind)
    db.session.flush()
    audit.record("route.step_kind.create", kind, actor=actor, detail={"code": code})
    commit()
    return kind


def toggle_step_kind(actor, kind_id: int, *, version) -> StepKind:
    """Retire a kind from new steps (or bring it back); recorded steps keep it."""
    authz.require(actor, "admin.manage")
    kind = db.session.get(StepKind, kind_id)
    if kind is None:
        raise NotFound()
    check_version(kind, version)
    kind.active = not kind.active
    audit.record("route.step_kind.toggle", kind, actor=actor, detail={"code": kind.code, "active": kind.active})
    commit()
    return kind
