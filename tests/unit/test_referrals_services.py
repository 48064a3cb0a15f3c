"""Referrals: consent, states, what the receiving entity sees, the mandatory child referral, concurrent answers."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from caseapp import authz
from caseapp.errors import Conflict, Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.services import casework as steps
from caseapp.services import followup, referrals, route
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case


def _u(uid):
    return db.session.get(User, uid)


def _consent(code, entity_code, user_id):
    from caseapp.models.accounts import Entity

    case = db.session.scalar(select(Case).where(Case.code == code))
    ent = db.session.scalar(select(Entity).where(Entity.code == entity_code))
    case.consents.append(Consent(kind="sharing", entity_id=ent.id, given_on=date(2025, 3, 10), method="written",
                                 taken_by_id=user_id, recorded_at=utcnow()))
    db.session.commit()
    return case


@pytest.fixture
def people(factory):
    return {
        "a": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "b": factory.user("beto", roles=("social_worker",), entity="OIM"),
        "b_lawyer": factory.user("bea", roles=("lawyer",), entity="OIM"),
        "coord": factory.user("coord", roles=("coordinator",), entity="SDIS"),
    }


def test_visibility_follows_the_referral(ctx, people):
    a, b = _u(people["a"].id), _u(people["b"].id)
    code = make_case(a.id)
    with pytest.raises(Conflict):  # no consent → refused
        referrals.send(a, code, to_entity="OIM", service="psychosocial_followup", reason="Apoyo psicosocial",
                       sections=["summary", "psychosocial"])
    case = _consent(code, "OIM", a.id)
    ref = referrals.send(a, code, to_entity="OIM", service="psychosocial_followup", reason="Apoyo psicosocial",
                         sections=["summary", "psychosocial"])
    with pytest.raises(NotFound):  # before acceptance the case does not exist for B
        followup.overview(b, code)
    assert db.session.scalar(authz.visible_cases(b).where(Case.id == case.id)) is None
    referrals.accept(b, ref.id, version=ref.version)
    view = followup.overview(b, code)
    assert view.sections == frozenset({"summary", "psychosocial"})
    assert not authz.can(b, "case.identity.read", case) and not authz.can(b, "case.legal.read", case)
    # B's lawyer sees the summary only: the referral shares no legal section, and psychosocial is not hers
    assert followup.overview(_u(people["b_lawyer"].id), code).sections == frozenset({"summary"})
    referrals.withdraw(a, ref.id, version=ref.version, reason="Ya no es necesario")
    with pytest.raises(NotFound):
        followup.overview(b, code)
    with pytest.raises(Conflict):  # a withdrawn referral cannot be accepted
        referrals.accept(b, ref.id, version=ref.version)


def test_reject_needs_a_reason_and_closes_the_door(ctx, people):
    a, b = _u(people["a"].id), _u(people["b"].id)
    code = make_case(a.id)
    _consent(code, "OIM", a.id)
    ref = referrals.send(a, code, to_entity="OIM", service="job_training", reason="Formación",
                         sections=["summary", "identity"])
    with pytest.raises(Invalid):
        referrals.reject(b, ref.id, reason="", version=ref.version)
    with pytest.raises(Forbidden):  # the sender cannot answer its own referral
        referrals.accept(a, ref.id, version=ref.version)
    referrals.reject(b, ref.id, reason="Sin cupos", version=ref.version)
    with pytest.raises(NotFound):
        followup.overview(b, code)
    assert [r.referral.id for r in referrals.inbox(b).rows] == [ref.id]


def test_coordinator_override_with_reason(ctx, people):
    a, coord = _u(people["a"].id), _u(people["coord"].id)
    code = make_case(a.id)
    with pytest.raises(Invalid):
        referrals.record_override(coord, code, entity="OIM", reason="")
    with pytest.raises(Forbidden):  # a social worker cannot override consent
        referrals.record_override(a, code, entity="OIM", reason="x")
    referrals.record_override(coord, code, entity="OIM", reason="Riesgo inminente: orden de la mesa")
    ref = referrals.send(a, code, to_entity="OIM", service="security", reason="Protección", sections=["identity"])
    assert ref.consent_override_by_id == coord.id and ref.override_reason.startswith("Riesgo")
    ref2_error = None
    try:  # the override served one referral only
        referrals.send(a, code, to_entity="OIM", service="transport", reason="Traslado", sections=["identity"])
    except Conflict as e:
        ref2_error = e
    assert ref2_error is not None


def _register_child(a):
    from caseapp.services import registry

    return registry.register_case(a, {
        "given_names": "Luna", "family_names": "Mar", "birth_date": "2012-05-01", "identified_on": "2025-03-10",
        "identification_source": "icbf", "trafficking_scope": "internal", "exploitation_purposes": ["begging"],
        "consent_assistance": True, "consent_method": "legal_representative", "representative": "Defensora ICBF",
    })


def test_child_case_gets_the_mandatory_icbf_referral(ctx, people, factory):
    factory.entity("ICBF", kind="child_protection")
    icbf_user = factory.user("icbf", roles=("social_worker",), entity="ICBF")
    a = _u(people["a"].id)
    case = _register_child(a)  # the registration itself sends it, in its own transaction
    code = case.code
    mandatory = db.session.scalars(select(Referral).where(Referral.case_id == case.id)).one()
    assert case.child_referral is mandatory
    assert mandatory.mandatory and mandatory.to_entity.code == "ICBF" and mandatory.status == "sent"
    assert referrals.awaits_child_protection(case)
    with pytest.raises(Conflict):
        referrals.withdraw(a, mandatory.id, version=mandatory.version)
    db.session.rollback()
    with pytest.raises(Conflict) as refused:  # no second referral to ICBF by hand
        referrals.send(a, code, to_entity="ICBF", service="accompaniment", reason="Otra", sections=["identity"])
    assert refused.value.rule == "child_referral_exists"
    db.session.rollback()
    with pytest.raises(Conflict) as refused:  # the case cannot close while ICBF has not answered
        route.close_case(a, code, reason="other", closed_on=date(2025, 3, 12), note=None, version=case.version)
    assert refused.value.rule == "child_referral_pending"
    db.session.rollback()
    referrals.accept(_u(icbf_user.id), mandatory.id, version=mandatory.version)
    assert not referrals.awaits_child_protection(case)  # the banner goes once ICBF accepts
    assert followup.overview(_u(icbf_user.id), code).sections >= {"identity", "summary"}
    route.close_case(a, code, reason="transferred", closed_on=date(2025, 3, 12), note=None, version=case.version)
    assert case.status == "closed"


def test_two_acceptances_at_once_one_wins(app, people, factory):
    other_b = factory.user("berta", roles=("social_worker",), entity="OIM")  # before any session is open
    with app.test_request_context():
        code = make_case(people["a"].id)
        _consent(code, "OIM", people["a"].id)
        ref = referrals.send(_u(people["a"].id), code, to_entity="OIM", service="education", reason="Cupo",
                             sections=["identity"])
        ref_id, ref_version = ref.id, ref.version
    results, barrier = [], threading.Barrier(2)

    def accept(user_id):
        with app.test_request_context():
            user = _u(user_id)
            db.session.commit()  # release SQLite's write lock (BEGIN IMMEDIATE) before racing
            barrier.wait()
            try:
                referrals.accept(user, ref_id, version=ref_version)
                results.append("ok")
            except Conflict as error:
                results.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(uid,)) for uid in (people["b"].id, other_b.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=lambda r: r != "ok")[0] == "ok" and results.count("ok") == 1
    refusal = next(r for r in results if r != "ok")
    assert "aceptada" in refusal or "al mismo tiempo" in refusal or "cambió esta remisión" in refusal


def test_the_receiver_records_the_service_it_was_asked_for_and_nothing_else(ctx, people):
    a, b = _u(people["a"].id), _u(people["b"].id)
    code = make_case(a.id, status="in_immediate_assistance", intake_on=date(2025, 3, 10))
    _consent(code, "OIM", a.id)
    with pytest.raises(Invalid) as refused:  # a kit is delivered to a person: the summary alone is not enough
        referrals.send(a, code, to_entity="OIM", service="material_assistance", reason="Kit", sections="summary")
    assert "sections" in refused.value.field_errors
    ref = referrals.send(a, code, to_entity="OIM", service="legal_orientation", reason="Orientación",
                         sections="summary,account")
    referrals.accept(b, ref.id, version=ref.version)
    with pytest.raises((Forbidden, NotFound)):  # another step, even of a kind she records at home: not hers
        steps.add_step(b, code, kind="reception", status="done", done_on="2025-03-11")
    db.session.rollback()
    done = referrals.record_service(b, ref.id, version=ref.version, status="done", done_on="2025-03-11",
                                    notes="Orientada sobre la denuncia")
    step = db.session.get(steps.steps.AssistanceStep, done.step_id)
    assert done.status == "done" and step.kind.code == "legal_orientation" and step.provider_entity.code == "OIM"
    assert step.notes == "Orientada sobre la denuncia"
    with pytest.raises(NotFound):  # a done referral closes the door as well
        followup.overview(b, code)


def test_a_service_that_needs_only_the_summary_is_fulfilled_with_only_the_summary(ctx, people, factory):
    """The receiver records its service whatever sections it was given: here, the summary alone."""
    admin = factory.user("root", roles=("admin",), entity="SDIS")
    kind = steps.save_step_kind(_u(admin.id), code="legal_fees", phase="immediate", section="psychosocial",
                                label_es="Pago de trámites", label_en="Fees paid")
    assert kind.needed_sections == frozenset()
    a, b = _u(people["a"].id), _u(people["b"].id)
    code = make_case(a.id, status="in_immediate_assistance", intake_on=date(2025, 3, 10))
    _consent(code, "OIM", a.id)
    ref = referrals.send(a, code, to_entity="OIM", service="legal_fees", reason="Pago", sections=["summary"])
    referrals.accept(b, ref.id, version=ref.version)
    assert followup.overview(b, code).sections == frozenset({"summary"})
    planned = referrals.record_service(b, ref.id, version=ref.version, status="planned", planned_on="2025-03-12")
    assert planned.status == "accepted" and planned.step_id  # a planned service keeps the referral open
    done = referrals.record_service(b, ref.id, version=planned.version, status="done", done_on="2025-03-12",
                                    notes="Pagado")
    assert done.status == "done" and done.step_id == planned.step_id  # the same step, now done
