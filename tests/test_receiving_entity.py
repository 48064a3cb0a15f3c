"""What a receiving entity may and may not do with a case referred to it: it records the service it was asked for,
with the role that service needs, and touches nothing else — not the owner's phase, not the owner's steps, not
where she is lodged unless her identity was shared — and every change to that service's step moves the referral.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp.errors import Conflict, Forbidden, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep
from caseapp.services import accounts, casework, followup, referrals, registry
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case

IDENTIFIED = date(2025, 3, 10)


def _u(uid):
    return db.session.get(User, uid)


@pytest.fixture
def people(factory):
    return {"ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
            "beto": factory.user("beto", roles=("social_worker",), entity="OIM"),
            "bea": factory.user("bea", roles=("lawyer",), entity="OIM"),
            "root": factory.user("root", roles=("admin",), entity="SDIS")}


def _referred(people, *, service, sections, status="in_immediate_assistance", **kw) -> tuple[str, Referral]:
    code = make_case(people["ana"].id, identified_on=IDENTIFIED, status=status,
                     intake_on=IDENTIFIED if status != "identified" else None, **kw)
    registry.give_consent(_u(people["ana"].id), code, "sharing", method="written", given_on="2025-03-10",
                          entity_code="OIM")
    ref = referrals.send(_u(people["ana"].id), code, to_entity="OIM", service=service, reason="Servicio",
                         sections=sections)
    referrals.accept(_u(people["beto"].id), ref.id, version=ref.version)
    return code, ref


def test_the_receivers_service_never_moves_the_owners_case(ctx, people):
    code, ref = _referred(people, service="psychological_assessment", sections=["summary", "psychosocial"],
                          status="identified")
    with pytest.raises(Conflict) as refused:
        referrals.record_service(_u(people["beto"].id), ref.id, version=ref.version, status="planned",
                                 planned_on="2025-03-12")
    assert refused.value.rule == "immediate_not_started"
    db.session.rollback()
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert case.status == "identified" and case.intake_on is None


def test_the_service_needs_the_role_that_records_it_and_a_kind_in_force(ctx, people):
    code, ref = _referred(people, service="psychological_assessment", sections=["summary", "psychosocial"])
    with pytest.raises((Forbidden, NotFound)):  # a psychological assessment is a social worker's to record
        referrals.record_service(_u(people["bea"].id), ref.id, version=ref.version, status="done",
                                 done_on="2025-03-12")
    db.session.rollback()
    kind = casework.kind_by_code("psychological_assessment")
    casework.toggle_step_kind(_u(people["root"].id), kind.id, version=kind.version)  # retired from new steps
    with pytest.raises((Forbidden, NotFound)):
        referrals.record_service(_u(people["beto"].id), ref.id, version=ref.version, status="done",
                                 done_on="2025-03-12")


def test_every_change_to_the_service_step_moves_the_referral(ctx, people):
    code, ref = _referred(people, service="psychological_assessment", sections=["summary", "psychosocial"])
    beto, ana = _u(people["beto"].id), _u(people["ana"].id)
    planned = referrals.record_service(beto, ref.id, version=ref.version, status="planned", planned_on="2025-03-12")
    seen = planned.version
    step = db.session.get(AssistanceStep, planned.step_id)
    casework.update_step(ana, step.id, version=step.version, status="not_provided",
                         not_provided_reason="No asistió a la cita")
    assert db.session.get(Referral, ref.id).version > seen  # the owner's change shows on the referral
    with pytest.raises(Conflict):  # the receiver's copy is stale: it cannot erase the owner's reason
        referrals.record_service(beto, ref.id, version=seen, status="in_progress")
    db.session.rollback()
    assert db.session.get(AssistanceStep, step.id).not_provided_reason == "No asistió a la cita"
    step = db.session.get(AssistanceStep, step.id)
    casework.update_step(ana, step.id, version=step.version, status="done", done_on="2025-03-13")
    referral = db.session.get(Referral, ref.id)
    assert referral.status == "done" and referral.completed_on == date(2025, 3, 13)  # done with its step
    with pytest.raises(NotFound):
        followup.overview(beto, code)


def test_where_she_is_lodged_shows_only_with_her_identity(ctx, people, client, login_as):
    code = make_case(people["ana"].id, identified_on=IDENTIFIED, status="in_immediate_assistance",
                     intake_on=IDENTIFIED)
    ana, beto = _u(people["ana"].id), _u(people["beto"].id)
    shelter = casework.save_shelter(accounts.CLI, code="CASA-1", name="Casa Violeta", city="Bogotá",
                                    operator_entity="SDIS", capacity=3)
    casework.place(ana, code, shelter_id=shelter.id, admitted_on="2025-03-11")
    registry.give_consent(ana, code, "sharing", method="written", given_on="2025-03-10", entity_code="OIM")
    ref = referrals.send(ana, code, to_entity="OIM", service="psychological_assessment", reason="Valoración",
                         sections=["summary", "psychosocial"])
    referrals.accept(beto, ref.id, version=ref.version)
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert "lodging" not in {s.kind.code for s in followup.overview(beto, code).steps}
    assert "lodging" not in {s.kind.code for s in casework.list_steps(beto, code)[1]}
    assert "lodging" in {s.kind.code for s in casework.steps_of(ana, case)}


def test_a_mandatory_referral_ends_when_the_case_is_not_a_childs(app, factory):
    factory.entity("ICBF", kind="child_protection")
    icbf = factory.user("icbf", roles=("social_worker",), entity="ICBF")
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        case = registry.register_case(_u(ana.id), {
            "given_names": "Luna", "birth_date": "2012-05-01", "identified_on": "2025-03-10",
            "identification_source": "icbf", "trafficking_scope": "internal", "exploitation_purposes": ["begging"],
            "consent_assistance": True, "consent_method": "legal_representative", "representative": "Defensora"})
        mandatory = case.child_referral
        referrals.accept(_u(icbf.id), mandatory.id, version=mandatory.version)
        assert followup.overview(_u(icbf.id), case.code).sections
        case = registry.update_case(_u(ana.id), case.code, {"birth_date": "1990-05-01"}, version=case.version)
        assert not case.is_child and db.session.get(Referral, mandatory.id).status == "ended"
        with pytest.raises(NotFound):  # no consent was ever given to ICBF: nothing else lets it in
            followup.overview(_u(icbf.id), case.code)


@pytest.mark.parametrize("shared", ["summary", "summary,identity"])
def test_a_duplicate_hint_names_the_case_only_to_who_may_see_her_identity(app, factory, shared):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    beto = factory.user("beto", roles=("social_worker",), entity="OIM")
    with app.test_request_context():
        code = make_case(ana.id, identified_on=IDENTIFIED, document_number="52777111", given_names="Rosa")
        case = db.session.scalar(select(Case).where(Case.code == code))
        from caseapp.models.accounts import Entity

        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=IDENTIFIED, method="written",
                                     recorded_at=utcnow()))
        db.session.add(Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=oim.id,
                                status="accepted", service="psychological_assessment", shared_sections=shared,
                                sent_at=utcnow(), due_on=IDENTIFIED))
        db.session.commit()
        hints = registry.find_duplicates(_u(beto.id), {
            "document_type": "CC", "document_number": "52777111", "given_names": "Rosa",
            "identified_on": IDENTIFIED.isoformat(), "identification_source": "icbf",
            "trafficking_scope": "internal", "exploitation_purposes": ["begging"]})
        named = {"case_code": code} if "identity" in shared else {}  # whom to call; which case only to a reader of her
        assert hints == [{"entity_code": "SDIS", "entity_name": "Entidad SDIS", **named}]
