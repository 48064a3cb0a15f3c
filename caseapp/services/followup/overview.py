"""The route page of a case: everything of its route that the reader may see, by need-to-know section.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from caseapp import audit, authz
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import CaseClosure, CaseRoute
from caseapp.services.casework import goals_of, kinds_for, legal_of, notes_of, stays_of, steps_of
from caseapp.services.primitives import commit_read, load_case_for
from caseapp.services.referrals import awaits_child_protection, fulfillable_referrals
from caseapp.services.route import due


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
    kinds: list = field(default_factory=list)  # the step kinds the reader may record on this case
    to_fulfil: list = field(default_factory=list)  # referrals whose service the reader's entity may record
    awaits_child_protection: bool = False
    legal: object | None = None
    psychosocial_notes: list | None = None
    legal_notes: list | None = None
    can_see_psychosocial: bool = False
    can_see_legal: bool = False
    can_see_legal_notes: bool = False


def overview(actor, code: str) -> RouteOverview:
    """Everything of a case's route that `actor` may see, by section; the read is logged by case code."""
    case = load_case_for(actor, code)
    sections = authz.case_sections(actor, case)
    view = RouteOverview(
        case=case, sections=sections, dates=due.phase_dates(case),
        route=db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id)),
    )
    view.steps = steps_of(actor, case, by_phase=True)
    view.can_see_psychosocial = authz.can(actor, "case.psychosocial.read", case)
    view.can_see_legal = authz.can(actor, "case.legal.read", case)
    view.can_see_legal_notes = authz.can(actor, "case.legal_notes.read", case)
    if view.can_see_psychosocial:
        view.goals = goals_of(case)
        view.psychosocial_notes = notes_of(case, "psychosocial")
    view.stays = stays_of(actor, case)  # where she is lodged: with her identity and contact only
    if view.can_see_legal:
        view.legal = legal_of(case)
    if view.can_see_legal_notes:
        view.legal_notes = notes_of(case, "legal")
    view.to_fulfil = fulfillable_referrals(actor, case)
    view.awaits_child_protection = awaits_child_protection(case)
    view.referrals = list(db.session.scalars(authz.referrals_seen_by(actor, case).order_by(Referral.id)))
    view.closures = list(db.session.scalars(
        select(CaseClosure).where(CaseClosure.case_id == case.id).order_by(CaseClosure.id)))
    audit.record("case.route.view", case, actor=actor, detail={"sections": sorted(sections)})
    commit_read()
    # Read after the commit, which expires what was loaded before it: one query, not one per kind on the page.
    view.kinds = kinds_for(actor, case)
    return view
