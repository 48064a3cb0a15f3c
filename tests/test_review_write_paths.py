"""Writes found wanting by an outside review of the casework writes: a version that only looks like digits is a
clear 422 on every versioned write (it was a 500); a stale page does not end an assignment made after it was read; an
API PATCH of a hearing keeps what its body does not name; a field that does not apply is refused, not dropped.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.assignments import CaseAssignment
from caseapp.models.route import LegalEvent
from tests.cases_factory import make_case
from tests.world import form_payload, new_api_token, post_forms

API = "/api/v1"


@pytest.fixture
def env(app, factory, login_as):
    users = {"sw": factory.user("ana", roles=("social_worker",), entity="SDIS"),
             "sw2": factory.user("bea", roles=("social_worker",), entity="SDIS"),
             "lw": factory.user("luz", roles=("lawyer",), entity="SDIS")}
    with app.test_request_context():
        code = make_case(users["sw"].id, intake_on=date(2025, 3, 10), status="in_immediate_assistance")
        headers = {k: {"Authorization": f"Bearer {new_api_token(u.id)}"} for k, u in users.items()}
    return {"app": app, "code": code, "h": headers, "users": users, "api": app.test_client()}


def _api(env, who, method, url, **kw):
    return getattr(env["api"], method)(f"{API}{url}", headers=env["h"][who], **kw)


# --- a version that only looks like digits ---------------------------------------------------------------------


def _member(env):
    r = _api(env, "sw", "post", f"/cases/{env['code']}/family-members", json={"names": "Rosa", "relationship": "mother"})
    assert r.status_code == 201, r.get_json()
    return f"/cases/{env['code']}/family-members/{r.get_json()['id']}", {"relationship": "sibling"}, "sw"


def _hearing(env):
    r = _api(env, "lw", "post", f"/cases/{env['code']}/legal-events", json={"kind": "hearing", "on": "2025-03-12"})
    assert r.status_code == 201, r.get_json()
    return f"/cases/{env['code']}/legal-events/{r.get_json()['id']}", {"outcome": "Aplazada"}, "lw"


def _case(env):
    return f"/cases/{env['code']}", {"trafficking_scope": "internal"}, "sw"


@pytest.mark.parametrize("target", [_member, _hearing, _case], ids=["family member", "hearing", "case"])
@pytest.mark.parametrize("version", ["²", "١", "9" * 5000])
def test_a_version_that_only_looks_like_digits_is_refused_clearly(env, target, version):
    url, body, who = target(env)
    r = _api(env, who, "patch", url, json={**body, "version": version})
    assert r.status_code == 422 and r.get_json()["rule"] == "version_required", r.get_data(as_text=True)[:500]


@pytest.mark.parametrize("version", ["²", "9" * 5000])
def test_the_case_edit_form_refuses_a_version_that_only_looks_like_digits(app, client, login_as, env, version):
    login_as(env["users"]["sw"])
    page = client.get(f"/cases/{env['code']}/edit").get_data(as_text=True)
    form = next(f for f in post_forms(page) if "version" in f["fields"])
    good = form_payload(form)
    assert client.post(f"/cases/{env['code']}/edit", data={**good, "version": version}).status_code == 422
    assert client.post(f"/cases/{env['code']}/edit", data=good).status_code == 302  # the form as sent is valid


# --- a stale page does not end a newer assignment ----------------------------------------------------------------


def test_a_stale_end_form_does_not_end_an_assignment_made_after_it(app, client, login_as, env):
    code = env["code"]
    assert _api(env, "sw", "post", f"/cases/{code}/assignments", json={"username": "bea", "role": "social_worker"}) \
        .status_code == 201
    row_a = _api(env, "sw", "post", f"/cases/{code}/assignments", json={"username": "luz", "role": "lawyer"}) \
        .get_json()["id"]
    login_as(env["users"]["sw"])
    html = client.get(f"/cases/{code}/assignments").get_data(as_text=True)
    form = next(f for f in re.findall(r"<form[^>]*>.*?</form>", html, re.S) if f"end{row_a}-username" in f)
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form))
    action = re.search(r'action="([^"]+)"', form).group(1)
    # meanwhile Bea ends Luz's assignment and assigns her again
    assert _api(env, "sw2", "delete", f"/cases/{code}/assignments", json={"username": "luz", "role": "lawyer"}) \
        .status_code == 200
    row_b = _api(env, "sw2", "post", f"/cases/{code}/assignments", json={"username": "luz", "role": "lawyer"}) \
        .get_json()["id"]
    client.post(action, data=fields)
    with app.app_context():
        assert db.session.get(CaseAssignment, row_b).ended_at is None
    page = client.get(f"/cases/{code}/assignments").get_data(as_text=True)
    assert "no está asignada" in page or "no está asignado" in page, re.findall(r'class="flash[^"]*"[^>]*>([^<]+)', page)
    # the form of the row she sees now still ends it
    form = next(f for f in re.findall(r"<form[^>]*>.*?</form>", page, re.S) if f"end{row_b}-username" in f)
    client.post(action, data=dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form)))
    with app.app_context():
        assert db.session.get(CaseAssignment, row_b).ended_at is not None


# --- a PATCH keeps what it does not name --------------------------------------------------------------------------


def test_a_patch_of_a_hearing_keeps_its_outcome(app, env):
    event = _api(env, "lw", "post", f"/cases/{env['code']}/legal-events",
                 json={"kind": "hearing", "on": "2025-03-12", "outcome": "Se fijó audiencia de imputación"}).get_json()
    r = _api(env, "lw", "patch", f"/cases/{env['code']}/legal-events/{event['id']}",
             json={"version": event["version"], "next_on": "2025-04-20"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["outcome"] == "Se fijó audiencia de imputación" and r.get_json()["next_on"] == "2025-04-20"
    r = _api(env, "lw", "patch", f"/cases/{env['code']}/legal-events/{event['id']}",
             json={"version": r.get_json()["version"], "outcome": "Se realizó"})
    assert r.get_json()["outcome"] == "Se realizó" and r.get_json()["next_on"] == "2025-04-20"
    with app.app_context():
        assert db.session.scalar(select(LegalEvent.next_on)) == date(2025, 4, 20)


# --- a field that does not apply ---------------------------------------------------------------------------------


def test_a_professional_named_on_a_flag_that_names_none_is_refused(env):
    r = _api(env, "sw", "post", f"/cases/{env['code']}/safety-flags",
             json={"kind": "threats_received", "reason": "Amenazas por teléfono", "professional": "luz"})
    assert r.status_code == 422 and "professional" in r.get_json()["fields"], r.get_json()
    assert _api(env, "sw", "get", f"/cases/{env['code']}/safety-flags").get_json().get("flags", []) == []


# --- the same parse on the read side: digits int() refuses --------------------------------------------------------


@pytest.mark.parametrize(("role", "url"), [
    ("coordinator", "/api/v1/stats/cases?by=sex&period=²⁰²⁵"),
    ("coordinator", "/api/v1/stats/cases?by=month&period=2025-٠٣"),
    ("auditor", "/api/v1/audit?limit=²"),
])
def test_a_number_of_unicode_digits_in_a_query_is_a_clear_422(app, client, factory, role, url):
    reader = factory.user(f"reader.{role}", roles=(role,), entity="SDIS")
    with app.app_context():
        headers = {"Authorization": f"Bearer {new_api_token(reader.id)}"}
    r = client.get(url, headers=headers)
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
