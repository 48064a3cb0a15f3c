"""API v1 for steps, notes and referrals: exact contracts, the same permission rules as the web."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, Entity
from caseapp.models.cases import Case, Consent
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.conftest import csrf_token


def _token(app, user_id) -> dict:
    token = crypto.new_token()
    with app.app_context():
        db.session.add(ApiToken(user_id=user_id, token_hash=crypto.hash_token(token), created_at=utcnow()))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(app, factory):
    factory.entity("FGN", kind="justice")
    people = {
        "sw": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "lawyer": factory.user("luz", roles=("lawyer",), entity="SDIS"),
        "both": factory.user("sol", roles=("social_worker", "lawyer"), entity="SDIS"),
        "b": factory.user("beto", roles=("social_worker",), entity="OIM"),
    }
    with app.test_request_context():
        code = make_case(people["sw"].id, identified_on=date(2025, 3, 10))
        case = db.session.scalar(select(Case).where(Case.code == code))
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=date(2025, 3, 10), method="written",
                                     taken_by_id=people["sw"].id, recorded_at=utcnow()))
        db.session.commit()
    tokens = {k: _token(app, u.id) for k, u in people.items()}
    return {"code": code, "people": people, "tokens": tokens}


def test_step_kinds_catalogue(client, world):
    r = client.get("/api/v1/step-kinds", headers=world["tokens"]["sw"])
    assert r.status_code == 200
    kinds = {k["code"]: k for k in r.json}
    assert kinds["lodging"] == {"code": "lodging", "phase": "immediate", "label": "Alojamiento (casa de acogida)",
                                "section": "psychosocial"}
    assert kinds["seed_capital"]["phase"] == "mediate"
    assert client.get("/api/v1/step-kinds").status_code == 401


def test_steps_contract(client, world):
    code, h = world["code"], world["tokens"]["sw"]
    r = client.post(f"/api/v1/cases/{code}/steps", json={"kind": "reception", "status": "done", "done_on": "2025-03-11"},
                    headers=h)
    assert r.status_code == 201 and r.json["kind"] == "reception" and r.json["done_on"] == "2025-03-11"
    r = client.get(f"/api/v1/cases/{code}/steps", headers=h)
    assert r.status_code == 200 and [s["kind"] for s in r.json] == ["reception"]
    r = client.post(f"/api/v1/cases/{code}/steps", json={"kind": "reception", "status": "done", "done_on": "11/03"},
                    headers=h)
    assert r.status_code == 422 and "done_on" in r.json["fields"]
    r = client.post(f"/api/v1/cases/{code}/steps", data="nope", headers=h)
    assert r.status_code == 422
    # another entity: 404, nothing told
    assert client.get(f"/api/v1/cases/{code}/steps", headers=world["tokens"]["b"]).status_code == 404
    assert client.get("/api/v1/cases/SDIS-2025-99999/steps", headers=h).status_code == 404


def test_need_to_know_notes_api(client, world):
    code, t = world["code"], world["tokens"]
    assert client.post(f"/api/v1/cases/{code}/notes/psychosocial", json={"body": "Duelo, ansiedad"},
                       headers=t["sw"]).status_code == 201
    assert client.post(f"/api/v1/cases/{code}/notes/legal", json={"body": "Estrategia: prueba anticipada"},
                       headers=t["lawyer"]).status_code == 201
    # the lawyer never reads psychosocial notes; the social worker never reads legal notes
    assert client.get(f"/api/v1/cases/{code}/notes/psychosocial", headers=t["lawyer"]).status_code == 403
    assert client.get(f"/api/v1/cases/{code}/notes/legal", headers=t["sw"]).status_code == 403
    assert client.post(f"/api/v1/cases/{code}/notes/legal", json={"body": "x"}, headers=t["sw"]).status_code == 403
    assert client.get(f"/api/v1/cases/{code}/notes/psychosocial", headers=t["sw"]).json[0]["body"] == "Duelo, ansiedad"
    assert client.get(f"/api/v1/cases/{code}/notes/legal", headers=t["lawyer"]).json[0]["body"].startswith("Estrategia")
    # a user holding both roles reads both
    assert client.get(f"/api/v1/cases/{code}/notes/legal", headers=t["both"]).status_code == 200
    assert client.get(f"/api/v1/cases/{code}/notes/psychosocial", headers=t["both"]).status_code == 200
    # social workers read the legal follow-up (not the notes); lawyers write it
    assert client.post(f"/api/v1/cases/{code}/legal-events", json={"on": "2025-04-01", "title": "Imputación"},
                       headers=t["lawyer"]).status_code == 201
    assert client.post(f"/api/v1/cases/{code}/legal-events", json={"on": "2025-04-01"},
                       headers=t["sw"]).status_code == 403
    assert client.get(f"/api/v1/cases/{code}/legal-events", headers=t["sw"]).json["events"][0]["title"] == "Imputación"


def test_need_to_know_notes_web(app, client, world, login_as):
    from caseapp.models.accounts import User
    from caseapp.services import casework as steps

    code, p = world["code"], world["people"]
    with app.test_request_context():
        steps.add_note(db.session.get(User, p["sw"].id), code, "psychosocial", body="Crisis de ansiedad")
        steps.add_note(db.session.get(User, p["lawyer"].id), code, "legal", body="Testigo clave")
    login_as(p["lawyer"])
    html = client.get(f"/route/cases/{code}").get_data(as_text=True)
    assert "Testigo clave" in html and "Crisis de ansiedad" not in html and "Proyecto de vida" not in html
    login_as(p["sw"])
    html = client.get(f"/route/cases/{code}").get_data(as_text=True)
    assert "Crisis de ansiedad" in html and "Testigo clave" not in html and "Seguimiento jurídico" in html
    token = csrf_token(client, f"/route/cases/{code}")
    r = client.post(f"/route/cases/{code}/notes/legal", data={"csrf_token": token, "jur-csrf_token": token,
                                                              "jur-body": "intento", "jur-written_on": "2025-03-11"})
    assert r.status_code == 403


def test_referrals_contract(client, world):
    code, t = world["code"], world["tokens"]
    body = {"case": code, "to_entity": "OIM", "service": "psychological_assessment", "reason": "Valoración",
            "sections": ["summary", "psychosocial"]}
    r = client.post("/api/v1/referrals", json={**body, "to_entity": "NOPE"}, headers=t["sw"])
    assert r.status_code == 422 and "to_entity" in r.json["fields"]
    r = client.post("/api/v1/referrals", json={**body, "sections": ["summary"]}, headers=t["sw"])
    assert r.status_code == 422 and r.json["fields"]["sections"]  # shares nothing the service needs
    r = client.post("/api/v1/referrals", json=body, headers=t["sw"])
    assert r.status_code == 201 and set(r.json) == {"id"}
    rid = r.json["id"]
    assert client.get(f"/api/v1/cases/{code}/steps", headers=t["b"]).status_code == 404
    incoming = client.get("/api/v1/referrals?direction=incoming", headers=t["b"]).json
    assert [(x["id"], x["case"], x["status"]) for x in incoming] == [(rid, code, "sent")]
    version = incoming[0]["version"]
    assert client.post(f"/api/v1/referrals/{rid}/accept", json={"version": version}, headers=t["sw"]).status_code == 403
    r = client.post(f"/api/v1/referrals/{rid}/accept", json={}, headers=t["b"])
    assert r.status_code == 422 and "version" in r.json["fields"]  # never answered blindly
    r = client.post(f"/api/v1/referrals/{rid}/accept", json={"version": version}, headers=t["b"])
    assert r.status_code == 200 and r.json["status"] == "accepted"
    assert client.post(f"/api/v1/referrals/{rid}/accept", json={"version": version}, headers=t["b"]).status_code == 409
    version = r.json["version"]
    assert client.get(f"/api/v1/cases/{code}/steps", headers=t["b"]).status_code == 200
    r = client.post(f"/api/v1/referrals/{rid}/complete", json={"version": version, "note": "Sesión 1"},
                    headers=t["b"])
    assert r.status_code == 409 and r.json["rule"] == "immediate_not_started"  # the owner starts her route
    r = client.post(f"/api/v1/cases/{code}/steps", json={"kind": "reception", "status": "done",
                                                         "done_on": "2025-03-11"}, headers=t["sw"])
    assert r.status_code == 201
    r = client.post(f"/api/v1/referrals/{rid}/complete", json={"version": version, "note": "Sesión 1"},
                    headers=t["b"])
    assert r.json["status"] == "done" and r.json["step"]
    assert client.get(f"/api/v1/cases/{code}/steps", headers=t["b"]).status_code == 404
    steps = client.get(f"/api/v1/cases/{code}/steps", headers=t["sw"]).json
    assert any(s["id"] == r.json["step"] and s["kind"] == "psychological_assessment" and s["status"] == "done"
               and s["provider_entity"] == "OIM" for s in steps)
    r2 = client.post("/api/v1/referrals", json={**body, "service": "education", "sections": ["identity"]},
                     headers=t["sw"]).json["id"]
    v2 = client.get(f"/api/v1/referrals/{r2}", headers=t["b"]).json["version"]
    assert client.post(f"/api/v1/referrals/{r2}/reject", json={"version": v2}, headers=t["b"]).status_code == 422
    assert client.post(f"/api/v1/referrals/{r2}/reject", json={"reason": "Sin cupo", "version": v2},
                       headers=t["b"]).json["status"] == "rejected"
    r3 = client.post("/api/v1/referrals", json={**body, "service": "job_training", "sections": ["identity"]},
                     headers=t["sw"]).json["id"]
    v3 = client.get(f"/api/v1/referrals/{r3}", headers=t["sw"]).json["version"]
    assert client.post(f"/api/v1/referrals/{r3}/withdraw", json={"version": v3},
                       headers=t["sw"]).json["status"] == "withdrawn"
    assert client.get("/api/v1/referrals?direction=sideways", headers=t["b"]).status_code == 422
    # no consent for this entity → refused
    r = client.post("/api/v1/referrals", json={**body, "to_entity": "FGN"}, headers=t["sw"])
    assert r.status_code == 409 and "consentido" in r.json["message"]
    r = client.post("/api/v1/referrals", json={**body, "to_entity": "SDIS"}, headers=t["sw"])
    assert r.status_code == 422


def test_openapi_documents_the_route(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for p in ("/api/v1/step-kinds", "/api/v1/cases/{code}/steps", "/api/v1/referrals",
              "/api/v1/referrals/{id}/accept", "/api/v1/referrals/{id}/withdraw"):
        assert p in paths


@pytest.mark.parametrize("sections", [5, -1, 2**40, 1.5, True, {"identity": 1}, ["summary", 3], None])
def test_malformed_sections_are_refused_cleanly(client, world, sections):
    body = {"case": world["code"], "to_entity": "OIM", "service": "psychological_assessment", "reason": "Valoración",
            "sections": sections}
    r = client.post("/api/v1/referrals", json=body, headers=world["tokens"]["sw"])
    if sections is None:  # no sections: the summary alone, which this service finds too little
        assert r.status_code == 422 and r.json["fields"]["sections"]
    else:
        assert r.status_code == 422 and "sections" in r.json["fields"]
