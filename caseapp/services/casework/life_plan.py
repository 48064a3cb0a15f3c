"""The life plan (proyecto de vida): goals agreed with the victim and reviewed in the mediate phase.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.route import (
    GOAL_AREAS,
    GOAL_STATUSES,
    LifePlanGoal,
)
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
from caseapp.services.route.lifecycle import require_open
from caseapp.timeutil import today


def goals_of(case) -> list[LifePlanGoal]:
    """The goals of a case (the caller has checked case.psychosocial.read)."""
    return list(db.session.scalars(select(LifePlanGoal).where(LifePlanGoal.case_id == case.id)
                                   .order_by(LifePlanGoal.id)))


def list_goals(actor, code: str) -> tuple:
    case = load_case_for(actor, code, "case.psychosocial.read")
    goals = goals_of(case)
    audit.record("case.life_plan.view", case, actor=actor)
    commit_read()
    return case, goals



def add_goal(actor, code: str, *, area: str, description: str | None, agreed_on=None, target_on=None) -> LifePlanGoal:
    case = load_case_for(actor, code, "case.psychosocial.write")
    require_open(case)
    errors: dict = {}
    if area not in GOAL_AREAS:
        errors["area"] = _("Choose an area from the list.")
    if not clean_text(description):
        errors["description"] = _("Describe the goal agreed with the victim.")
    agreed_on = parse_date(agreed_on, "agreed_on", errors) or (today() if "agreed_on" not in errors else None)
    target_on = parse_date(target_on, "target_on", errors)
    not_future(agreed_on, "agreed_on", errors)
    if target_on and agreed_on and target_on < agreed_on:
        errors["target_on"] = _("The target date cannot be before the agreement.")
    if errors:
        raise invalid(errors)
    goal = LifePlanGoal(case=case, area=area, status="agreed", agreed_on=agreed_on, target_on=target_on,
                        created_by_id=actor.id)
    db.session.add(goal)
    goal.description = clean_text(description)
    audit.record("case.life_plan.add", case, actor=actor, detail={"area": area})
    commit()
    return goal


def review_goal(actor, goal_id: int, *, version, status: str, reviewed_on=None, review_note: str | None = None):
    goal = db.session.get(LifePlanGoal, goal_id)
    if goal is None:
        raise NotFound()
    load_case_for(actor, goal.case.code, "case.psychosocial.write")
    require_version(goal, version)
    require_open(goal.case)
    errors: dict = {}
    if status not in GOAL_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    reviewed_on = parse_date(reviewed_on, "reviewed_on", errors) or (today() if "reviewed_on" not in errors else None)
    not_future(reviewed_on, "reviewed_on", errors)
    if errors:
        raise invalid(errors)
    goal.status, goal.reviewed_on = status, reviewed_on
    if clean_text(review_note):
        goal.review_note = clean_text(review_note)
    audit.record("case.life_plan.review", goal.case, actor=actor, detail={"goal": goal.id, "status": status})
    commit()
    return goal
