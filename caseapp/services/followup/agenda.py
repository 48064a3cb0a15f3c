"""The agenda: what is overdue and what falls due soon among the cases a professional works on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    OPEN_STEP_STATUSES,
    AssistanceStep,
    LegalEvent,
    LifePlanGoal,
)
from caseapp.services.primitives import commit_read
from caseapp.services.route import due
from caseapp.timeutil import today

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
    dates_of = due.phase_dates_of(cases)
    for case in cases:
        dates = dates_of[case.id]
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
    for ref in db.session.scalars(select(Referral).options(joinedload(Referral.case)).where(
            Referral.to_entity_id == actor.entity_id, Referral.status == "sent",
            Referral.due_on.is_not(None), Referral.due_on <= horizon)):
        items.append(AgendaItem(ref.case.code, _("Answer a referral"), ref.due_on, ref.due_on < on, "referral",
                                referral_id=ref.id))
    items.sort(key=lambda i: (i.due_on, i.case_code))
    audit.record("route.agenda", actor=actor, object_type="agenda", object_ref=actor.username,
                 detail={"items": len(items)})
    commit_read()
    return {"on": on, "horizon": horizon,
            "overdue": [i for i in items if i.overdue],
            "upcoming": [i for i in items if not i.overdue]}


def _lang_es() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is None or locale.language != "en"
