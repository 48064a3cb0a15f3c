"""JSON API v1 for the case registry: contracts, need-to-know, stale versions, malformed input."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken
from caseapp.models.cases import Case
from caseapp.models.victims import Victim
from caseapp.timeutil import utcnow

BODY = {
    "given_names": "Sandra Milena", "family_names": "Arboleda Cuesta", "document_type": "CC",
    "document_number": "43555666", "birth_date": "1990-03-03", "phone": "3216667788", "sex": "female",
    "nationality": "CO", "identified_on": "2025-09-10", "identification_source": "policia",
    "exploitation_purposes": ["forced_labour", "servitude"], "trafficking_scope": "internal",
    "consent_assistance": True, "consent_data_processing": True, "control_methods": ["debt_bondage"],
}


def token_for(app, test_user) -> dict:
    raw = crypto.new_token()
    with app.app_context():
        db.session.add(ApiToken(user_id=test_user.id, token_hash=crypto.hash_token(raw), created_at=utcnow()))
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def n_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def n_victims(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Victim))


def n_data_keys(app) -> int:
    from caseapp.models.keys import DataKey

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DataKey).where(DataKey.purpose == "victim"))


@pytest.fixture
def users(app, factory):
    made = {
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "lina": factory.user("lina", roles=("lawyer",), entity="SDIS"),
        "otro": factory.user("otro", roles=("social_worker",), entity="FISCAL"),
        "coord": factory.user("coord", roles=("coordinator",), entity="SDIS"),
        "audi": factory.user("audi", roles=("auditor",), entity="SDIS"),
    }
    return {k: token_for(app, u) for k, u in made.items()}


@pytest.fixture
def created(client, users):
    r = client.post("/api/v1/cases", json=BODY, headers=users["ana"])
    assert r.status_code == 201, r.json
    return r.json["code"]


def test_create_get_and_catalogue(client, users, created):
    assert created == "SDIS-2025-00001"
    r = client.get(f"/api/v1/cases/{created}", headers=users["ana"])
    assert r.status_code == 200
    body = r.json
    assert body["status"] == "identified" and body["version"] >= 1
    assert "immediate_due_on" in body and "mediate_due_on" in body
    assert body["identity"]["document_number"] == "43555666"
    assert {p["code"] for p in body["exploitation_purposes"]} == {"forced_labour", "servitude"}
    assert body["linked_on"] == "2025-09-10"
    r = client.get("/api/v1/catalogues/exploitation-purposes", headers=users["ana"])
    items = {i["code"]: i["label"] for i in r.json}
    assert items["begging"] == "Mendicidad ajena" and "forced_recruitment" in items


def test_unauthenticated_is_401(client):
    assert client.post("/api/v1/cases", json=BODY).status_code == 401
    assert client.get("/api/v1/cases/SDIS-2025-00001", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_search_by_each_kind(client, users, created):
    for query in ({"document_type": "CC", "document_number": "43.555.666"}, {"name": "sandra milena arboleda cuesta"},
                  {"phone": "+57 321 666 7788"}, {"code": created}):
        r = client.post("/api/v1/cases/search", json=query, headers=users["ana"])
        assert r.status_code == 200, (query, r.json)
        assert [i["code"] for i in r.json["items"]] == [created]
        assert r.json["items"][0]["owner_entity"] == "SDIS" and r.json["items"][0]["status"] == "identified"
    r = client.post("/api/v1/cases/search", json={"name": "Sandra", "phone": "3216667788"}, headers=users["ana"])
    assert r.status_code == 422


def test_other_entity_gets_404_and_empty_search(client, users, created):
    h = users["otro"]
    assert client.get(f"/api/v1/cases/{created}", headers=h).status_code == 404
    assert client.patch(f"/api/v1/cases/{created}", json={"version": 1, "address": "x"}, headers=h).status_code == 404
    assert client.post(f"/api/v1/cases/{created}/consents", json={"kind": "assistance"}, headers=h).status_code == 404
    for query in ({"document_type": "CC", "document_number": "43555666"}, {"code": created}, {"phone": "3216667788"}):
        r = client.post("/api/v1/cases/search", json=query, headers=h)
        assert r.status_code == 200 and r.json["items"] == []
    assert client.get("/api/v1/cases", headers=h).json["items"] == []
    # A 404 for an existing case looks the same as for a missing one.
    assert client.get("/api/v1/cases/FISCAL-2025-00042", headers=h).json == client.get(
        f"/api/v1/cases/{created}", headers=h).json


@pytest.mark.parametrize("who", ["coord", "audi"])
def test_coordinator_and_auditor_get_403_and_no_identity(client, users, created, who):
    h = users[who]
    responses = [
        client.get(f"/api/v1/cases/{created}", headers=h),
        client.get("/api/v1/cases", headers=h),
        client.post("/api/v1/cases/search", json={"document_type": "CC", "document_number": "43555666"}, headers=h),
        client.post("/api/v1/cases/search", json={"code": created}, headers=h),
        client.post("/api/v1/cases", json=BODY, headers=h),
        client.patch(f"/api/v1/cases/{created}", json={"version": 1}, headers=h),
        client.post(f"/api/v1/cases/{created}/consents", json={"kind": "sharing"}, headers=h),
        client.get("/api/v1/catalogues/exploitation-purposes", headers=h),
    ]
    for r in responses:
        assert r.status_code == 403, r.request.path
        text = r.get_data(as_text=True)
        assert "Sandra" not in text and "43555666" not in text and "3216667788" not in text


def test_lawyer_reads_but_cannot_register(client, users, created):
    assert client.get(f"/api/v1/cases/{created}", headers=users["lina"]).status_code == 200
    assert client.post("/api/v1/cases", json={**BODY, "document_number": "1"}, headers=users["lina"]).status_code == 403


def test_patch_with_version_and_stale_409(app, client, users, created):
    h = users["ana"]
    v = client.get(f"/api/v1/cases/{created}", headers=h).json["version"]
    r = client.patch(f"/api/v1/cases/{created}", json={"version": v, "address": "Carrera 7 # 1-1"}, headers=h)
    assert r.status_code == 200 and r.json["version"] == v + 1
    assert r.json["identity"]["address"] == "Carrera 7 # 1-1"
    r = client.patch(f"/api/v1/cases/{created}", json={"version": v, "address": "Perdida"}, headers=h)
    assert r.status_code == 409 and r.json["error"] == "conflict" and "no se guardó" in r.json["message"].lower()
    body = client.get(f"/api/v1/cases/{created}", headers=h).json
    assert body["identity"]["address"] == "Carrera 7 # 1-1" and body["version"] == v + 1
    r = client.patch(f"/api/v1/cases/{created}", json={"address": "Sin versión"}, headers=h)
    assert r.status_code == 422 and "version" in r.json["fields"]
    r = client.patch(f"/api/v1/cases/{created}", json={"version": v + 1, "status": "closed"}, headers=h)
    assert r.status_code == 422 and "status" in r.json["fields"]


def test_status_endpoint(client, users, created):
    h = users["ana"]
    v = client.get(f"/api/v1/cases/{created}", headers=h).json["version"]
    r = client.post(f"/api/v1/cases/{created}/status", json={"status": "in_immediate_assistance", "version": v,
                                                              "on": "2025-09-11"}, headers=h)
    assert r.status_code == 200 and r.json["status"] == "in_immediate_assistance"
    r = client.post(f"/api/v1/cases/{created}/status", json={"status": "closed", "version": r.json["version"]},
                    headers=h)
    assert r.status_code == 422 and "reason" in r.json["fields"]


@pytest.mark.parametrize("body,field", [
    ({**BODY, "birth_date": "1990-13-45"}, "birth_date"),
    ({**BODY, "identified_on": "2999-01-01"}, "identified_on"),
    ({**BODY, "identified_on": 20250910}, "identified_on"),
    ({**BODY, "exploitation_purposes": ["kidnapping"]}, "exploitation_purposes"),
    ({**BODY, "exploitation_purposes": "forced_labour"}, "exploitation_purposes"),
    ({**BODY, "document_type": "DNI"}, "document_type"),
    ({**BODY, "nationality": "Colombia"}, "nationality"),
    ({**BODY, "narrative": "a" * 4001}, "narrative"),
    ({**BODY, "family_names": "b" * 201}, "family_names"),
    ({**BODY, "given_names": ["Sandra"]}, "given_names"),
    ({**BODY, "consent_assistance": "maybe"}, "consent_assistance"),
    ({**BODY, "sex": None, "trafficking_scope": 1}, "trafficking_scope"),
    ({**BODY, "unexpected": "x"}, "unexpected"),
])
def test_malformed_input_422_and_nothing_written(app, client, users, body, field):
    r = client.post("/api/v1/cases", json=body, headers=users["ana"])
    assert r.status_code == 422, r.json
    assert field in r.json["fields"] and r.json["message"]
    assert n_cases(app) == 0 and n_victims(app) == 0


@pytest.mark.parametrize("payload,ctype", [
    ("not json", "application/json"), ("[1, 2]", "application/json"), ('"text"', "application/json"),
    ('{"given_names": ', "application/json"), ("given_names=Sandra", "application/x-www-form-urlencoded"),
])
def test_non_object_body(app, client, users, payload, ctype):
    r = client.post("/api/v1/cases", data=payload, headers={**users["ana"], "Content-Type": ctype})
    assert r.status_code in (400, 422) and r.is_json and r.json["message"]
    assert n_cases(app) == 0


def test_duplicate_across_entities_hints_only_the_entity(app, client, users, created):
    again = {**BODY, "document_number": "43 555 666", "given_names": "Sandra Milena", "phone": None}
    r = client.post("/api/v1/cases", json={**again, "confirm_duplicate": False}, headers=users["otro"])
    assert r.status_code == 409
    assert r.json["possible_duplicates"] == [{"entity_code": "SDIS", "entity_name": "Entidad SDIS"}]
    # Her record is built before the check (services.registry.registration._new_case): none of it is written
    assert n_cases(app) == 1 and n_victims(app) == 1 and n_data_keys(app) == 1
    r = client.post("/api/v1/cases", json=again, headers=users["otro"])
    assert r.status_code == 201 and r.json["code"].startswith("FISCAL-2025-")
    assert r.json["possible_duplicates"] == [{"entity_code": "SDIS", "entity_name": "Entidad SDIS"}]
    assert "Sandra" not in r.get_data(as_text=True) and created not in r.get_data(as_text=True)


def test_child_needs_representative_and_is_flagged(client, users, factory):
    factory.entity("ICBF", kind="child_protection")
    child = {**BODY, "birth_date": "2011-05-05", "document_type": "TI", "document_number": "1122334455"}
    r = client.post("/api/v1/cases", json=child, headers=users["ana"])
    assert r.status_code == 422 and "representative" in r.json["fields"]
    r = client.post("/api/v1/cases", json={**child, "representative": "Defensoría de familia",
                                           "consent_method": "child_protection_authority"}, headers=users["ana"])
    assert r.status_code == 201 and r.json["mandatory_referral"]["to_entity"] == "ICBF"  # sent with it
    body = client.get(f"/api/v1/cases/{r.json['code']}", headers=users["ana"]).json
    assert body["is_child"] and body["child_referral_required"]
    outgoing = client.get("/api/v1/referrals?direction=outgoing", headers=users["ana"]).json
    assert [(x["id"], x["mandatory"], x["status"]) for x in outgoing] == [(r.json["mandatory_referral"]["id"], True,
                                                                          "sent")]


def test_consents_give_and_withdraw(app, client, users, created, factory):
    factory.entity("ICBF")
    h = users["ana"]
    r = client.post(f"/api/v1/cases/{created}/consents",
                    json={"kind": "sharing", "entity": "ICBF", "method": "written", "given_on": "2025-09-12"}, headers=h)
    assert r.status_code == 201 and r.json["entity"] == "ICBF"
    consent = r.json
    r = client.post(f"/api/v1/cases/{created}/consents", json={"kind": "sharing"}, headers=h)
    assert r.status_code == 422 and "entity" in r.json["fields"]
    url = f"/api/v1/cases/{created}/consents/{consent['id']}/withdraw"
    r = client.post(url, json={"version": consent["version"] + 3}, headers=h)
    assert r.status_code == 409
    r = client.post(url, json={"version": consent["version"]}, headers=h)
    assert r.status_code == 200 and r.json["withdrawn_on"]
    assert client.post(f"/api/v1/cases/{created}/consents/999/withdraw", json={"version": 1},
                       headers=h).status_code == 404
    body = client.get(f"/api/v1/cases/{created}", headers=h).json
    assert body["linked_on"] == "2025-09-10"


def test_list_pagination(client, users):
    codes = []
    for i in range(3):
        r = client.post("/api/v1/cases", json={**BODY, "document_number": f"9{i}", "given_names": f"P{i}",
                                               "phone": None}, headers=users["ana"])
        codes.append(r.json["code"])
    r = client.get("/api/v1/cases?limit=2", headers=users["ana"])
    assert [i["code"] for i in r.json["items"]] == codes[::-1][:2] and r.json["next_cursor"]
    r = client.get(f"/api/v1/cases?limit=2&cursor={r.json['next_cursor']}", headers=users["ana"])
    assert [i["code"] for i in r.json["items"]] == [codes[0]] and r.json["next_cursor"] is None
    assert client.get("/api/v1/cases?cursor=abc", headers=users["ana"]).status_code == 422
    # past the largest id either database holds: refused alike (PostgreSQL answered 422, SQLite a page)
    assert client.get(f"/api/v1/cases?cursor={2**31}", headers=users["ana"]).status_code == 422
    r = client.get(f"/api/v1/cases?limit=2&cursor={2**31 - 1}", headers=users["ana"])
    assert [i["code"] for i in r.json["items"]] == codes[::-1][:2]


def test_openapi_documents_the_registry(client):
    doc = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/cases", "/api/v1/cases/search", "/api/v1/cases/{code}", "/api/v1/cases/{code}/consents",
            "/api/v1/catalogues/exploitation-purposes"} <= set(doc["paths"])
    assert "NewCase" in doc["components"]["schemas"]
