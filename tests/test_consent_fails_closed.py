"""Consent that fails closed: what another entity sees is computed from the live state (an accepted referral and
the victim's consent to share with it still in force), on every path that shows a case; withdrawing the consent
cuts access at once, is logged, and tells the receiver that access ended without saying why. Withdrawing the
assistance consent takes her out of the programme's counts from that date on.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp import authz
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.services import accounts, casework, referrals, registry
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import new_api_token

IDENTIFIED = date(2025, 3, 10)
NAME, DOCUMENT = "Yesenia", "52999111"


@pytest.fixture
def shared(app, client, factory, login_as):
    """An SDIS case referred to OIM (accepted), sharing identity and the summary, with her consent; she is lodged."""
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    beto = factory.user("beto", roles=("social_worker", "lawyer"), entity="OIM")
    with app.test_request_context():
        code = make_case(ana.id, given_names=NAME, document_number=DOCUMENT, identified_on=IDENTIFIED,
                         status="in_immediate_assistance", intake_on=IDENTIFIED)
        owner = db.session.get(User, ana.id)
        consent = registry.give_consent(owner, code, "sharing", method="written", given_on="2025-03-10",
                                        entity_code="OIM")
        shelter = casework.save_shelter(accounts.CLI, code="CASA-1", name="Casa Violeta", city="Bogotá",
                                        operator_entity="SDIS", capacity=3)
        casework.place(owner, code, shelter_id=shelter.id, admitted_on="2025-03-11")
        ref = referrals.send(owner, code, to_entity="OIM", service="accompaniment", reason="Acompañamiento a la "
                             "audiencia", sections=["summary", "identity"])
        referrals.accept(db.session.get(User, beto.id), ref.id, version=ref.version)
        token = new_api_token(beto.id)
        consent_id, referral_id = consent.id, ref.id
    login_as(beto)
    return {"app": app, "client": client, "code": code, "ana": ana, "beto": beto, "consent": consent_id,
            "referral": referral_id, "api": {"Authorization": f"Bearer {token}"}}


def _reads(s) -> dict[str, int]:
    """Every path through which the receiver reads the case: status codes."""
    c, code, api = s["client"], s["code"], s["api"]
    return {
        "case page": c.get(f"/cases/{code}").status_code,
        "route page": c.get(f"/route/cases/{code}").status_code,
        "api case": c.get(f"/api/v1/cases/{code}", headers=api).status_code,
        "api steps": c.get(f"/api/v1/cases/{code}/steps", headers=api).status_code,
        "search by code": 200 if f'href="/cases/{code}"' in c.post("/cases/search", data={
            "csrf_token": csrf_token(c, "/cases/"), "code": code}).get_data(as_text=True) else 404,
        "api search by document": 200 if c.post("/api/v1/cases/search", json={
            "document_type": "CC", "document_number": DOCUMENT}, headers=api).get_json()["items"] else 404,
    }


def _withdraw(s, on="2025-04-01"):
    with s["app"].test_request_context():
        consent = db.session.get(Consent, s["consent"])
        registry.withdraw_consent(db.session.get(User, s["ana"].id), s["code"], consent.id, version=consent.version,
                                  on=on)


def test_withdrawn_consent_cuts_every_read_path_at_once(shared):
    assert set(_reads(shared).values()) == {200}
    html = shared["client"].get("/route/shelters").get_data(as_text=True)
    assert shared["code"] in html  # the shared identity includes where she is lodged
    _withdraw(shared)
    assert _reads(shared) == dict.fromkeys(_reads(shared), 404)
    assert shared["code"] not in shared["client"].get("/route/shelters").get_data(as_text=True)


def test_access_follows_the_live_consent_even_if_the_referral_was_not_updated(shared):
    """Fail closed: the rule reads the consent itself, so a referral left 'accepted' by any path grants nothing."""
    with shared["app"].test_request_context():
        consent = db.session.get(Consent, shared["consent"])
        consent.withdrawn_on = date(2025, 4, 1)  # as if some path forgot to end the referral
        db.session.commit()
        assert db.session.get(Referral, shared["referral"]).status == "accepted"
        case = db.session.scalar(select(Case).where(Case.code == shared["code"]))
        beto = db.session.get(User, shared["beto"].id)
        assert authz.case_sections(beto, case) == frozenset()
        assert db.session.scalar(authz.visible_cases(beto).where(Case.id == case.id)) is None
    assert set(_reads(shared).values()) == {404}


def test_the_receiver_is_told_that_access_ended_never_why(shared):
    _withdraw(shared)
    client = shared["client"]
    inbox = client.get("/referrals/").get_data(as_text=True)
    assert "Acceso finalizado" in inbox and shared["code"] in inbox
    page = client.get(f"/referrals/{shared['referral']}").get_data(as_text=True)
    assert "El acceso a este caso finalizó" in page
    assert "audiencia" not in page and "consentimiento" not in page.lower()  # neither the reason nor the cause
    api = client.get("/api/v1/referrals?direction=incoming", headers=shared["api"]).get_json()
    assert [(r["status"], r["access_ended_on"]) for r in api] == [("ended", "2025-04-01")]
    with shared["app"].app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_ref == shared["code"])))
        assert {"case.consent.withdraw", "referral.access_ended"} <= actions


def test_after_withdrawal_the_receiver_can_record_nothing(shared):
    _withdraw(shared)
    with shared["app"].test_request_context():
        ref = db.session.get(Referral, shared["referral"])
        r = shared["client"].post(f"/api/v1/referrals/{ref.id}/service", headers=shared["api"],
                                  json={"version": ref.version, "status": "done", "done_on": "2025-04-02"})
    assert r.status_code in (403, 404)


def test_the_mandatory_icbf_referral_does_not_rest_on_a_sharing_consent(app, factory):
    factory.entity("ICBF", kind="child_protection")
    icbf = factory.user("icbf", roles=("social_worker",), entity="ICBF")
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        case = registry.register_case(db.session.get(User, ana.id), {
            "given_names": "Luna", "birth_date": "2012-05-01", "identified_on": "2025-03-10",
            "identification_source": "icbf", "trafficking_scope": "internal", "exploitation_purposes": ["begging"],
            "consent_assistance": True, "consent_method": "legal_representative", "representative": "Defensora"})
        mandatory = case.child_referral
        referrals.accept(db.session.get(User, icbf.id), mandatory.id, version=mandatory.version)
        assert authz.case_sections(db.session.get(User, icbf.id), case) >= {"identity", "summary"}


def test_withdrawn_assistance_consent_leaves_the_counts_from_that_date(app, factory):
    from caseapp.services.indicators import compute
    from caseapp.services.indicators.formulas import FORMULAS  # noqa: F401 - the registry the product uses

    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        from caseapp.models.indicators import Product

        product = db.session.scalar(select(Product).where(Product.code == "3.5"))
        codes = [make_case(ana.id, document_number=str(5200 + i), sex="female", linked_on=date(2025, 3, 10),
                           identified_on=date(2025, 3, 10)) for i in range(3)]
        assert compute(product, date(2025, 1, 1), date(2025, 12, 31)) == 3
        case = db.session.scalar(select(Case).where(Case.code == codes[0]))
        consent = case.active_consent("assistance")
        registry.withdraw_consent(db.session.get(User, ana.id), codes[0], consent.id, version=consent.version,
                                  on="2025-08-01")
        assert compute(product, date(2025, 1, 1), date(2025, 7, 31)) == 3  # before: she counted
        assert compute(product, date(2025, 1, 1), date(2025, 12, 31)) == 2  # from that date on: she does not


def test_the_case_page_says_she_left_the_counts(app, client, factory, login_as):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        code = make_case(ana.id, identified_on=IDENTIFIED)
        consent = db.session.scalar(select(Case).where(Case.code == code)).consents[0]
        registry.withdraw_consent(db.session.get(User, ana.id), code, consent.id, version=consent.version,
                                  on="2025-05-02")
    login_as(ana)
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "ya no cuenta en las cifras del programa" in html


def test_shelters_show_only_under_the_identity_section_and_the_page_is_logged(app, client, factory, login_as):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    beto = factory.user("beto", roles=("social_worker",), entity="OIM")
    with app.test_request_context():
        code = make_case(ana.id, identified_on=IDENTIFIED, status="in_immediate_assistance", intake_on=IDENTIFIED)
        owner = db.session.get(User, ana.id)
        registry.give_consent(owner, code, "sharing", method="written", given_on="2025-03-10", entity_code="OIM")
        shelter = casework.save_shelter(accounts.CLI, code="CASA-1", name="Casa Violeta", city="Bogotá",
                                        operator_entity="SDIS", capacity=3)
        casework.place(owner, code, shelter_id=shelter.id, admitted_on="2025-03-11")
        ref = referrals.send(owner, code, to_entity="OIM", service="psychological_assessment",
                             reason="Valoración", sections=["summary", "psychosocial"])
        referrals.accept(db.session.get(User, beto.id), ref.id, version=ref.version)
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
    login_as(beto)
    assert client.get(f"/route/cases/{code}").status_code == 200
    assert "Casa Violeta" not in client.get(f"/route/cases/{code}").get_data(as_text=True)
    page = client.get("/route/shelters").get_data(as_text=True)
    assert "Casa Violeta" in page and code not in page  # free beds yes; who is lodged, not without identity
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "shelter.list",
                                                         AuditEvent.actor == "beto"))
        assert row is not None and row.actor_entity == oim.code
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "shelter.stays.view",
                                                          AuditEvent.actor == "beto")) is None  # she saw nobody
    login_as(ana)
    page = client.get("/route/shelters").get_data(as_text=True)
    assert code in page


def test_reads_made_while_the_referral_stood_raise_no_alert_after_it_ended(shared, factory):
    from caseapp.services.audit import alerts

    aud = factory.user("aud", roles=("auditor",), entity="PROC")
    assert shared["client"].get(f"/cases/{shared['code']}").status_code == 200  # a read under the referral
    _withdraw(shared)
    with shared["app"].test_request_context():
        found, _values = alerts.alerts_for(db.session.get(User, aud.id))
        assert [a for a in found if a.kind == "cross_entity"] == []


def test_where_she_is_lodged_is_in_her_case_history(shared, factory):
    from caseapp.services.audit import console

    aud = factory.user("aud", roles=("auditor",), entity="PROC")
    shared["client"].get("/route/shelters")
    with shared["app"].test_request_context():
        history = console.case_history(db.session.get(User, aud.id), shared["code"])
        assert any(row.action == "shelter.stays.view" and row.actor == "beto" for row in history.page.items)
