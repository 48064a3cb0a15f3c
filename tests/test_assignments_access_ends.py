"""When a receiving entity's access to a case ends, so do its professionals' assignments to it: on every path that
takes an accepted referral out of "accepted" (the sender withdraws it, the victim withdraws her consent to share, the
receiver records the service as given), through the web and the API. The row is closed (kept in the history) with
an access-log entry saying why, and the case leaves her "Mis casos"; the owning entity's professionals stay.

Cases belong to Cartagena's SDIS; SALUD receives a referral for a psychological assessment (a social worker's
service); ana (SDIS) and sam (SALUD) are social workers.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.assignments import CaseAssignment
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.services import referrals
from caseapp.services.casework import assignments
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import _referral, new_api_token


@pytest.fixture
def people(factory):
    return {"ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
            "sam": factory.user("sam", roles=("social_worker",), entity="SALUD")}


@pytest.fixture
def referred(app, people):
    """(case code, referral id): a case of SDIS referred to SALUD (accepted), sam assigned to it by ana."""
    with app.test_request_context():
        code = make_case(people["ana"].id, status="in_immediate_assistance")
        referral_id = _referral(code, "SDIS", "SALUD", "accepted", people["ana"].id,
                                sections="summary,psychosocial", service="psychological_assessment")
        assignments.assign(db.session.get(User, people["ana"].id), code, "sam", "social_worker")
    return code, referral_id


def _token(app, user) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {new_api_token(user.id)}"}


def _version(app, referral_id) -> int:
    with app.app_context():
        return db.session.get(Referral, referral_id).version


def _sharing_consent(app, code) -> tuple[int, int]:
    with app.app_context():
        consent = db.session.scalar(select(Consent).join(Case).where(Case.code == code, Consent.kind == "sharing"))
        return consent.id, consent.version


def withdraw_referral(app, client, login_as, people, code, referral_id, path):
    if path == "api":
        return client.post(f"/api/v1/referrals/{referral_id}/withdraw", headers=_token(app, people["ana"]),
                           json={"version": _version(app, referral_id), "reason": "Ya no se requiere"})
    login_as(people["ana"])
    return client.post(f"/referrals/{referral_id}/withdraw", data={
        "csrf_token": csrf_token(client, f"/referrals/{referral_id}"), "withdraw-version": _version(app, referral_id),
        "withdraw-note": "Ya no se requiere"})


def withdraw_consent(app, client, login_as, people, code, referral_id, path):
    consent_id, version = _sharing_consent(app, code)
    if path == "api":
        return client.post(f"/api/v1/cases/{code}/consents/{consent_id}/withdraw", headers=_token(app, people["ana"]),
                           json={"version": version})
    login_as(people["ana"])
    return client.post(f"/cases/{code}/consents/withdraw", data={
        "csrf_token": csrf_token(client, f"/cases/{code}"), "consent_id": consent_id, "version": version})


def service_given(app, client, login_as, people, code, referral_id, path):
    if path == "api":
        return client.post(f"/api/v1/referrals/{referral_id}/complete", headers=_token(app, people["sam"]),
                           json={"version": _version(app, referral_id)})
    login_as(people["sam"])
    return client.post(f"/referrals/{referral_id}/complete", data={
        "csrf_token": csrf_token(client, f"/referrals/{referral_id}"), "complete-version": _version(app, referral_id)})


def _open_roles(app, code) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(select(User.username, CaseAssignment.role)
                                  .join(CaseAssignment, CaseAssignment.user_id == User.id)
                                  .join(Case, Case.id == CaseAssignment.case_id)
                                  .where(Case.code == code, CaseAssignment.ended_at.is_(None))).all()
        return dict(rows)


@pytest.mark.parametrize("path", ["web", "api"])
@pytest.mark.parametrize("end", [withdraw_referral, withdraw_consent, service_given])
def test_a_receivers_assignment_ends_with_her_entitys_access(app, client, login_as, people, referred, end, path):
    code, referral_id = referred
    assert _open_roles(app, code) == {"ana": "social_worker", "sam": "social_worker"}
    response = end(app, client, login_as, people, code, referral_id, path)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.get(Referral, referral_id).status != "accepted"
    assert _open_roles(app, code) == {"ana": "social_worker"}  # the owner's social worker stays
    with app.app_context():
        row = db.session.scalar(select(CaseAssignment).join(User, User.id == CaseAssignment.user_id)
                                .where(User.username == "sam"))
        assert row.ended_at is not None  # closed, not deleted: the history says she worked it
        logged = [json.loads(e.detail) for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.unassign"))]
        assert {"user": "sam", "role": "social_worker", "reason": "access_ended"} in logged
    login_as(people["sam"])
    assert code not in client.get("/my-cases").get_data(as_text=True)
    items = client.get("/api/v1/agenda", headers=_token(app, people["sam"])).get_json()["items"]
    assert code not in {i["case"] for i in items}


def test_another_referral_for_a_service_of_her_role_keeps_her_assigned(app, client, login_as, people, referred):
    """Access through another referral still in force (another service her role gives): her assignment stays."""
    code, referral_id = referred
    with app.test_request_context():
        _referral(code, "SDIS", "SALUD", "accepted", people["ana"].id, sections="summary",
                  service="psychosocial_followup")
    withdraw_referral(app, client, login_as, people, code, referral_id, "api")
    assert _open_roles(app, code) == {"ana": "social_worker", "sam": "social_worker"}


def test_a_rejected_or_sent_referral_ending_closes_nothing(app, client, login_as, people):
    """Withdrawing a referral never accepted touches no assignment (there was none to its entity)."""
    with app.test_request_context():
        code = make_case(people["ana"].id)
        referral_id = _referral(code, "SDIS", "SALUD", "sent", people["ana"].id)
    before = _open_roles(app, code)
    withdraw_referral(app, client, login_as, people, code, referral_id, "api")
    assert _open_roles(app, code) == before == {"ana": "social_worker"}


def test_the_child_protection_authoritys_assignment_ends_when_she_is_no_child(app, client, factory, people):
    """The mandatory referral to ICBF gives access only while the case is a child's: a corrected birth date ends it
    (referrals.child.end_child_referral), and with it ICBF's professional's assignment."""
    factory.entity("ICBF", name="Instituto Colombiano de Bienestar Familiar", kind="child_protection")
    ines = factory.user("ines", roles=("social_worker",), entity="ICBF")
    with app.test_request_context():
        code = make_case(people["ana"].id, is_child=True, birth_date="2012-01-01", age_group="12-17",
                         status="in_immediate_assistance")
        referral = referrals.send_child_referral(db.session.get(User, people["ana"].id), code)
        referral_id, version = referral.id, referral.version
    accepted = client.post(f"/api/v1/referrals/{referral_id}/accept", headers=_token(app, ines),
                           json={"version": version})
    assert accepted.status_code == 200, accepted.get_json()
    with app.test_request_context():
        assignments.assign(db.session.get(User, people["ana"].id), code, "ines", "social_worker")
    assert _open_roles(app, code) == {"ana": "social_worker", "ines": "social_worker"}
    with app.app_context():
        case_version = db.session.scalar(select(Case).where(Case.code == code)).version
    corrected = client.patch(f"/api/v1/cases/{code}", headers=_token(app, people["ana"]),
                             json={"version": case_version, "birth_date": "1995-01-01", "age_group": "27-29"})
    assert corrected.status_code == 200, corrected.get_json()
    assert _open_roles(app, code) == {"ana": "social_worker"}
