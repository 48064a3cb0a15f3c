"""API v1 does everything the web route page does, over the same services: the route overview, the legal
proceeding and protection measures, shelters and stays, the life plan, phase extensions, the lifecycle (close the
immediate phase, close, reopen), updating a step, erasure requests, the child referral and the monthly list.

For each endpoint: the success path, and what a user would notice — another entity's case (or a row of another
case) is 404, a stale or missing version is 409/422 with nothing written, a malformed body is 422 naming the fields,
a coordinator is 403, and every lifecycle rule answers with its `rule` code. Real app, real database, no mocks.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from tests.cases_factory import make_case
from tests.world import diff_snapshots, new_api_token, snapshot

IDENTIFIED = date(2025, 3, 10)
API = "/api/v1"


@pytest.fixture
def env(app, factory):
    factory.entity("ICBF", name="Instituto Colombiano de Bienestar Familiar", kind="child_protection")
    people = {
        "sw": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "lw": factory.user("luz", roles=("lawyer",), entity="SDIS"),
        "co": factory.user("coord", roles=("coordinator",), entity="SDIS"),
        "au": factory.user("audi", roles=("auditor",), entity="SDIS"),
        "ad": factory.user("root", roles=("admin",), entity="SDIS"),
        "other": factory.user("beto", roles=("social_worker", "lawyer"), entity="OIM"),
        "fisc": factory.user("fabio", roles=("social_worker", "lawyer"), entity="FISC"),
    }
    from caseapp.services import casework

    with app.test_request_context():
        code = make_case(people["sw"].id, intake_on=IDENTIFIED, status="in_immediate_assistance")
        second = make_case(people["sw"].id, intake_on=IDENTIFIED, status="in_immediate_assistance",
                           document_number="52999111", given_names="Rosa")
        admin = db.session.get(User, people["ad"].id)
        shelter = casework.save_shelter(admin, code="CASA-1", name="Casa Violeta", city="Bogotá",
                                        operator_entity="SDIS", capacity=1).id
        tokens = {k: {"Authorization": f"Bearer {new_api_token(u.id)}"} for k, u in people.items()}
    return {"app": app, "code": code, "second": second, "people": people, "t": tokens, "shelter": shelter}


def _user(env, who):
    return db.session.get(User, env["people"][who].id)


def _version(env, code=None) -> int:
    with env["app"].app_context():
        return db.session.scalar(select(Case.version).where(Case.code == (code or env["code"])))


def _status(env, code=None) -> str:
    with env["app"].app_context():
        return db.session.scalar(select(Case.status).where(Case.code == (code or env["code"])))


def _unchanged(env, client, method, url, headers, json=None, **kw):
    """Send a request that must be refused, and check that it wrote nothing (the access log aside)."""
    before = snapshot(env["app"])
    r = client.open(url, method=method, json=json, headers=headers, **kw)
    changed = diff_snapshots(before, snapshot(env["app"]))
    assert not changed, f"{method} {url} answered {r.status_code} but wrote {changed}"
    assert r.status_code >= 400 and r.get_json()["message"], r.status_code
    return r


def _logged(env, action, actor) -> bool:
    with env["app"].app_context():
        return db.session.scalar(select(AuditEvent.seq).where(
            AuditEvent.action == action, AuditEvent.actor == actor, AuditEvent.outcome == "allowed").limit(1)) is not None


# --- the rows the object routes act on --------------------------------------------------------------------------


def _step(env, client, code=None, kind="psychological_assessment"):
    r = client.post(f"{API}/cases/{code or env['code']}/steps", headers=env["t"]["sw"],
                    json={"kind": kind, "status": "planned", "planned_on": "2025-03-12"})
    assert r.status_code == 201, r.json
    return r.json


def _goal(env, client, code=None):
    r = client.post(f"{API}/cases/{code or env['code']}/life-plan", headers=env["t"]["sw"],
                    json={"area": "education", "description": "Terminar el bachillerato", "agreed_on": "2025-03-12"})
    assert r.status_code == 201, r.json
    return r.json


def _measure(env, client, code=None):
    r = client.post(f"{API}/cases/{code or env['code']}/protection-measures", headers=env["t"]["lw"],
                    json={"kind": "police_measures", "requested_on": "2025-03-12"})
    assert r.status_code == 201, r.json
    return r.json


def _stay(env, client, code=None):
    r = client.post(f"{API}/cases/{code or env['code']}/shelter-stays", headers=env["t"]["sw"],
                    json={"shelter_id": env["shelter"], "admitted_on": "2025-03-11"})
    assert r.status_code == 201, r.json
    return r.json


def _share_with_fisc(env, sections=("summary", "legal")):
    """A referral to FISC, accepted, sharing `sections` (the victim consented to share with FISC)."""
    from caseapp.models.referrals import Referral
    from caseapp.services import referrals, registry

    with env["app"].test_request_context():
        registry.give_consent(_user(env, "sw"), env["code"], "sharing", method="written", given_on="2025-03-10",
                              entity_code="FISC")
        rid = referrals.send(_user(env, "sw"), env["code"], to_entity="FISC", service="legal_orientation",
                             reason="Asesoría jurídica", sections=list(sections)).id
        referrals.accept(_user(env, "fisc"), rid, version=db.session.get(Referral, rid).version)
    return rid


# --- the route overview ---------------------------------------------------------------------------------------------


def test_route_overview_shows_each_reader_only_her_sections(client, env):
    code, t = env["code"], env["t"]
    _step(env, client)
    _goal(env, client)
    _stay(env, client)
    _measure(env, client)
    assert client.post(f"{API}/cases/{code}/notes/psychosocial", json={"body": "Duelo"}, headers=t["sw"]).status_code == 201
    assert client.post(f"{API}/cases/{code}/notes/legal", json={"body": "Testigo clave"}, headers=t["lw"]).status_code == 201

    r = client.get(f"{API}/cases/{code}/route", headers=t["sw"])
    assert r.status_code == 200, r.json
    view = r.json
    assert (view["code"], view["status"], view["version"]) == (code, "in_immediate_assistance", _version(env))
    assert view["intake_on"] == "2025-03-10" and view["due"]["immediate_due_on"] and view["due"]["rule"]["legal_source"]
    assert [s["kind"] for s in view["steps"]][-1] == "lodging" and view["steps"][0]["notes"] is None
    assert [g["description"] for g in view["life_plan"]] == ["Terminar el bachillerato"]
    assert [s["shelter"]["code"] for s in view["shelter_stays"]] == ["CASA-1"]
    assert [m["kind"] for m in view["legal"]["protection_measures"]] == ["police_measures"]
    assert [n["body"] for n in view["psychosocial_notes"]] == ["Duelo"]
    assert "legal_notes" not in view  # lawyers' notes: lawyers only
    assert "psychosocial" in view["sections"] and "lodging" in view["recordable_step_kinds"]
    assert _logged(env, "case.route.view", "ana")

    view = client.get(f"{API}/cases/{code}/route", headers=t["lw"]).json
    assert "life_plan" not in view and "psychosocial_notes" not in view  # the lawyer has no psychosocial section
    assert [n["body"] for n in view["legal_notes"]] == ["Testigo clave"] and "legal" in view
    assert all("notes" not in s for s in view["steps"] if s["kind"] == "psychological_assessment")

    # A receiving entity sees what its referral shares (summary and legal): no identity, so no shelter stay.
    _share_with_fisc(env)
    view = client.get(f"{API}/cases/{code}/route", headers=t["fisc"]).json
    assert set(view["sections"]) == {"summary", "legal"}
    assert "shelter_stays" not in view and "life_plan" not in view and "legal" in view
    assert [r["to_entity"] for r in view["referrals"]] == ["FISC"]

    assert client.get(f"{API}/cases/{code}/route", headers=t["other"]).status_code == 404
    assert client.get(f"{API}/cases/SDIS-2025-99999/route", headers=t["sw"]).status_code == 404
    for who in ("co", "au", "ad"):
        assert client.get(f"{API}/cases/{code}/route", headers=t[who]).status_code == 403
    assert client.get(f"{API}/cases/{code}/route").status_code == 401


# --- legal proceeding and protection measures -------------------------------------------------------------------------


def test_legal_proceeding_put_and_get(client, env):
    code, t = env["code"], env["t"]
    url = f"{API}/cases/{code}/legal"
    r = client.get(url, headers=t["lw"])
    assert r.status_code == 200 and r.json["proceeding"] is None and r.json["proceeding_version"] == 0
    body = {"complaint_filed_on": "2025-03-12", "receiving_office": "Fiscalía seccional Bogotá",
            "criminal_case_number": "110016000050202500001", "stage": "inquiry", "representation": "entity_lawyer"}
    r = _unchanged(env, client, "PUT", url, t["lw"], json=body)  # no version: never written blindly
    assert r.status_code == 422 and r.json["rule"] == "version_required" and r.json["fields"]["version"]
    r = client.put(url, json={**body, "version": 0}, headers=t["lw"])
    assert r.status_code == 200, r.json
    assert r.json["stage"] == "inquiry" and r.json["criminal_case_number"] == "110016000050202500001"
    version = r.json["version"]
    # Someone saved it meanwhile: the copy read as "none yet" is stale.
    r = _unchanged(env, client, "PUT", url, t["lw"], json={**body, "stage": "trial", "version": 0})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    r = client.put(url, json={**body, "stage": "trial", "version": version}, headers=t["lw"])
    assert r.status_code == 200 and r.json["stage"] == "trial"
    got = client.get(url, headers=t["sw"]).json  # social workers read the legal follow-up
    assert got["proceeding"]["stage"] == "trial" and got["proceeding_version"] == r.json["version"]
    assert _logged(env, "case.legal.view", "ana")

    v = r.json["version"]
    r = _unchanged(env, client, "PUT", url, t["lw"], json={**body, "stage": "nope", "version": v})
    assert r.status_code == 422 and r.json["fields"]["stage"]
    r = _unchanged(env, client, "PUT", url, t["lw"], json={**body, "version": v, "secret": "x", "stage2": 1})
    assert r.status_code == 422 and set(r.json["fields"]) == {"secret", "stage2"}
    r = _unchanged(env, client, "PUT", url, t["lw"], json={**body, "stage": 5, "version": v})
    assert r.status_code == 422 and r.json["fields"]["stage"]
    r = _unchanged(env, client, "PUT", url, t["lw"], data="stage=trial", content_type="application/json")
    assert r.status_code == 422
    assert _unchanged(env, client, "PUT", url, t["sw"], json={**body, "version": v}).status_code == 403
    assert _unchanged(env, client, "PUT", url, t["other"], json={**body, "version": v}).status_code == 404
    assert _unchanged(env, client, "PUT", url, t["co"], json={**body, "version": v}).status_code == 403
    assert client.get(url, headers=t["other"]).status_code == 404
    assert client.get(url, headers=t["co"]).status_code == 403


def test_protection_measures(client, env):
    code, t = env["code"], env["t"]
    url = f"{API}/cases/{code}/protection-measures"
    r = client.post(url, json={"kind": "witness_protection", "requested_on": "2025-03-12", "notes": "UNP"},
                    headers=t["lw"])
    assert r.status_code == 201 and r.json["status"] == "requested" and r.json["decided_on"] is None
    measure = r.json
    item = f"{url}/{measure['id']}"
    r = _unchanged(env, client, "PATCH", item, t["lw"], json={"status": "granted"})
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = client.patch(item, json={"status": "granted", "decided_on": "2025-03-20", "version": measure["version"]},
                     headers=t["lw"])
    assert r.status_code == 200 and (r.json["status"], r.json["decided_on"]) == ("granted", "2025-03-20")
    r = _unchanged(env, client, "PATCH", item, t["lw"], json={"status": "ended", "version": measure["version"]})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    legal = client.get(f"{API}/cases/{code}/legal", headers=t["lw"]).json
    assert [(m["id"], m["status"]) for m in legal["protection_measures"]] == [(measure["id"], "granted")]

    # The same measure named under another case's code: not found, nothing told.
    r = _unchanged(env, client, "PATCH", f"{API}/cases/{env['second']}/protection-measures/{measure['id']}", t["lw"],
                   json={"status": "ended", "version": measure["version"] + 1})
    assert r.status_code == 404
    r = _unchanged(env, client, "POST", url, t["lw"], json={"kind": "bodyguards", "requested_on": "2025-13-01"})
    assert r.status_code == 422 and set(r.json["fields"]) == {"kind", "requested_on"}
    assert _unchanged(env, client, "POST", url, t["sw"], json={"kind": "other", "requested_on": "2025-03-12"}
                      ).status_code == 403
    assert _unchanged(env, client, "POST", url, t["other"], json={"kind": "other", "requested_on": "2025-03-12"}
                      ).status_code == 404
    assert _unchanged(env, client, "PATCH", item, t["other"], json={"status": "ended", "version": 2}).status_code == 404
    assert _unchanged(env, client, "PATCH", item, t["co"], json={"status": "ended", "version": 2}).status_code == 403
    assert _unchanged(env, client, "PATCH", f"{url}/999999", t["lw"], json={"status": "ended", "version": 1}
                      ).status_code == 404


# --- shelters and stays --------------------------------------------------------------------------------------------


def test_shelters_place_and_leave(client, env):
    code, second, t = env["code"], env["second"], env["t"]
    r = client.get(f"{API}/shelters", headers=t["sw"])
    assert r.status_code == 200 and r.json["stays"] == []
    assert [(s["code"], s["free"]) for s in r.json["shelters"]] == [("CASA-1", 1)]
    assert client.get(f"{API}/shelters", headers=t["lw"]).status_code == 403  # shelters: social workers
    assert client.get(f"{API}/shelters", headers=t["co"]).status_code == 403

    stay = _stay(env, client)
    assert stay["case"] == code and stay["left_on"] is None and stay["shelter"]["code"] == "CASA-1"
    r = client.get(f"{API}/shelters", headers=t["sw"]).json
    assert r["shelters"][0]["free"] == 0 and [s["id"] for s in r["stays"]] == [stay["id"]]
    assert client.get(f"{API}/shelters", headers=t["other"]).json["stays"] == []  # not her entity's case
    assert _logged(env, "shelter.stays.view", "ana")

    place = {"shelter_id": env["shelter"], "admitted_on": "2025-03-11"}
    r = _unchanged(env, client, "POST", f"{API}/cases/{code}/shelter-stays", t["sw"], json=place)
    assert r.status_code == 409  # already lodged
    r = _unchanged(env, client, "POST", f"{API}/cases/{second}/shelter-stays", t["sw"], json=place)
    assert r.status_code == 409 and "Casa Violeta" in r.json["message"]  # no free bed
    r = _unchanged(env, client, "POST", f"{API}/cases/{second}/shelter-stays", t["sw"],
                   json={"shelter_id": "1; DROP", "admitted_on": "ayer"})
    assert r.status_code == 422 and r.json["fields"]["shelter_id"]
    r = _unchanged(env, client, "POST", f"{API}/cases/{second}/shelter-stays", t["sw"],
                   json={"shelter_id": 2**40, "admitted_on": "2025-03-11"})
    assert r.status_code == 422 and r.json["fields"]["shelter_id"]
    assert _unchanged(env, client, "POST", f"{API}/cases/{second}/shelter-stays", t["lw"], json=place).status_code == 403
    assert _unchanged(env, client, "POST", f"{API}/cases/{second}/shelter-stays", t["other"], json=place
                      ).status_code == 404

    leave = f"{API}/cases/{code}/shelter-stays/{stay['id']}/leave"
    r = _unchanged(env, client, "POST", leave, t["sw"], json={"left_on": "2025-03-25"})
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = _unchanged(env, client, "POST", leave, t["sw"], json={"left_on": "2025-03-01", "version": stay["version"]})
    assert r.status_code == 422 and r.json["fields"]["left_on"]  # before her admission
    r = _unchanged(env, client, "POST", f"{API}/cases/{second}/shelter-stays/{stay['id']}/leave", t["sw"],
                   json={"left_on": "2025-03-25", "version": stay["version"]})
    assert r.status_code == 404  # the stay is not of that case
    assert _unchanged(env, client, "POST", leave, t["other"], json={"left_on": "2025-03-25", "version": 1}
                      ).status_code == 404
    assert _unchanged(env, client, "POST", leave, t["co"], json={"left_on": "2025-03-25", "version": 1}
                      ).status_code == 403
    r = client.post(leave, json={"left_on": "2025-03-25", "version": stay["version"]}, headers=t["sw"])
    assert r.status_code == 200 and r.json["left_on"] == "2025-03-25"
    r = _unchanged(env, client, "POST", leave, t["sw"], json={"left_on": "2025-03-26", "version": stay["version"]})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    steps = client.get(f"{API}/cases/{code}/steps", headers=t["sw"]).json
    assert [(s["kind"], s["status"], s["done_on"]) for s in steps] == [("lodging", "done", "2025-03-25")]


# --- life plan ------------------------------------------------------------------------------------------------------


def test_life_plan(client, env):
    code, t = env["code"], env["t"]
    url = f"{API}/cases/{code}/life-plan"
    assert client.get(url, headers=t["sw"]).json == []
    goal = _goal(env, client)
    assert goal["status"] == "agreed" and goal["version"]
    assert [g["id"] for g in client.get(url, headers=t["sw"]).json] == [goal["id"]]
    assert _logged(env, "case.life_plan.view", "ana")
    review = f"{url}/{goal['id']}/review"
    r = _unchanged(env, client, "POST", review, t["sw"], json={"status": "achieved"})
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = client.post(review, json={"status": "achieved", "review_note": "Se graduó", "version": goal["version"]},
                    headers=t["sw"])
    assert r.status_code == 200 and (r.json["status"], r.json["review_note"]) == ("achieved", "Se graduó")
    r = _unchanged(env, client, "POST", review, t["sw"], json={"status": "dropped", "version": goal["version"]})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    r = _unchanged(env, client, "POST", url, t["sw"], json={"area": "space", "description": ""})
    assert r.status_code == 422 and set(r.json["fields"]) == {"area", "description"}
    r = _unchanged(env, client, "POST", url, t["sw"], json={"area": "health", "description": "x", "owner": "me"})
    assert r.status_code == 422 and list(r.json["fields"]) == ["owner"]
    assert client.get(url, headers=t["lw"]).status_code == 403  # the psychosocial section: social workers
    assert client.get(url, headers=t["other"]).status_code == 404
    assert client.get(url, headers=t["co"]).status_code == 403
    assert _unchanged(env, client, "POST", url, t["lw"], json={"area": "health", "description": "x"}).status_code == 403
    assert _unchanged(env, client, "POST", url, t["other"], json={"area": "health", "description": "x"}
                      ).status_code == 404
    other_goal = _goal(env, client, env["second"])
    r = _unchanged(env, client, "POST", f"{url}/{other_goal['id']}/review", t["sw"],
                   json={"status": "achieved", "version": other_goal["version"]})
    assert r.status_code == 404  # a goal of another case, named under this one


# --- steps -----------------------------------------------------------------------------------------------------------


def test_update_a_step(client, env):
    code, t = env["code"], env["t"]
    step = _step(env, client)
    url = f"{API}/cases/{code}/steps/{step['id']}"
    r = _unchanged(env, client, "PATCH", url, t["sw"], json={"status": "done", "done_on": "2025-03-13"})
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = _unchanged(env, client, "PATCH", url, t["sw"], json={"status": "done", "version": step["version"]})
    assert r.status_code == 422 and r.json["fields"]["done_on"]
    r = _unchanged(env, client, "PATCH", url, t["lw"], json={"status": "done", "done_on": "2025-03-13",
                                                              "version": step["version"]})
    assert r.status_code == 403  # a psychosocial step: the lawyer does not record it
    r = client.patch(url, json={"status": "done", "done_on": "2025-03-13", "notes": "Sesión 1",
                                "version": step["version"]}, headers=t["sw"])
    assert r.status_code == 200 and (r.json["status"], r.json["done_on"], r.json["notes"]) == (
        "done", "2025-03-13", "Sesión 1")
    r = _unchanged(env, client, "PATCH", url, t["sw"], json={"status": "in_progress", "version": step["version"]})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    other = _step(env, client, env["second"])
    r = _unchanged(env, client, "PATCH", f"{API}/cases/{code}/steps/{other['id']}", t["sw"],
                   json={"status": "in_progress", "version": other["version"]})
    assert r.status_code == 404
    assert _unchanged(env, client, "PATCH", url, t["other"], json={"status": "done", "done_on": "2025-03-13",
                                                                    "version": 2}).status_code == 404
    assert _unchanged(env, client, "PATCH", url, t["co"], json={"status": "done", "version": 2}).status_code == 403
    r = _unchanged(env, client, "PATCH", url, t["sw"], json={"status": "done", "done_on": 20250313, "version": 2})
    assert r.status_code == 422 and r.json["fields"]["done_on"]


# --- extensions and the lifecycle -----------------------------------------------------------------------------------


def test_extend_a_phase(client, env):
    code, t = env["code"], env["t"]
    url = f"{API}/cases/{code}/extensions"
    before = client.get(f"{API}/cases/{code}", headers=t["sw"]).json["immediate_due_on"]
    body = {"phase": "immediate", "amount": 5, "reason": "Proceso de salud en curso",
            "decided_by": "Comité departamental", "decided_on": "2025-03-15", "reported": True}
    r = _unchanged(env, client, "POST", url, t["sw"], json=body)
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = _unchanged(env, client, "POST", url, t["sw"], json={**body, "version": _version(env) + 1})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    r = _unchanged(env, client, "POST", url, t["sw"], json={**body, "phase": "mediate", "version": _version(env)})
    assert r.status_code == 409  # only the phase the case is in
    r = _unchanged(env, client, "POST", url, t["sw"], json={**body, "amount": "5", "reported": "yes",
                                                             "version": _version(env)})
    assert r.status_code == 422 and set(r.json["fields"]) == {"amount", "reported"}
    r = _unchanged(env, client, "POST", url, t["sw"], json={**body, "amount": 10_000, "version": _version(env)})
    assert r.status_code == 422 and r.json["fields"]["amount"]
    assert _unchanged(env, client, "POST", url, t["lw"], json={**body, "version": _version(env)}).status_code == 403
    assert _unchanged(env, client, "POST", url, t["other"], json={**body, "version": _version(env)}).status_code == 404
    assert _unchanged(env, client, "POST", url, t["co"], json={**body, "version": _version(env)}).status_code == 403
    r = client.post(url, json={**body, "version": _version(env)}, headers=t["sw"])
    assert r.status_code == 201, r.json
    assert r.json["extra_days"] == 5 and r.json["reported_to_secretariat"] is True
    after = date.fromisoformat(r.json["due_dates"]["immediate_due_on"])
    assert (after - date.fromisoformat(before)).days == 5
    r = _unchanged(env, client, "POST", url, t["sw"], json={**body, "version": _version(env)})
    assert r.status_code == 409  # one extension per phase
    view = client.get(f"{API}/cases/{code}/route", headers=t["sw"]).json
    assert [(e["phase"], e["reason"]) for e in view["due"]["extensions"]] == [("immediate", body["reason"])]


def test_start_mediate_assistance_needs_the_complaint_and_the_acta(client, env):
    code, t = env["code"], env["t"]
    url = f"{API}/cases/{code}/immediate/close"
    r = _unchanged(env, client, "POST", url, t["sw"], json={"closed_on": "2025-03-20", "version": _version(env)})
    assert r.status_code == 422 and r.json["rule"] == "complaint_required"
    assert set(r.json["fields"]) == {"complaint_on", "acta_on"}  # both named at once
    r = _unchanged(env, client, "POST", url, t["sw"], json={"closed_on": "2025-03-20", "complaint_on": "2025-03-12",
                                                             "version": _version(env)})
    assert r.status_code == 422 and r.json["rule"] == "acta_required"
    r = _unchanged(env, client, "POST", url, t["sw"], json={"closed_on": "2025-03-20", "acta_on": "2025-03-19",
                                                             "complaint_on": "2025-03-12"})
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = _unchanged(env, client, "POST", url, t["sw"], json={"closed_on": "2025-03-20", "acta_on": "2025-03-19",
                                                             "complaint_on": "2025-03-12", "version": 999})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    ok = {"closed_on": "2025-03-20", "acta_on": "2025-03-19", "acta_summary": "Vivienda, salud y empleo"}
    assert _unchanged(env, client, "POST", url, t["lw"], json={**ok, "version": _version(env)}).status_code == 403
    assert _unchanged(env, client, "POST", url, t["other"], json={**ok, "version": _version(env)}).status_code == 404
    assert _unchanged(env, client, "POST", url, t["co"], json={**ok, "version": _version(env)}).status_code == 403
    # The complaint recorded in the legal follow-up counts: the same rule, whichever path recorded it.
    assert client.put(f"{API}/cases/{code}/legal", headers=t["lw"], json={
        "complaint_filed_on": "2025-03-12", "stage": "complaint", "representation": "none", "version": 0,
    }).status_code == 200
    r = client.post(url, json={**ok, "version": _version(env)}, headers=t["sw"])
    assert r.status_code == 200 and r.json["status"] == "in_mediate_assistance" and r.json["mediate_due_on"]
    view = client.get(f"{API}/cases/{code}/route", headers=t["sw"]).json
    assert view["mediate_start"] == {"complaint_on": "2025-03-12", "acta_on": "2025-03-19",
                                     "acta_summary": "Vivienda, salud y empleo"}
    assert "acta_summary" not in client.get(f"{API}/cases/{code}/route", headers=t["lw"]).json["mediate_start"]
    r = _unchanged(env, client, "POST", url, t["sw"], json={**ok, "complaint_on": "2025-03-12",
                                                             "version": _version(env)})
    assert r.status_code == 409 and r.json["rule"] == "transition_not_allowed"


def test_close_and_reopen_with_their_rules(client, env):
    code, t = env["code"], env["t"]
    close, reopen = f"{API}/cases/{code}/closure", f"{API}/cases/{code}/reopen"
    # A referral waiting for an answer holds the closure.
    rid = _share_with_fisc(env)
    from caseapp.models.referrals import Referral
    from caseapp.services import referrals

    with env["app"].test_request_context():
        pending = referrals.send(_user(env, "sw"), code, to_entity="FISC", service="legal_orientation",
                                 reason="Otra asesoría", sections=["summary", "legal"]).id
    r = _unchanged(env, client, "POST", close, t["sw"], json={"reason": "goals_met", "closed_on": "2025-06-01",
                                                               "version": _version(env)})
    assert r.status_code == 409 and r.json["rule"] == "referrals_pending"
    with env["app"].test_request_context():
        referrals.withdraw(_user(env, "sw"), pending, version=db.session.get(Referral, pending).version,
                           reason="Ya no hace falta")
    # So does a shelter stay (the deployment's default: refuse until her departure is recorded).
    stay = _stay(env, client)
    r = _unchanged(env, client, "POST", close, t["sw"], json={"reason": "goals_met", "closed_on": "2025-06-01",
                                                               "version": _version(env)})
    assert r.status_code == 409 and r.json["rule"] == "shelter_stay_open"
    assert client.post(f"{API}/cases/{code}/shelter-stays/{stay['id']}/leave", headers=t["sw"],
                       json={"left_on": "2025-05-30", "version": stay["version"]}).status_code == 200
    r = _unchanged(env, client, "POST", close, t["sw"], json={"reason": "because", "version": _version(env)})
    assert r.status_code == 422 and r.json["rule"] == "closure_reason_required" and r.json["fields"]["reason"]
    r = _unchanged(env, client, "POST", close, t["sw"], json={"reason": "goals_met", "closed_on": "01/06/2025",
                                                               "version": _version(env)})
    assert r.status_code == 422 and r.json["rule"] == "invalid_date" and r.json["fields"]["closed_on"]
    r = _unchanged(env, client, "POST", close, t["sw"], json={"reason": "goals_met"})
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = _unchanged(env, client, "POST", close, t["sw"], json={"reason": "goals_met", "version": _version(env) - 1})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    body = {"reason": "goals_met", "closed_on": "2025-06-01", "note": "Plan cumplido", "version": _version(env)}
    assert _unchanged(env, client, "POST", close, t["lw"], json=body).status_code == 403  # closing: social workers
    assert _unchanged(env, client, "POST", close, t["fisc"], json=body).status_code == 403  # a receiver reads only
    assert _unchanged(env, client, "POST", close, t["other"], json=body).status_code == 404
    assert _unchanged(env, client, "POST", close, t["co"], json=body).status_code == 403
    r = client.post(close, json=body, headers=t["sw"])
    assert r.status_code == 200, r.json
    assert r.json["case"]["status"] == "closed" and r.json["closure"]["reason"] == "goals_met"
    assert r.json["closure"]["status_before"] == "in_immediate_assistance" and r.json["closure"]["ended_stay"] is None
    assert rid  # the accepted referral did not hold the closure

    # A closed case: the route refuses new work with its rule.
    r = _unchanged(env, client, "POST", f"{API}/cases/{code}/life-plan", t["sw"],
                   json={"area": "health", "description": "Control médico"})
    assert r.status_code == 409 and r.json["rule"] == "case_closed"
    r = _unchanged(env, client, "POST", reopen, t["sw"], json={"version": _version(env)})
    assert r.status_code == 422 and r.json["rule"] == "reopen_reason_required"
    r = _unchanged(env, client, "POST", reopen, t["sw"], json={"reason": "new_risk", "reopened_on": "2025-05-01",
                                                                "version": _version(env)})
    assert r.status_code == 422 and r.json["fields"]["reopened_on"]  # before the closure
    assert _unchanged(env, client, "POST", reopen, t["other"], json={"reason": "new_risk", "version": _version(env)}
                      ).status_code == 404
    r = client.post(reopen, json={"reason": "needs_assistance_again", "version": _version(env)},
                    headers=t["sw"])
    assert r.status_code == 200 and r.json["status"] == "in_immediate_assistance"
    closures = client.get(f"{API}/cases/{code}/route", headers=t["sw"]).json["closures"]
    assert [(c["reason"], c["reopened_on"] is not None) for c in closures] == [("goals_met", True)]
    r = _unchanged(env, client, "POST", reopen, t["sw"], json={"reason": "other", "version": _version(env)})
    assert r.status_code == 409 and r.json["rule"] == "transition_not_allowed"


def test_a_childs_case_needs_its_icbf_referral(client, env):
    t = env["t"]
    with env["app"].app_context():
        code = make_case(env["people"]["sw"].id, is_child=True, age_group="9-17", document_number="1098000111",
                         given_names="Luna", intake_on=IDENTIFIED, status="in_immediate_assistance")
    close = {"reason": "goals_met", "closed_on": "2025-06-01"}
    r = _unchanged(env, client, "POST", f"{API}/cases/{code}/closure", t["sw"],
                   json={**close, "version": _version(env, code)})
    assert r.status_code == 409 and r.json["rule"] == "child_referral_missing"
    url = f"{API}/cases/{code}/child-referral"
    assert _unchanged(env, client, "POST", url, t["other"]).status_code == 404
    assert _unchanged(env, client, "POST", url, t["co"]).status_code == 403
    assert _unchanged(env, client, "POST", url, t["lw"], json={"to": "ICBF"}).status_code == 422
    r = client.post(url, headers=t["lw"])  # any case role of the owning entity; no body needed
    assert r.status_code == 201, r.json
    assert (r.json["to_entity"], r.json["mandatory"], r.json["status"]) == ("ICBF", True, "sent")
    r = _unchanged(env, client, "POST", url, t["sw"], json={})
    assert r.status_code == 409 and r.json["rule"] == "child_referral_exists"
    r = _unchanged(env, client, "POST", f"{API}/cases/{code}/closure", t["sw"],
                   json={**close, "version": _version(env, code)})
    assert r.status_code == 409 and r.json["rule"] == "child_referral_pending"
    assert client.get(f"{API}/cases/{code}/route", headers=t["sw"]).json["awaits_child_protection"] is True


# --- erasure requests, the monthly list --------------------------------------------------------------------------


def test_erasure_request(client, env):
    code, t = env["code"], env["t"]
    url = f"{API}/cases/{code}/erasure-requests"
    r = _unchanged(env, client, "POST", url, t["sw"], json={"reason": "because"})
    assert r.status_code == 422 and r.json["fields"]["reason"]
    r = _unchanged(env, client, "POST", url, t["sw"], json={"reason": "victim_request", "note": "ella lo pidió"})
    assert r.status_code == 422 and list(r.json["fields"]) == ["note"]  # free text has no place here
    assert _unchanged(env, client, "POST", url, t["lw"], json={"reason": "victim_request"}).status_code == 403
    assert _unchanged(env, client, "POST", url, t["other"], json={"reason": "victim_request"}).status_code == 404
    assert _unchanged(env, client, "POST", url, t["co"], json={"reason": "victim_request"}).status_code == 403
    r = client.post(url, json={"reason": "victim_request"}, headers=t["sw"])
    assert r.status_code == 201 and (r.json["case"], r.json["status"]) == (code, "pending")
    assert _unchanged(env, client, "POST", url, t["sw"], json={"reason": "legal_order"}).status_code == 409


def test_monthly_table_list(client, env):
    t = env["t"]
    r = client.get(f"{API}/reports/table-list", query_string={"month": "2025-03"}, headers=t["lw"])
    assert r.status_code == 200 and r.json["month"] == "2025-03"
    rows = {row["case"]: row for row in r.json["rows"]}
    assert set(rows) == {env["code"], env["second"]}
    assert rows[env["code"]]["complaint_on"] == "" and rows[env["code"]]["pending_actions"]  # no complaint yet
    assert client.put(f"{API}/cases/{env['code']}/legal", headers=t["lw"], json={
        "complaint_filed_on": "2025-03-12", "stage": "inquiry", "representation": "none", "version": 0,
    }).status_code == 200
    r = client.get(f"{API}/reports/table-list", query_string={"month": "2025-03"}, headers=t["lw"])
    row = next(row for row in r.json["rows"] if row["case"] == env["code"])
    assert row["complaint_on"] == "2025-03-12" and row["stage"]
    assert all("Mariana" not in str(row) for row in r.json["rows"])  # codes, never names
    assert _logged(env, "route.table_list.view", "luz")
    assert client.get(f"{API}/reports/table-list", query_string={"month": "2024-12"}, headers=t["lw"]).json["rows"] == []
    assert client.get(f"{API}/reports/table-list", headers=t["sw"]).status_code == 200  # this month by default
    for bad in ("2025-13", "marzo", "2025-3", "1999-01"):
        r = client.get(f"{API}/reports/table-list", query_string={"month": bad}, headers=t["lw"])
        assert r.status_code == 422 and r.json["fields"]["month"], bad
    assert client.get(f"{API}/reports/table-list", headers=t["other"]).json["rows"] == []  # its own entity's cases
    assert client.get(f"{API}/reports/table-list", headers=t["co"]).status_code == 403


# --- every new write: shape before anything, roles, another entity ---------------------------------------------------


WRITES = [
    ("PUT", "/cases/{code}/legal", "lw", {"stage": "inquiry", "representation": "none", "version": 0}),
    ("POST", "/cases/{code}/protection-measures", "lw", {"kind": "other", "requested_on": "2025-03-12"}),
    ("PATCH", "/cases/{code}/protection-measures/{measure}", "lw", {"status": "denied", "version": "{v_measure}"}),
    ("POST", "/cases/{code}/shelter-stays", "sw", {"shelter_id": "{shelter}", "admitted_on": "2025-03-11"}),
    ("POST", "/cases/{code}/shelter-stays/{stay}/leave", "sw", {"left_on": "2025-03-20", "version": "{v_stay}"}),
    ("POST", "/cases/{code}/life-plan", "sw", {"area": "health", "description": "Control médico"}),
    ("POST", "/cases/{code}/life-plan/{goal}/review", "sw", {"status": "in_progress", "version": "{v_goal}"}),
    ("PATCH", "/cases/{code}/steps/{step}", "sw", {"status": "in_progress", "version": "{v_step}"}),
    ("POST", "/cases/{code}/extensions", "sw", {"phase": "immediate", "amount": 3, "reason": "Salud",
                                                 "decided_by": "Comité", "version": "{v_case}"}),
    ("POST", "/cases/{code}/immediate/close", "sw", {"complaint_on": "2025-03-12", "acta_on": "2025-03-19",
                                                      "version": "{v_case}"}),
    ("POST", "/cases/{code}/closure", "sw", {"reason": "goals_met", "version": "{v_case}"}),
    ("POST", "/cases/{code}/reopen", "sw", {"reason": "new_risk", "version": "{v_case}"}),
    ("POST", "/cases/{code}/erasure-requests", "sw", {"reason": "victim_request"}),
    ("POST", "/cases/{code}/child-referral", "sw", {}),
]


@pytest.fixture
def rows(client, env):
    """One of each row the object routes act on, on the case (the stay on the second case: one bed)."""
    made = {"step": _step(env, client), "goal": _goal(env, client), "measure": _measure(env, client),
            "stay": _stay(env, client, env["second"])}
    return made


def _fill(env, rows, template):
    values = {"code": env["code"], "shelter": env["shelter"], "v_case": _version(env)}
    for name, row in rows.items():
        values[name], values[f"v_{name}"] = row["id"], row["version"]
    if "{stay}" in template:
        values["code"] = env["second"]
    return values


def _body(body, values):
    return {k: (values[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}


@pytest.mark.parametrize("method,path,who,body", WRITES, ids=[f"{m} {p}" for m, p, _w, _b in WRITES])
def test_every_new_write_refuses_what_it_should_and_writes_nothing(client, env, rows, method, path, who, body):
    values = _fill(env, rows, path)
    url = API + path.format(**values)
    valid = _body(body, values)
    t = env["t"]
    # Roles without a case: 403, whatever the case.
    for role in ("co", "au", "ad"):
        assert _unchanged(env, client, method, url, t[role], json=valid).status_code == 403, role
    # Another entity's case: 404, as for a case that does not exist.
    assert _unchanged(env, client, method, url, t["other"], json=valid).status_code == 404
    ghost = url.replace(values["code"], "SDIS-2025-99999")
    assert _unchanged(env, client, method, ghost, t[who], json=valid).status_code == 404
    # The shape of the body is checked before anything: unknown fields are named, not JSON is refused.
    r = _unchanged(env, client, method, url, t[who], json={**valid, "victim_name": "Ana", "x": 1})
    assert r.status_code == 422 and set(r.json["fields"]) == {"victim_name", "x"}, r.json
    assert _unchanged(env, client, method, url, t[who], data="{not json", content_type="application/json"
                      ).status_code == 422
    assert _unchanged(env, client, method, url, t[who], data=b'{"version": NaN}', content_type="application/json"
                      ).status_code == 422
    assert _unchanged(env, client, method, url, t[who], json=["a", "list"]).status_code == 422
    assert _unchanged(env, client, method, url, t[who], data="[" * 100_000 + "]" * 100_000,
                      content_type="application/json").status_code == 422
    assert client.open(url, method=method, json=valid).status_code == 401
    # A version where the endpoint takes one: a stale one is 409 stale_version, a broken one 422 version_required.
    if "version" in valid and method != "PUT":
        r = _unchanged(env, client, method, url, t[who], json={**valid, "version": valid["version"] + 7})
        assert r.status_code == 409 and r.json["rule"] == "stale_version", r.json
        r = _unchanged(env, client, method, url, t[who], json={**valid, "version": "abc"})
        assert r.status_code == 422 and r.json["rule"] == "version_required", r.json


# --- the document -------------------------------------------------------------------------------------------------


def test_openapi_documents_every_new_endpoint(client):
    doc = client.get(f"{API}/openapi.json").json
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    expected = {
        "/api/v1/cases/{code}/route": ("get",), "/api/v1/cases/{code}/legal": ("get", "put"),
        "/api/v1/cases/{code}/protection-measures": ("post",),
        "/api/v1/cases/{code}/protection-measures/{measure_id}": ("patch",), "/api/v1/shelters": ("get",),
        "/api/v1/cases/{code}/shelter-stays": ("post",), "/api/v1/cases/{code}/shelter-stays/{stay_id}/leave": ("post",),
        "/api/v1/cases/{code}/life-plan": ("get", "post"), "/api/v1/cases/{code}/life-plan/{goal_id}/review": ("post",),
        "/api/v1/cases/{code}/extensions": ("post",), "/api/v1/cases/{code}/immediate/close": ("post",),
        "/api/v1/cases/{code}/closure": ("post",), "/api/v1/cases/{code}/reopen": ("post",),
        "/api/v1/cases/{code}/steps/{step_id}": ("patch",), "/api/v1/cases/{code}/erasure-requests": ("post",),
        "/api/v1/cases/{code}/child-referral": ("post",), "/api/v1/reports/table-list": ("get",),
    }
    for path, methods in expected.items():
        for method in methods:
            op = paths[path][method]
            assert {"401", "403"} <= set(op["responses"]), (path, method)
            if method != "get":
                assert {"404", "409", "422"} <= set(op["responses"]), (path, method)
                ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                if ref:
                    schema = schemas[ref["$ref"].rsplit("/", 1)[-1]]
                    assert schema.get("additionalProperties") is False, path
                    if "version" in schema["properties"]:
                        assert "version" in schema["required"], path
    # Changed contracts: the screening carries its version (0 the first time); errors name fields and rules.
    screening = paths["/api/v1/cases/{code}/screening"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "version" in schemas[screening["$ref"].rsplit("/", 1)[-1]]["required"]
    assert "version" in schemas["ReferralAnswer"]["required"]
    error = schemas["Error"]["properties"]
    assert error["fields"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert "rule" in error


def test_the_screening_needs_its_version(client, env):
    code, t = env["code"], env["t"]
    body = {"acts": ["recruitment"], "means": ["deception"], "purpose_present": True, "screened_on": "2025-03-10"}
    r = _unchanged(env, client, "POST", f"{API}/cases/{code}/screening", t["sw"], json=body)
    assert r.status_code == 422 and r.json["rule"] == "version_required"
    r = client.post(f"{API}/cases/{code}/screening", json={**body, "version": 0}, headers=t["sw"])
    assert r.status_code == 200 and r.json["version"]
    r = _unchanged(env, client, "POST", f"{API}/cases/{code}/screening", t["sw"], json={**body, "version": 0})
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
