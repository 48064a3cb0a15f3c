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
from caseapp.services import referrals, route, steps
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
        referrals.send(a, code, to_entity="OIM", service="accompaniment", reason="Apoyo psicosocial")
    case = _consent(code, "OIM", a.id)
    ref = referrals.send(a, code, to_entity="OIM", service="psychosocial_followup", reason="Apoyo psicosocial",
                         sections=["summary", "psychosocial"])
    with pytest.raises(NotFound):  # before acceptance the case does not exist for B
        route.overview(b, code)
    assert db.session.scalar(authz.visible_cases(b).where(Case.id == case.id)) is None
    referrals.accept(b, ref.id)
    view = route.overview(b, code)
    assert view.sections == frozenset({"summary", "psychosocial"})
    assert not authz.can(b, "case.identity.read", case) and not authz.can(b, "case.legal.read", case)
    # B's lawyer sees the summary only: the referral shares no legal section, and psychosocial is not hers
    assert route.overview(_u(people["b_lawyer"].id), code).sections == frozenset({"summary"})
    referrals.withdraw(a, ref.id, reason="Ya no es necesario")
    with pytest.raises(NotFound):
        route.overview(b, code)
    with pytest.raises(Conflict):  # a withdrawn referral cannot be accepted
        referrals.accept(b, ref.id)


def test_reject_needs_a_reason_and_closes_the_door(ctx, people):
    a, b = _u(people["a"].id), _u(people["b"].id)
    code = make_case(a.id)
    _consent(code, "OIM", a.id)
    ref = referrals.send(a, code, to_entity="OIM", service="job_training", reason="Formación")
    with pytest.raises(Invalid):
        referrals.reject(b, ref.id, reason="")
    with pytest.raises(Forbidden):  # the sender cannot answer its own referral
        referrals.accept(a, ref.id)
    referrals.reject(b, ref.id, reason="Sin cupos")
    with pytest.raises(NotFound):
        route.overview(b, code)
    assert [r.referral.id for r in referrals.inbox(b)] == [ref.id]


def test_coordinator_override_with_reason(ctx, people):
    a, coord = _u(people["a"].id), _u(people["coord"].id)
    code = make_case(a.id)
    with pytest.raises(Invalid):
        referrals.record_override(coord, code, entity="OIM", reason="")
    with pytest.raises(Forbidden):  # a social worker cannot override consent
        referrals.record_override(a, code, entity="OIM", reason="x")
    referrals.record_override(coord, code, entity="OIM", reason="Riesgo inminente: orden de la mesa")
    ref = referrals.send(a, code, to_entity="OIM", service="security", reason="Protección")
    assert ref.consent_override_by_id == coord.id and ref.override_reason.startswith("Riesgo")
    ref2_error = None
    try:  # the override served one referral only
        referrals.send(a, code, to_entity="OIM", service="transport", reason="Traslado")
    except Conflict as e:
        ref2_error = e
    assert ref2_error is not None


def test_child_case_gets_the_mandatory_icbf_referral(ctx, people, factory):
    factory.entity("ICBF", kind="child_protection")
    icbf_user = factory.user("icbf", roles=("social_worker",), entity="ICBF")
    a = _u(people["a"].id)
    code = make_case(a.id, is_child=True, age_group="9-17", identified_on=date(2025, 3, 10))
    case = db.session.scalar(select(Case).where(Case.code == code))
    mandatory = db.session.scalars(select(Referral).where(Referral.case_id == case.id)).one()
    assert mandatory.mandatory and mandatory.to_entity.code == "ICBF" and mandatory.status == "sent"
    with pytest.raises(Conflict):
        referrals.withdraw(a, mandatory.id)
    with pytest.raises(Conflict):  # the case cannot close while ICBF has not answered
        route.close_case(a, code, reason="other", closed_on=date(2025, 3, 12), note=None, version=case.version)
    referrals.accept(_u(icbf_user.id), mandatory.id)
    assert route.overview(_u(icbf_user.id), code).sections >= {"identity", "summary"}
    route.close_case(a, code, reason="transferred", closed_on=date(2025, 3, 12), note=None, version=case.version)
    assert case.status == "closed"


def test_two_acceptances_at_once_one_wins(app, people, factory):
    other_b = factory.user("berta", roles=("social_worker",), entity="OIM")  # before any session is open
    with app.test_request_context():
        code = make_case(people["a"].id)
        _consent(code, "OIM", people["a"].id)
        ref_id = referrals.send(_u(people["a"].id), code, to_entity="OIM", service="education", reason="Cupo").id
    results, barrier = [], threading.Barrier(2)

    def accept(user_id):
        with app.test_request_context():
            user = _u(user_id)
            db.session.commit()  # release SQLite's write lock (BEGIN IMMEDIATE) before racing
            barrier.wait()
            try:
                referrals.accept(user, ref_id)
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
    assert "aceptada" in refusal or "al mismo tiempo" in refusal


def test_referred_entity_logs_a_step(ctx, people):
    a, b = _u(people["a"].id), _u(people["b"].id)
    code = make_case(a.id)
    _consent(code, "OIM", a.id)
    ref = referrals.send(a, code, to_entity="OIM", service="material_assistance", reason="Kit",
                         sections="summary,psychosocial")
    referrals.accept(b, ref.id)
    step = steps.add_step(b, code, kind="material_assistance", status="done", done_on="2025-03-11")
    assert step.provider_entity.code == "OIM"
    referrals.complete(b, ref.id, note="Entregado")
    with pytest.raises(NotFound):  # a done referral closes the door as well
        route.overview(b, code)
