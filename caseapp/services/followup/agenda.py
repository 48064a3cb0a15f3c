"""The agenda: what is overdue and what falls due soon among the cases a professional works on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.models.assignments import CaseAssignment
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    OPEN_STEP_STATUSES,
    AssistanceStep,
    LegalEvent,
    LifePlanGoal,
    ProtectionMeasure,
)
from caseapp.services.casework.steps import lodging_steps
from caseapp.services.primitives import case_header, commit_read
from caseapp.services.route import due
from caseapp.timeutil import today

# --- agenda ------------------------------------------------------------------------------------------------

REFERRALS_SHOWN = 20  # the agenda page's waiting referrals, the most urgent first (the inbox lists them all)


@dataclass
class AgendaItem:
    case_code: str
    what: str
    due_on: date
    overdue: bool
    kind: str  # phase | step | goal | hearing | referral | legal_due | measure
    referral_id: int | None = None


# The section a role's agenda items come from: on a referred case, only if its referral shares it.
_ROLE_SECTION = {"social_worker": "psychosocial", "lawyer": "legal"}


@dataclass(frozen=True)
class CaseAccess:
    """What an assigned professional gets from one of her cases: the roles whose items she reads there, and the
    sections she may read (authz.case_sections), which every item of the agenda is held to."""
    roles: frozenset[str]
    sections: frozenset[str]


def my_open_cases(actor, *, with_flags: bool = False) -> dict[Case, CaseAccess]:
    """The open cases the user is assigned to and may still see, with the roles whose items she may read there
    and the sections she may read.

    A case of another entity counts while its referral is live; a role there gives items only if the referral
    shares that role's section. Two statements whatever her caseload (her cases, the live referrals of the
    referred ones), three with `with_flags`, which loads their safety flags in force, for a list that shows them.
    A case comes with only the columns the agenda and Mis casos read (_CASELOAD): a caseload can be thousands, and
    loading each case's victim, entity and purposes cost most of the agenda's time at 5,000."""
    actor = authz.real_user(actor)
    rows = db.session.execute(_open_assigned(actor).add_columns(CaseAssignment.role).order_by(Case.id).options(
        *_CASELOAD, *([selectinload(Case.safety_flags)] if with_flags else []))).all()
    sections = authz.sections_of_cases(actor, [case for case, _role in rows])
    held = actor.roles
    roles: dict[Case, set[str]] = {}
    for case, role in rows:
        mine = roles.setdefault(case, set())
        if role in held and _ROLE_SECTION[role] in sections[case.id]:
            mine.add(role)
    return {case: CaseAccess(frozenset(r), sections[case.id]) for case, r in roles.items()}


def _open_assigned(actor):
    """SQL: the open cases she is assigned to and may see (a case may come once per role she holds there)."""
    return authz.visible_cases(actor).join(CaseAssignment, CaseAssignment.case_id == Case.id).where(
        CaseAssignment.user_id == actor.id, CaseAssignment.ended_at.is_(None), Case.status != "closed")


# What the agenda and Mis casos read of a case: its code and status, whose it is (authz.sections_of_cases) and the
# dates its phases fall due from (due.phase_dates_of). The rest loads on first read, as anywhere else.
_CASELOAD = case_header(Case.status, Case.intake_on, Case.immediate_closed_on)


def agenda(actor, on: date | None = None, days: int = 7) -> dict:
    """What is overdue and what falls due in the next `days` days among the cases the user is assigned to."""
    authz.require(actor, "route.agenda")
    on = on or today()
    items = agenda_items(actor, on, days)
    audit.record("route.agenda", actor=actor, object_type="agenda", object_ref=actor.username,
                 detail={"items": len(items)})
    commit_read()
    own = [i for i in items if i.kind != "referral"]
    # The referrals her entity has to answer, apart from her own items: an entity's backlog can be hundreds (778 at
    # a city's entity at 100,000 victims), which the page shows as a count and the most urgent (REFERRALS_SHOWN),
    # the inbox listing them all.
    return {"on": on, "horizon": on + timedelta(days=days - 1),
            "overdue": [i for i in own if i.overdue],
            "upcoming": [i for i in own if not i.overdue],
            "referrals": [i for i in items if i.kind == "referral"]}


def agenda_items(actor, on: date, days: int = 7, mine: dict | None = None) -> list[AgendaItem]:
    """The items of the agenda, sorted by date (the caller logs the read). A social worker's cases give their phase
    ends, steps, life-plan goals and hearings; a lawyer's give her hearings, the legal steps' dates and the
    protection measures still waiting for a decision."""
    horizon = on + timedelta(days=days - 1)
    items: list[AgendaItem] = []
    mine = my_open_cases(actor) if mine is None else mine
    cases = list(mine)
    social = [c for c in cases if "social_worker" in mine[c].roles]
    legal_ids = [c.id for c in cases if "lawyer" in mine[c].roles]
    # On a referred case, an item shows only what its referral shares: a step of a section it shares, a hearing
    # only with the legal section (the same rule as the case's own pages, authz.case_sections).
    sections = {c.id: mine[c].sections for c in cases}
    ids = [c.id for c in social]
    codes = {c.id: c.code for c in cases}
    dates_of = due.phase_dates_of(social)
    for case in social:
        dates = dates_of[case.id]
        if case.status == "in_immediate_assistance" and dates.immediate_due_on:
            items.append(AgendaItem(case.code, _("End of immediate assistance"), dates.immediate_due_on,
                                    dates.immediate_due_on < on, "phase"))
        if case.status == "in_mediate_assistance" and dates.mediate_due_on:
            items.append(AgendaItem(case.code, _("End of mediate assistance"), dates.mediate_due_on,
                                    dates.mediate_due_on < on, "phase"))
    if ids or legal_ids:
        # Her cases are named by a subquery, not by their ids: a caseload can be thousands, and with thousands of
        # ids SQLite read the steps through their (status, planned_on) index, every open step of the database
        # (0.5 s at 400,000 of them). The rows it finds are held to `mine` here, read a moment earlier.
        theirs = _open_assigned(authz.real_user(actor)).with_only_columns(Case.id)
        social_ids, legal_set = set(ids), set(legal_ids)
        worked = social_ids | legal_set
        # where she is lodged, on the cases whose identity the reader may not see (casework.lodging_steps)
        unlodged = [cid for cid in worked if "identity" not in sections[cid]]
        hidden = set(db.session.scalars(lodging_steps(unlodged))) if unlodged else set()
        for step in db.session.scalars(select(AssistanceStep).options(joinedload(AssistanceStep.kind)).where(
                AssistanceStep.case_id.in_(theirs), AssistanceStep.status.in_(OPEN_STEP_STATUSES),
                AssistanceStep.planned_on.is_not(None), AssistanceStep.planned_on <= horizon)):
            if step.case_id not in worked or step.kind.section not in sections[step.case_id] or step.id in hidden:
                continue
            legal = step.kind.section == "legal"
            if step.case_id in social_ids or (legal and step.case_id in legal_set):
                items.append(AgendaItem(codes[step.case_id], step.kind.label_es if _lang_es() else step.kind.label_en,
                                        step.planned_on, step.planned_on < on, "legal_due" if legal else "step"))
        if social_ids:
            for goal in db.session.scalars(select(LifePlanGoal).where(
                    LifePlanGoal.case_id.in_(theirs), LifePlanGoal.status.in_(("agreed", "in_progress")),
                    LifePlanGoal.target_on.is_not(None), LifePlanGoal.target_on <= horizon)):
                if goal.case_id in social_ids:
                    items.append(AgendaItem(codes[goal.case_id], _("Life plan goal"), goal.target_on,
                                            goal.target_on < on, "goal"))
        # A hearing on its date, and the next hearing its outcome set (legal follow-up), on that one.
        for event in db.session.scalars(select(LegalEvent).where(
                LegalEvent.case_id.in_(theirs), LegalEvent.kind == "hearing",
                or_(LegalEvent.on.between(on, horizon), LegalEvent.next_on.between(on, horizon)))):
            if event.case_id not in worked or "legal" not in sections[event.case_id]:
                continue
            for when in sorted({d for d in (event.on, event.next_on) if d and on <= d <= horizon}):
                items.append(AgendaItem(codes[event.case_id], _("Hearing"), when, False, "hearing"))
        # A measure asked for and not yet decided stays on her agenda until it is, dated by its request.
        if legal_set:
            for measure in db.session.scalars(select(ProtectionMeasure).where(
                    ProtectionMeasure.case_id.in_(theirs), ProtectionMeasure.status == "requested")):
                if measure.case_id in legal_set:
                    items.append(AgendaItem(codes[measure.case_id], _("Protection measure awaiting a decision"),
                                            measure.requested_on, False, "measure"))
    # Only the columns an item shows: an entity's backlog of waiting referrals can be hundreds, and loading each
    # case (with its victim, entity and purposes) cost most of the agenda's time at 100,000 victims.
    answer = _("Answer a referral")
    for ref_id, due_on, code in db.session.execute(select(Referral.id, Referral.due_on, Case.code).join(
            Case, Case.id == Referral.case_id).where(
            Referral.to_entity_id == actor.entity_id, Referral.status == "sent",
            Referral.due_on.is_not(None), Referral.due_on <= horizon)):
        items.append(AgendaItem(code, answer, due_on, due_on < on, "referral", referral_id=ref_id))
    items.sort(key=lambda i: (i.due_on, i.case_code))
    return items


def _lang_es() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is None or locale.language != "en"
