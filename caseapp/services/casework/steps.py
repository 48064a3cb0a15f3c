"""Assistance steps: the services given or planned for a victim, in the immediate or the mediate phase.

The first immediate step opens the immediate phase (through the case lifecycle, which owns the status).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from caseapp import audit, authz
from caseapp.errors import Conflict, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import STEP_STATUSES, AssistanceStep, ShelterStay, StepKind
from caseapp.services.casework import referral_moves
from caseapp.services.casework.step_kinds import kind_by_code
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_version,
)
from caseapp.services.route import lifecycle
from caseapp.services.route.lifecycle import require_assistance_consent, require_open
from caseapp.timeutil import today, utcnow

# --- steps -------------------------------------------------------------------------------------------------


LODGING = "lodging"  # the kind of the step a shelter stay is (services.casework.shelters)


def lodging_steps(case_ids):
    """SQL: the ids of the steps of the cases `case_ids` that say where she is lodged (a lodging step, or the step of
    a shelter stay). They show only to a reader of her identity and contact, like the stay itself: every list of
    steps (the route page, the agenda, "Mis casos") leaves them out for any other reader."""
    return select(AssistanceStep.id).where(AssistanceStep.case_id.in_(case_ids), or_(
        AssistanceStep.kind_id.in_(select(StepKind.id).where(StepKind.code == LODGING)),
        AssistanceStep.id.in_(select(ShelterStay.step_id).where(ShelterStay.case_id.in_(case_ids)))))


def steps_seen(case_id, *, with_identity: bool):
    """SQL: the steps of the case `case_id` (a value or a bind parameter) a reader sees: with her identity and
    contact (authz "case.identity.read"), all of them; without, none that says where she is lodged (lodging_steps).
    The one condition of steps_of and of the timeline, which reads them in its own statement."""
    mine = AssistanceStep.case_id == case_id
    return mine if with_identity else and_(mine, AssistanceStep.id.not_in(lodging_steps([case_id])))


def steps_of(actor, case: Case, *, by_phase: bool = False) -> list[AssistanceStep]:
    """The steps of a case the reader may see (steps_seen: where she is lodged, to a reader of her identity
    only)."""
    stmt = select(AssistanceStep).where(
        steps_seen(case.id, with_identity=authz.can(actor, "case.identity.read", case)))
    order = (AssistanceStep.phase, AssistanceStep.id) if by_phase else (AssistanceStep.id,)
    return list(db.session.scalars(stmt.order_by(*order)))


def list_steps(actor, code: str) -> tuple:
    case = load_case_for(actor, code)
    steps = steps_of(actor, case)
    audit.record("case.steps.view", case, actor=actor)
    commit_read()
    return case, steps


def _provider(code, errors: dict) -> Entity | None:
    if not code:
        return None
    provider = db.session.scalar(select(Entity).where(Entity.code == str(code).strip().upper()))
    if provider is None:
        errors["provider_entity"] = _("Unknown entity.")
    return provider


def _checked(case: Case, status, planned_on, done_on, not_provided_reason, *, planned_before=None) -> tuple:
    """A step's status and dates as a form or the API sent them, checked the same way for a new or a revised step:
    (planned_on, done_on), or Invalid with every error at once."""
    errors: dict = {}
    if status not in STEP_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    planned_on = parse_date(planned_on, "planned_on", errors)
    done_on = parse_date(done_on, "done_on", errors)
    if status == "done" and done_on is None and "done_on" not in errors:
        errors["done_on"] = _("Say when the step was done.")
    if status == "planned" and (planned_on or planned_before) is None and "planned_on" not in errors:
        errors["planned_on"] = _("Say when the step is planned.")
    if status == "not_provided" and not clean_text(not_provided_reason):
        errors["not_provided_reason"] = _("Say why the service was not provided.")
    not_future(done_on, "done_on", errors)
    for name, value in (("done_on", done_on), ("planned_on", planned_on)):
        if value is not None and value < case.identified_on and name not in errors:
            errors[name] = _("The date cannot be before the case was identified.")
    if errors:
        raise invalid(errors)
    return planned_on, done_on


def record_step(actor, case: Case, kind_row: StepKind, *, status: str, planned_on=None, done_on=None,
                provider_entity_id: int, notes: str | None = None, not_provided_reason: str | None = None,
                opens_phase: bool = True) -> AssistanceStep:
    """Write a step of `kind_row` on the case, in the caller's transaction, the caller having checked who may.

    The rules of a step hold here whoever records it (the owner's professional, or a receiving entity through
    its referral): the case is open, the victim's consent to assistance is in force, the dates make sense, a
    mediate step waits for the mediate phase, and the owner's first immediate step opens the immediate phase
    (a receiving entity's step never moves the owner's case: `opens_phase=False`).
    """
    require_open(case)
    require_assistance_consent(case)
    planned_on, done_on = _checked(case, status, planned_on, done_on, not_provided_reason)
    if kind_row.phase == "mediate" and case.status != "in_mediate_assistance":
        raise Conflict(_("Mediate assistance starts when the immediate phase is closed with the complaint and the "
                         "agreed record of objectives."), rule="mediate_phase_required")
    if kind_row.phase == "immediate" and case.status == "identified":
        if not opens_phase:
            raise Conflict(_("The entity that owns the case has not started immediate assistance yet: it records "
                             "the first step."), rule="immediate_not_started")
        lifecycle.start_immediate(actor, case, on=done_on or min(planned_on or today(), today()))
    step = AssistanceStep(case=case, phase=kind_row.phase, kind=kind_row, status=status, planned_on=planned_on,
                          done_on=done_on if status == "done" else None, provider_entity_id=provider_entity_id,
                          professional_id=actor.id, created_by_id=actor.id)
    db.session.add(step)
    step.notes = clean_text(notes)
    step.not_provided_reason = clean_text(not_provided_reason) if status == "not_provided" else None
    db.session.flush()
    audit.record("case.step.add", case, actor=actor, detail={"kind": kind_row.code, "status": status, "step": step.id})
    return step


def add_step(actor, code: str, *, kind: str, status: str = "done", planned_on=None, done_on=None,
             provider_entity: str | None = None, notes: str | None = None,
             not_provided_reason: str | None = None, commit_now: bool = True) -> AssistanceStep:
    """Log an assistance step on a case of the actor's entity, of a kind her role records."""
    case = load_case_for(actor, code)
    errors: dict = {}
    kind_row = kind_by_code(kind)
    if kind_row is None or not kind_row.active:
        raise invalid({"kind": _("Choose a kind of step from the list.")})
    if not authz.can_record_step(actor, case, kind_row):
        authz.require(actor, "case.record_step:" + kind_row.code, case)  # refused, and the refusal logged
    provider = _provider(provider_entity, errors)
    if errors:
        raise invalid(errors)
    step = record_step(actor, case, kind_row, status=status, planned_on=planned_on, done_on=done_on,
                       provider_entity_id=provider.id if provider else actor.entity_id, notes=notes,
                       not_provided_reason=not_provided_reason)
    if commit_now:
        commit()
    return step


def revise_step(actor, step: AssistanceStep, *, status: str, planned_on=None, done_on=None,
                notes: str | None = None, not_provided_reason: str | None = None) -> AssistanceStep:
    """Change a step's status, dates and notes, in the caller's transaction, the caller having checked who may."""
    require_open(step.case)
    if status != "not_provided":  # saying that a service was not given is bookkeeping; anything else is assistance
        require_assistance_consent(step.case)
    if status != step.status and db.session.scalar(select(ShelterStay.id).where(
            ShelterStay.step_id == step.id, ShelterStay.left_on.is_(None))):
        # A lodging step follows her stay: it ends with her recorded departure (which frees the bed), not here.
        raise Conflict(_("This step is her stay in a shelter: record her departure to finish it."),
                       rule="shelter_stay_open")
    planned_on, done_on = _checked(step.case, status, planned_on, done_on, not_provided_reason,
                                   planned_before=step.planned_on)
    step.status = status
    step.planned_on = planned_on or step.planned_on
    step.done_on = done_on if status == "done" else None
    if clean_text(notes):
        step.notes = clean_text(notes)
    step.not_provided_reason = clean_text(not_provided_reason) if status == "not_provided" else None
    audit.record("case.step.update", step.case, actor=actor, detail={"step": step.id, "status": status})
    settle_referral(actor, step)
    return step


def settle_referral(actor, step: AssistanceStep) -> None:
    """A step that records a referral's service carries the referral along, whoever changed it: any change moves
    the referral's version (so an answer made from an older copy is refused), and a done step makes it done."""
    referral = db.session.scalar(select(Referral).where(Referral.step_id == step.id))
    if referral is None:
        return
    referral.updated_at = utcnow()  # a new version even when nothing else of the referral changes
    if step.status == "done" and referral.status == "accepted":
        # the service given, the receiver's access ends
        referral_moves.move(actor, [referral], "done", completed_on=step.done_on)
        audit.record("referral.complete", step.case, actor=actor, detail={"referral": referral.id, "step": step.id})


def update_step(actor, step_id: int, *, version, status: str, planned_on=None, done_on=None,
                notes: str | None = None, not_provided_reason: str | None = None) -> AssistanceStep:
    step = db.session.get(AssistanceStep, step_id)
    if step is None:
        raise NotFound()
    load_case_for(actor, step.case.code)
    if not authz.can_record_step(actor, step.case, step.kind):
        authz.require(actor, "case.record_step:" + step.kind.code, step.case)
    require_version(step, version)
    revise_step(actor, step, status=status, planned_on=planned_on, done_on=done_on, notes=notes,
                not_provided_reason=not_provided_reason)
    commit()
    return step
