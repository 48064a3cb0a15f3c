"""Demo data: route — a shelter with beds, steps on the demo cases, and a few referrals waiting for an answer.

Everything goes through the services as the case's demo social worker, so every rule of the route holds as in
real use (a step needs the assistance consent, the first immediate step opens the immediate phase, a referral
needs the victim's consent to share with the receiving entity). Idempotent: a case that already has steps is
left alone; the shelter is created once. Only the fake people of the cases demo are touched.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User, UserRole
from caseapp.models.cases import Case
from caseapp.models.route import AssistanceStep, Shelter
from caseapp.services import accounts, casework, referrals
from caseapp.services import registry as case_service
from caseapp.timeutil import today

IMMEDIATE = ("reception", "accompaniment", "material_assistance", "psychological_assessment")


def _worker(case: Case) -> User | None:
    """The social worker who registered the case, or one of its entity."""
    if case.created_by is not None and case.created_by.has_role("social_worker"):
        return case.created_by
    return db.session.scalar(select(User).join(UserRole, UserRole.user_id == User.id).where(
        User.entity_id == case.owner_entity_id, UserRole.role == "social_worker", User.active.is_(True)).limit(1))


def _shelter(owner: Entity) -> None:
    if db.session.scalar(select(Shelter.id).where(Shelter.code == "DEMO-CASA")) is None:
        casework.save_shelter(accounts.CLI, code="DEMO-CASA", name="Casa de acogida (demo)", city="Cartagena",
                              operator_entity=owner.code, capacity=8)


def _steps(worker: User, case: Case, i: int) -> None:
    start = max(case.identified_on, today() - timedelta(days=20 + i))
    for n, kind in enumerate(IMMEDIATE[: 2 + i % 3]):
        casework.add_step(worker, case.code, kind=kind, status="done", done_on=min(start + timedelta(days=n), today()))
    casework.add_step(worker, case.code, kind="medical_assessment", status="planned",
                      planned_on=today() + timedelta(days=i % 5))


def _referral(worker: User, case: Case, target: Entity) -> None:
    if case.active_consent("sharing", target.id) is None:
        child = case.is_child  # a child's consent is given by her representative
        case_service.give_consent(worker, case.code, "sharing", method="legal_representative" if child else "written",
                                  given_on=max(case.identified_on, today() - timedelta(days=10)),
                                  entity_code=target.code, representative="Defensoría de Familia — ICBF" if child else None)
    service = "psychosocial_followup" if case.status == "in_mediate_assistance" else "psychological_assessment"
    referrals.send(worker, case.code, to_entity=target.code, service=service,
                   reason="Acompañamiento psicosocial (demo)", sections=["summary", "psychosocial"],
                   due_on=today() + timedelta(days=3))


def load(echo) -> None:
    owner = db.session.scalar(select(Entity).join(Case, Case.owner_entity_id == Entity.id).limit(1))
    if owner is None:
        echo(_("Demo route: no demo cases yet, nothing to add."))
        return
    _shelter(owner)
    others = list(db.session.scalars(select(Entity).where(Entity.id != owner.id, Entity.active.is_(True),
                                                          Entity.kind != "child_protection")))
    cases = list(db.session.scalars(select(Case).where(Case.status != "closed").order_by(Case.id).limit(12)))
    added = 0
    for i, case in enumerate(cases):
        if db.session.scalar(select(AssistanceStep.id).where(AssistanceStep.case_id == case.id)):
            continue
        worker = _worker(case)
        if worker is None or case.declined_assistance or case.active_consent("assistance") is None:
            continue
        _steps(worker, case, i)
        if others and i % 3 == 0:
            _referral(worker, case, others[i % len(others)])
        added += 1
    echo(_("Demo route: steps for %(n)s demo cases, one shelter with 8 beds.", n=added))
