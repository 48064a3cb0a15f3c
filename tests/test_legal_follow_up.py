"""A complete legal follow-up (issue 13): several proceedings per case with a dated stage history, hearings completed
with their outcome and the next date, protection measures requested -> granted / denied -> ended.

Each finding of the issue fails on the old code: a second proceeding could not exist (unique case), a stage change
overwrote the stage with no history, a hearing could never be updated, a requested measure could never become
granted through a rule (any status was accepted, granted could go back to requested). Transitions are checked on
every path that reaches them (web page and API); hostile cases: a social worker writing, another entity's case, a
stale version, granted -> requested, an end before a grant, a date in the future. Real app and database, no mocks.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.legal import LegalStageChange
from caseapp.models.route import LegalEvent, LegalProceeding, ProtectionMeasure
from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.world import diff_snapshots, new_api_token, snapshot

API = "/api/v1"
AUTHORITY = "Juzgado Tercero Penal de Turbaco"  # a small office can point to her: encrypted at rest


@pytest.fixture
def env(app, factory, login_as):
    people = {
        "sw": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "lw": factory.user("luz", roles=("lawyer",), entity="SDIS"),
        "other": factory.user("beto", roles=("social_worker", "lawyer"), entity="OIM"),
    }
    with app.test_request_context():
        code = make_case(people["sw"].id, intake_on=date(2025, 3, 10), status="in_immediate_assistance")
        second = make_case(people["sw"].id, intake_on=date(2025, 3, 10), status="in_immediate_assistance",
                           document_number="52999111", given_names="Rosa")
        tokens = {k: {"Authorization": f"Bearer {new_api_token(u.id)}"} for k, u in people.items()}
    web = {}
    for who in ("sw", "lw", "other"):
        c = app.test_client()
        login_as(people[who], c)
        web[who] = c
    return {"app": app, "code": code, "second": second, "people": people, "t": tokens, "web": web}


def _unchanged(env, send):
    before = snapshot(env["app"])
    r = send()
    assert not diff_snapshots(before, snapshot(env["app"])), "a refused request changed the database"
    return r


def _measure(env, requested_on="2025-03-12"):
    r = env["app"].test_client().post(f"{API}/cases/{env['code']}/protection-measures", headers=env["t"]["lw"],
                                      json={"kind": "witness_protection", "requested_on": requested_on})
    assert r.status_code == 201, r.json
    return r.json


def _row(env, model, row_id):
    with env["app"].app_context():
        return db.session.get(model, row_id)


# --- the two paths that move a measure: the legal page's forms and the API ---------------------------------------


def _page_form(env, who, prefix):
    """The form with `prefix` on the legal page as `who`'s browser would send it: the session's CSRF token (any
    form's: it is the session's) and the row's version when the page shows that form."""
    html = env["web"][who].get(f"/legal/cases/{env['code']}").get_data(as_text=True)
    token = re.search(r'name="[a-z0-9]*-?csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="[a-z0-9]*-?csrf_token"[^>]*value="([^"]+)"', env["web"][who].get("/").get_data(as_text=True))
    version = re.search(rf'name="{prefix}-version"[^>]*value="([^"]*)"', html)
    return {f"{prefix}-csrf_token": token.group(1) if token else "",
            f"{prefix}-version": version.group(1) if version else ""}


def _web_decide(env, who, mid, version, decision, on, authority=None):
    form = _page_form(env, who, f"md{mid}")
    form.update({f"md{mid}-version": str(version), f"md{mid}-decision": decision, f"md{mid}-decided_on": on,
                 f"md{mid}-authority": authority or ""})
    return env["web"][who].post(f"/legal/cases/{env['code']}/measures/{mid}/decision", data=form)


def _web_end(env, who, mid, version, on):
    form = _page_form(env, who, f"me{mid}")
    form.update({f"me{mid}-version": str(version), f"me{mid}-ended_on": on})
    return env["web"][who].post(f"/legal/cases/{env['code']}/measures/{mid}/end", data=form)


def _api_decide(env, who, mid, version, decision, on, authority=None):
    return env["app"].test_client().post(
        f"{API}/cases/{env['code']}/protection-measures/{mid}/decision", headers=env["t"][who],
        json={"decision": decision, "decided_on": on, "authority": authority, "version": version})


def _api_end(env, who, mid, version, on):
    return env["app"].test_client().post(f"{API}/cases/{env['code']}/protection-measures/{mid}/end",
                                         headers=env["t"][who], json={"ended_on": on, "version": version})


PATHS = {"web": (_web_decide, _web_end), "api": (_api_decide, _api_end)}


def _ok(path, r):
    return r.status_code == (302 if path == "web" else 200)


def _refused(path, r, rule=None):
    if path == "api":
        assert r.status_code in (403, 404, 409, 422), r.status_code
        if rule:
            assert r.json["rule"] == rule, r.json
    else:
        assert r.status_code in (302, 403, 404), r.status_code


@pytest.mark.parametrize("path", PATHS)
def test_a_measure_goes_from_requested_to_granted_to_ended(env, path):
    decide, end = PATHS[path]
    m = _measure(env)
    r = decide(env, "lw", m["id"], m["version"], "granted", "2025-03-20", AUTHORITY)
    assert _ok(path, r), r.get_data(as_text=True)[:300]
    row = _row(env, ProtectionMeasure, m["id"])
    assert (row.status, row.decided_on) == ("granted", date(2025, 3, 20))
    with env["app"].app_context():
        assert db.session.get(ProtectionMeasure, m["id"]).decided_by == AUTHORITY
    r = end(env, "lw", m["id"], row.version, "2025-04-01")
    assert _ok(path, r)
    row = _row(env, ProtectionMeasure, m["id"])
    assert (row.status, row.ended_on) == ("ended", date(2025, 4, 1))
    # Ended is final: it cannot be decided again.
    r = _unchanged(env, lambda: decide(env, "lw", m["id"], row.version, "granted", "2025-04-02"))
    _refused(path, r, "measure_transition")
    legal = env["app"].test_client().get(f"{API}/cases/{env['code']}/legal", headers=env["t"]["sw"]).json
    got = next(x for x in legal["protection_measures"] if x["id"] == m["id"])
    assert (got["status"], got["decided_by"], got["ended_on"]) == ("ended", AUTHORITY, "2025-04-01")


@pytest.mark.parametrize("path", PATHS)
def test_illegal_moves_of_a_measure_are_refused(env, path):
    decide, end = PATHS[path]
    m = _measure(env)
    v = m["version"]
    # An end before any grant.
    _refused(path, _unchanged(env, lambda: end(env, "lw", m["id"], v, "2025-03-20")), "measure_transition")
    # A decision in the future, or before the request.
    future = (today() + timedelta(days=3)).isoformat()
    _refused(path, _unchanged(env, lambda: decide(env, "lw", m["id"], v, "granted", future)), "measure_date")
    _refused(path, _unchanged(env, lambda: decide(env, "lw", m["id"], v, "granted", "2025-03-01")), "measure_date")
    # A social worker reads the legal section but does not write it; another entity does not see the case.
    _refused(path, _unchanged(env, lambda: decide(env, "sw", m["id"], v, "granted", "2025-03-20")))
    _refused(path, _unchanged(env, lambda: decide(env, "other", m["id"], v, "granted", "2025-03-20")))
    assert _row(env, ProtectionMeasure, m["id"]).status == "requested"
    # Denied; then a stale copy (the version read before) cannot grant it.
    assert _ok(path, decide(env, "lw", m["id"], v, "denied", "2025-03-20"))
    _refused(path, _unchanged(env, lambda: decide(env, "lw", m["id"], v, "granted", "2025-03-21")), "stale_version")
    assert _row(env, ProtectionMeasure, m["id"]).status == "denied"


def test_granted_never_goes_back_to_requested(env, client):
    m = _measure(env)
    url = f"{API}/cases/{env['code']}/protection-measures/{m['id']}"
    r = client.patch(url, headers=env["t"]["lw"], json={"status": "granted", "decided_on": "2025-03-20",
                                                         "version": m["version"]})
    assert r.status_code == 200
    r = _unchanged(env, lambda: client.patch(url, headers=env["t"]["lw"], json={
        "status": "requested", "version": r.json["version"]}))
    assert r.status_code == 422 and r.json["rule"] == "measure_transition"
    assert "solicitada" in r.json["message"]  # a Spanish message
    # Recorded already ended: refused too (ended comes after a grant).
    r = _unchanged(env, lambda: client.post(f"{API}/cases/{env['code']}/protection-measures", headers=env["t"]["lw"],
                                            json={"kind": "other", "requested_on": "2025-03-12", "status": "ended"}))
    assert r.status_code == 422 and r.json["rule"] == "measure_transition"


# --- proceedings and their stage history ---------------------------------------------------------------------


def test_several_proceedings_each_with_its_stage_history(env, client):
    code, lw = env["code"], env["t"]["lw"]
    r = client.put(f"{API}/cases/{code}/legal", headers=lw, json={"stage": "complaint", "version": 0,
                                                                 "representation": "entity_lawyer",
                                                                 "complaint_filed_on": "2025-03-12"})
    assert r.status_code == 200
    criminal_version = r.json["version"]
    r = client.post(f"{API}/cases/{code}/proceedings", headers=lw,
                    json={"kind": "migratory", "stage_on": "2025-03-15", "receiving_office": "Migración Colombia"})
    assert r.status_code == 201, r.json
    migratory = r.json
    assert migratory["stage"] == "requested" and migratory["stage_history"] == [
        {"stage": "requested", "on": "2025-03-15"}]
    r = client.post(f"{API}/cases/{code}/proceedings/{migratory['id']}/stages", headers=lw,
                    json={"stage": "granted", "on": "2025-04-02", "version": migratory["version"]})
    assert r.status_code == 201 and r.json["stage"] == "granted"
    assert [h["stage"] for h in r.json["stage_history"]] == ["requested", "granted"]
    # The criminal stage changes through the PUT too: kept, not overwritten.
    r = client.put(f"{API}/cases/{code}/legal", headers=lw, json={"stage": "inquiry", "version": criminal_version,
                                                                 "representation": "entity_lawyer",
                                                                 "complaint_filed_on": "2025-03-12"})
    assert r.status_code == 200
    legal = client.get(f"{API}/cases/{code}/legal", headers=env["t"]["sw"]).json
    kinds = [(p["kind"], [h["stage"] for h in p["stage_history"]]) for p in legal["proceedings"]]
    assert kinds == [("criminal", ["complaint", "inquiry"]), ("migratory", ["requested", "granted"])]
    assert legal["proceeding"]["stage"] == "inquiry"  # the criminal proceeding, as before

    # Hostile: a second criminal proceeding, a stage of another kind, a date in the future or before the last one,
    # a stale version, a social worker, another entity.
    proc = f"{API}/cases/{code}/proceedings"
    r = _unchanged(env, lambda: client.post(proc, headers=lw, json={"kind": "criminal"}))
    assert r.status_code == 409 and r.json["rule"] == "criminal_proceeding_exists"
    v = legal["proceedings"][1]["version"]
    stages = f"{proc}/{migratory['id']}/stages"
    r = _unchanged(env, lambda: client.post(stages, headers=lw, json={"stage": "trial", "version": v}))
    assert r.status_code == 422 and r.json["rule"] == "stage_not_allowed"
    future = (today() + timedelta(days=2)).isoformat()
    r = _unchanged(env, lambda: client.post(stages, headers=lw, json={"stage": "closed", "on": future, "version": v}))
    assert r.status_code == 422 and r.json["fields"]["stage_on"]
    r = _unchanged(env, lambda: client.post(stages, headers=lw, json={"stage": "closed", "on": "2025-04-01",
                                                                      "version": v}))
    assert r.status_code == 422 and r.json["fields"]["stage_on"]
    r = _unchanged(env, lambda: client.post(stages, headers=lw, json={"stage": "closed", "version": v - 1}))
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    r = _unchanged(env, lambda: client.post(stages, headers=env["t"]["sw"], json={"stage": "closed", "version": v}))
    assert r.status_code == 403
    r = _unchanged(env, lambda: client.post(stages, headers=env["t"]["other"], json={"stage": "closed",
                                                                                     "version": v}))
    assert r.status_code == 404
    r = _unchanged(env, lambda: client.post(f"{API}/cases/{env['second']}/proceedings/{migratory['id']}/stages",
                                            headers=lw, json={"stage": "closed", "version": v}))
    assert r.status_code == 404  # a proceeding named under another case's code


def test_a_hearing_is_recorded_then_completed_with_outcome_and_next_date(env, client):
    code, lw = env["code"], env["t"]["lw"]
    r = client.post(f"{API}/cases/{code}/proceedings", headers=lw, json={"kind": "criminal",
                                                                         "stage_on": "2025-03-12"})
    proc_id = r.json["id"]
    r = client.post(f"{API}/cases/{code}/legal-events", headers=lw,
                    json={"proceeding_id": proc_id, "on": "2025-03-20", "title": "Audiencia de imputación"})
    assert r.status_code == 201 and r.json["proceeding_id"] == proc_id and r.json["outcome"] is None
    event = r.json
    url = f"{API}/cases/{code}/legal-events/{event['id']}"
    r = client.patch(url, headers=lw, json={"outcome": "Imputación aceptada", "next_on": "2025-05-02",
                                            "version": event["version"]})
    assert r.status_code == 200 and (r.json["outcome"], r.json["next_on"]) == ("Imputación aceptada", "2025-05-02")
    # Stale copy, a next hearing before this one, a social worker, another entity.
    r = _unchanged(env, lambda: client.patch(url, headers=lw, json={"outcome": "x", "version": event["version"]}))
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    v = r.json and client.get(f"{API}/cases/{code}/legal", headers=lw).json["events"][0]["version"]
    r = _unchanged(env, lambda: client.patch(url, headers=lw, json={"next_on": "2025-03-01", "version": v}))
    assert r.status_code == 422 and r.json["fields"]["next_on"]
    assert _unchanged(env, lambda: client.patch(url, headers=env["t"]["sw"], json={"outcome": "x", "version": v})
                      ).status_code == 403
    assert _unchanged(env, lambda: client.patch(url, headers=env["t"]["other"], json={"outcome": "x", "version": v})
                      ).status_code == 404
    # A hearing still to come has no outcome yet.
    later = (today() + timedelta(days=10)).isoformat()
    r = client.post(f"{API}/cases/{code}/legal-events", headers=lw, json={"proceeding_id": proc_id, "on": later})
    assert r.status_code == 201
    r = _unchanged(env, lambda: client.patch(f"{API}/cases/{code}/legal-events/{r.json['id']}", headers=lw,
                                             json={"outcome": "Aplazada", "version": r.json["version"]}))
    assert r.status_code == 422 and r.json["rule"] == "hearing_not_held"
    # A proceeding of another case is not this case's.
    r2 = client.post(f"{API}/cases/{env['second']}/proceedings", headers=lw, json={"kind": "reparation"})
    r = _unchanged(env, lambda: client.post(f"{API}/cases/{code}/legal-events", headers=lw,
                                            json={"proceeding_id": r2.json["id"], "on": "2025-03-20"}))
    assert r.status_code == 422 and r.json["fields"]["proceeding_id"]


def test_the_legal_page_records_a_hearing_outcome_and_shows_the_history(env):
    code, lw = env["code"], env["web"]["lw"]
    page = lw.get(f"/legal/cases/{code}")
    assert page.status_code == 200 and "Seguimiento jurídico" in page.get_data(as_text=True)
    token = re.search(r'name="lp-csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = lw.post(f"/legal/cases/{code}/proceedings", data={"lp-csrf_token": token, "lp-kind": "protection_action",
                                                          "lp-stage_on": "2025-03-12"})
    assert r.status_code == 302
    html = lw.get(f"/legal/cases/{code}").get_data(as_text=True)
    assert "Acción de tutela" in html and "Radicada" in html
    with env["app"].app_context():
        proc = db.session.scalar(select(LegalProceeding).where(LegalProceeding.kind == "protection_action"))
        proc_id = proc.id
    form = _page_form(env, "lw", f"st{proc_id}") | {f"st{proc_id}-stage": "admitted", f"st{proc_id}-on": "2025-03-14"}
    assert lw.post(f"/legal/cases/{code}/proceedings/{proc_id}/stage", data=form).status_code == 302
    token = re.search(r'name="he-csrf_token"[^>]*value="([^"]+)"', lw.get(f"/legal/cases/{code}")
                      .get_data(as_text=True)).group(1)
    r = lw.post(f"/legal/cases/{code}/hearings", data={"he-csrf_token": token, "he-proceeding": str(proc_id),
                                                       "he-on": "2025-03-18", "he-title": "Audiencia"})
    assert r.status_code == 302
    with env["app"].app_context():
        ev = db.session.scalar(select(LegalEvent).where(LegalEvent.proceeding_id == proc_id))
        ev_id = ev.id
    form = _page_form(env, "lw", f"ho{ev_id}") | {f"ho{ev_id}-outcome": "Tutela admitida",
                                                   f"ho{ev_id}-next_on": "2025-04-03"}
    assert lw.post(f"/legal/cases/{code}/hearings/{ev_id}", data=form).status_code == 302
    html = lw.get(f"/legal/cases/{code}").get_data(as_text=True)
    assert "Tutela admitida" in html and "Admitida" in html
    # The social worker reads it, with no form to write; another entity does not see it.
    sw_html = env["web"]["sw"].get(f"/legal/cases/{code}").get_data(as_text=True)
    assert "Tutela admitida" in sw_html and f"st{proc_id}-csrf_token" not in sw_html
    assert env["web"]["other"].get(f"/legal/cases/{code}").status_code == 404
    with env["app"].app_context():
        history = [c.stage for c in db.session.scalars(select(LegalStageChange).where(
            LegalStageChange.proceeding_id == proc_id).order_by(LegalStageChange.id))]
    assert history == ["filed", "admitted"]


def test_free_text_of_the_follow_up_is_encrypted_at_rest(env, client):
    m = _measure(env)
    assert _api_decide(env, "lw", m["id"], m["version"], "granted", "2025-03-20", AUTHORITY).status_code == 200
    uri = env["app"].config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert AUTHORITY.encode() not in raw


def test_every_write_is_in_the_access_log(env, client):
    from caseapp.models.audit import AuditEvent

    m = _measure(env)
    assert _api_decide(env, "lw", m["id"], m["version"], "granted", "2025-03-20").status_code == 200
    assert client.post(f"{API}/cases/{env['code']}/proceedings", headers=env["t"]["lw"],
                       json={"kind": "reparation"}).status_code == 201
    with env["app"].app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "luz")))
    assert {"case.legal.measure", "case.legal.measure.update", "case.legal.proceeding.open"} <= actions


# --- the monthly list for the investigation and prosecution table ------------------------------------------------


def test_the_monthly_list_reads_stage_changes_hearings_and_measures_granted(env, app, client):
    from caseapp.services import followup

    code, lw = env["code"], env["t"]["lw"]
    client.put(f"{API}/cases/{code}/legal", headers=lw, json={"stage": "complaint", "version": 0,
                                                             "complaint_filed_on": "2025-03-12",
                                                             "representation": "none"})
    proc = client.get(f"{API}/cases/{code}/legal", headers=lw).json["proceedings"][0]
    client.post(f"{API}/cases/{code}/proceedings/{proc['id']}/stages", headers=lw,
                json={"stage": "inquiry", "on": "2025-03-18", "version": proc["version"]})
    client.post(f"{API}/cases/{code}/legal-events", headers=lw, json={"on": "2025-03-20", "title": "Audiencia"})
    m = _measure(env)
    _api_decide(env, "lw", m["id"], m["version"], "granted", "2025-03-25")
    with app.test_request_context():
        rows = followup.table_list(db.session.get(User, env["people"]["lw"].id), 2025, 3)
    row = next(r for r in rows if r["case"] == code)
    assert row["hearings_held"] == 1 and row["measures_granted"] == 1
    assert "2025-03-18" in row["stage_changes"] and "Indagación" in row["stage_changes"]
    assert row["stage"] == "Indagación"
    with app.test_request_context():
        april = followup.table_list(db.session.get(User, env["people"]["lw"].id), 2025, 4)
    row = next(r for r in april if r["case"] == code)
    assert (row["hearings_held"], row["measures_granted"], row["stage_changes"]) == (0, 0, "")
