"""Demo data: route — a shelter with beds, steps on the demo cases, and a few referrals (some pending).

Idempotent: a case that already has steps is left alone; the shelter is created once. Only the fake
people of the cases demo are touched.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, Shelter, StepKind
from caseapp.timeutil import today, utcnow

IMMEDIATE = ("reception", "accompaniment", "material_assistance", "psychological_assessment")


def _kind(code):
    return db.session.scalar(select(StepKind).where(StepKind.code == code))


def load(echo) -> None:
    owner = db.session.scalar(select(Entity).join(Case, Case.owner_entity_id == Entity.id).limit(1))
    if owner is None:
        echo(_("Demo route: no demo cases yet, nothing to add."))
        return
    if db.session.scalar(select(Shelter.id).where(Shelter.code == "DEMO-CASA")) is None:
        db.session.add(Shelter(code="DEMO-CASA", name="Casa de acogida (demo)", city="Cartagena",
                               operator_entity_id=owner.id, capacity=8))
    others = list(db.session.scalars(select(Entity).where(Entity.id != owner.id, Entity.active.is_(True))))
    cases = list(db.session.scalars(select(Case).where(Case.status != "closed").order_by(Case.id).limit(12)))
    added = 0
    for i, case in enumerate(cases):
        if db.session.scalar(select(AssistanceStep.id).where(AssistanceStep.case_id == case.id)):
            continue
        if case.active_consent("assistance") is None or case.declined_assistance:
            continue
        worker = case.assigned_to or db.session.scalar(select(User).where(User.entity_id == case.owner_entity_id))
        start = max(case.identified_on, today() - timedelta(days=20 + i))
        for n, code in enumerate(IMMEDIATE[: 2 + i % 3]):
            step = AssistanceStep(case=case, phase="immediate", kind=_kind(code), status="done",
                                  done_on=start + timedelta(days=n), provider_entity_id=case.owner_entity_id,
                                  professional_id=getattr(worker, "id", None), created_by_id=getattr(worker, "id", None))
            db.session.add(step)
        db.session.add(AssistanceStep(case=case, phase="immediate", kind=_kind("medical_assessment"),
                                      status="planned", planned_on=today() + timedelta(days=i % 5),
                                      provider_entity_id=case.owner_entity_id))
        if case.status == "identified":
            case.status, case.intake_on = "in_immediate_assistance", start
        if others and i % 3 == 0:
            target = others[i % len(others)]
            if case.active_consent("sharing", target.id) is None:
                case.consents.append(Consent(kind="sharing", entity_id=target.id, given_on=start, method="written",
                                             taken_by_id=getattr(worker, "id", None), recorded_at=utcnow()))
            referral = Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=target.id,
                                service="psychosocial_followup", shared_sections="summary,psychosocial",
                                status="sent", sent_by_id=getattr(worker, "id", None), sent_at=utcnow(),
                                due_on=today() + timedelta(days=(i % 4) - 2))
            db.session.add(referral)
            referral.reason = "Acompañamiento psicosocial (demo)"
        added += 1
    db.session.commit()
    echo(_("Demo route: steps for %(n)s demo cases, one shelter with 8 beds.", n=added))
