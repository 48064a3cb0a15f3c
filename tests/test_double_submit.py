"""A double click, a form sent twice (back button, reload) or an API call retried after its answer was lost writes
once, on every path that creates a record: the form's one-time `submission` token and the API's Idempotency-Key are
recorded with the write (services.primitives.expect_once), and the second request with the same one writes nothing.

Parametrised over every web form and API endpoint that adds a row to a case: a new one without the rule fails here.
"""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.attachments import CaseAttachment
from caseapp.models.cases import Case, IndirectVictim
from caseapp.models.route import (
    AssistanceStep,
    CaseNote,
    LegalEvent,
    LegalProceeding,
    LifePlanGoal,
    ProtectionMeasure,
)
from caseapp.models.safety import FamilyStep, SafetyFlag
from tests.cases_factory import make_case
from tests.world import flashes, form_payload, new_api_token, post_forms

API = "/api/v1"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
SAVED_ONCE = "se guardó una sola vez"


@pytest.fixture
def env(app, factory):
    people = {"sw": factory.user("ana", roles=("social_worker",), entity="SDIS"),
              "lw": factory.user("luz", roles=("lawyer",), entity="SDIS"),
              "sw2": factory.user("bea", roles=("social_worker",), entity="SDIS")}
    with app.test_request_context():
        code = make_case(people["sw"].id, intake_on=date(2025, 3, 10), status="in_mediate_assistance")
        tokens = {k: {"Authorization": f"Bearer {new_api_token(u.id)}"} for k, u in people.items()}
    return {"app": app, "code": code, "people": people, "t": tokens}


def _count(app, model, code, **where) -> int:
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.code == code))
        return db.session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id)
                                 .filter_by(**where))


def _member_id(env) -> int:
    r = env["app"].test_client().post(f"{API}/cases/{env['code']}/family-members", headers=env["t"]["sw"],
                                      json={"names": "Rosa", "relationship": "mother"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


# --- the web forms --------------------------------------------------------------------------------------------
# (who, page, action, fields the test fills in, model counted); {code} and {member} are filled in per case

WEB = {
    "step": ("sw", "/route/cases/{code}", "/route/cases/{code}/steps",
             {"step-kind": "psychological_assessment", "step-status": "done", "step-done_on": "2025-03-12"},
             AssistanceStep),
    "life-plan goal": ("sw", "/route/cases/{code}", "/route/cases/{code}/life-plan",
                       {"goal-area": "education", "goal-description": "Terminar el bachillerato",
                        "goal-agreed_on": "2025-03-12"}, LifePlanGoal),
    "psychosocial note": ("sw", "/route/cases/{code}", "/route/cases/{code}/notes/psychosocial",
                          {"psy-body": "Duelo, ansiedad"}, CaseNote),
    "legal note": ("lw", "/route/cases/{code}", "/route/cases/{code}/notes/legal", {"jur-body": "Denuncia"}, CaseNote),
    "proceeding": ("lw", "/legal/cases/{code}", "/legal/cases/{code}/proceedings",
                   {"lp-kind": "migratory", "lp-stage_on": "2025-03-12"}, LegalProceeding),
    "hearing": ("lw", "/legal/cases/{code}", "/legal/cases/{code}/hearings", {"he-on": "2025-03-13"}, LegalEvent),
    "protection measure": ("lw", "/legal/cases/{code}", "/legal/cases/{code}/measures",
                           {"lm-requested_on": "2025-03-12"}, ProtectionMeasure),
    "family member": ("sw", "/cases/{code}/family", "/cases/{code}/family",
                      {"names": "Rosa", "relationship": "mother"}, IndirectVictim),
    "family member's step": ("sw", "/cases/{code}/family", "/cases/{code}/family/{member}/steps",
                             {"status": "done", "on": "2025-03-12"}, FamilyStep),
    "safety flag": ("sw", "/cases/{code}/safety", "/cases/{code}/safety",
                    {"kind": "high_risk", "reason": "Amenazas del tratante"}, SafetyFlag),
}


def _web_form(env, client, target):
    who, page, action, fields, model = WEB[target]
    if target == "hearing" and "proceeding" not in env:  # a hearing belongs to a proceeding
        env["proceeding"] = env["app"].test_client().post(
            f"{API}/cases/{env['code']}/proceedings", headers=env["t"]["lw"], json={"kind": "criminal"}).status_code
    member = _member_id(env) if "{member}" in action else None
    page, action = (s.format(code=env["code"], member=member) for s in (page, action))
    html = client.get(page).get_data(as_text=True)
    form = next((f for f in post_forms(html) if f["action"] == action), None)
    assert form is not None, f"no form posting to {action} on {page}"
    return action, {**form_payload(form), **fields}, model


@pytest.mark.parametrize("target", list(WEB))
def test_a_web_form_sent_twice_writes_once(env, client, login_as, target):
    login_as(env["people"][WEB[target][0]])
    action, data, model = _web_form(env, client, target)
    assert any(k.endswith("submission") and v for k, v in data.items()), "the form carries no one-time token"
    before = _count(env["app"], model, env["code"])
    first = client.post(action, data=data)
    assert first.status_code in (200, 302), first.get_data(as_text=True)[:400]
    assert _count(env["app"], model, env["code"]) == before + 1, [m for _c, m in flashes(client)]
    second = client.post(action, data=data)
    assert second.status_code in (302, 409)
    assert _count(env["app"], model, env["code"]) == before + 1  # nothing written twice
    told = second.get_data(as_text=True) if second.status_code == 409 else " ".join(m for _c, m in flashes(client))
    assert SAVED_ONCE in told
    # the next form the page draws has a new token: a second, real entry is saved
    _again, data2, _m = _web_form(env, client, target)
    if target == "safety flag":  # a flag in force is not set twice (its own rule): another kind
        data2["kind"] = "threats_received"
    if target == "proceeding":
        data2["lp-kind"] = "reparation"
    assert client.post(action, data=data2).status_code in (200, 302)
    assert _count(env["app"], model, env["code"]) == before + 2


def test_an_upload_sent_twice_is_stored_once(env, client, login_as):
    login_as(env["people"]["sw"])
    html = client.get(f"/cases/{env['code']}").get_data(as_text=True)
    action = f"/attachments/cases/{env['code']}"
    form = next(f for f in post_forms(html) if f["action"] == action)
    fields = form_payload(form)
    assert fields.get("att-submission")

    def send():
        return client.post(action, data={**fields, "att-kind": "consent", "att-file": (io.BytesIO(PDF), "acta.pdf")},
                           content_type="multipart/form-data")

    assert send().status_code == 302
    assert send().status_code == 302
    assert _count(env["app"], CaseAttachment, env["code"]) == 1
    assert ("warning", "Este formulario ya se había enviado: se guardó una sola vez.") in flashes(client)


def test_a_form_refused_for_its_input_keeps_its_token_for_the_corrected_one(env, client, login_as):
    login_as(env["people"]["sw"])
    action, data, model = _web_form(env, client, "step")
    assert client.post(action, data={**data, "step-done_on": "2999-01-01"}).status_code == 422  # a future date
    assert _count(env["app"], model, env["code"]) == 0
    assert client.post(action, data=data).status_code == 302  # the same form, corrected: saved
    assert _count(env["app"], model, env["code"]) == 1


def test_each_form_of_a_page_has_its_own_token(env, client, login_as):
    login_as(env["people"]["sw"])
    _member_id(env), _member_id(env)
    html = client.get(f"/cases/{env['code']}/family").get_data(as_text=True)
    tokens = [f["fields"].get("submission") for f in post_forms(html) if f["fields"].get("submission")]
    assert len(tokens) >= 3 and len(set(tokens)) == len(tokens)


# --- the API --------------------------------------------------------------------------------------------------
# (who, path, body, model counted); multipart bodies are built per request

API_WRITES = {
    "step": ("sw", "/cases/{code}/steps", {"kind": "psychological_assessment", "status": "done",
                                           "done_on": "2025-03-12"}, AssistanceStep),
    "life-plan goal": ("sw", "/cases/{code}/life-plan", {"area": "education", "description": "Bachillerato",
                                                         "agreed_on": "2025-03-12"}, LifePlanGoal),
    "note": ("sw", "/cases/{code}/notes/psychosocial", {"body": "Duelo"}, CaseNote),
    "legal event": ("lw", "/cases/{code}/legal-events", {"kind": "hearing", "on": "2025-03-12"}, LegalEvent),
    "proceeding": ("lw", "/cases/{code}/proceedings", {"kind": "reparation"}, LegalProceeding),
    "protection measure": ("lw", "/cases/{code}/protection-measures",
                           {"kind": "police_measures", "requested_on": "2025-03-12"}, ProtectionMeasure),
    "family member": ("sw", "/cases/{code}/family-members", {"names": "Rosa", "relationship": "mother"},
                      IndirectVictim),
    "family member's step": ("sw", "/cases/{code}/family-members/{member}/steps",
                             {"kind": "psychological_assessment", "status": "done", "on": "2025-03-12"}, FamilyStep),
    "safety flag": ("sw", "/cases/{code}/safety-flags", {"kind": "high_risk", "reason": "Riesgo"}, SafetyFlag),
    "attachment": ("sw", "/cases/{code}/attachments", None, CaseAttachment),
}


def _api_write(env, target, key, who=None):
    default_who, path, body, _model = API_WRITES[target]
    member = env.setdefault("member", _member_id(env)) if "{member}" in path else None
    headers = {**env["t"][who or default_who], **({"Idempotency-Key": key} if key else {})}
    url = API + path.format(code=env["code"], member=member)
    client = env["app"].test_client()
    if body is None:
        return client.post(url, headers=headers, content_type="multipart/form-data",
                           data={"kind": "consent", "file": (io.BytesIO(PDF), "acta.pdf", "application/pdf")})
    return client.post(url, headers=headers, json=body)


@pytest.mark.parametrize("target", list(API_WRITES))
def test_an_api_write_retried_with_its_key_is_carried_out_once(env, target):
    model = API_WRITES[target][3]
    if "{member}" in API_WRITES[target][1]:
        env["member"] = _member_id(env)
    before = _count(env["app"], model, env["code"])
    first = _api_write(env, target, "8d1f0c2e-retry-1")
    assert first.status_code == 201, first.get_json()
    again = _api_write(env, target, "8d1f0c2e-retry-1")
    assert again.status_code == 409 and again.get_json()["rule"] == "already_submitted", again.get_json()
    assert "una sola vez" in again.get_json()["message"]
    assert _count(env["app"], model, env["code"]) == before + 1


def test_a_key_is_the_users_own_and_a_new_key_is_a_new_write(env):
    assert _api_write(env, "note", "shared-key-0001").status_code == 201
    assert _api_write(env, "note", "shared-key-0001", who="sw2").status_code == 201  # another user's key
    assert _api_write(env, "note", "shared-key-0002").status_code == 201
    assert _api_write(env, "note", None).status_code == 201  # no key: no check (an older client)
    assert _count(env["app"], CaseNote, env["code"]) == 4


@pytest.mark.parametrize("key", ["short", "x" * 129, "clave-con-ñ-1234", "tab\there-1234", " " * 8])
def test_a_malformed_key_is_refused_and_nothing_is_written(env, key):
    r = _api_write(env, "note", key)
    assert r.status_code == 422 and r.get_json()["rule"] == "idempotency_key_invalid"
    assert "entre 8 y 128" in r.get_json()["message"]
    assert _count(env["app"], CaseNote, env["code"]) == 0


def test_a_refused_write_does_not_spend_its_key(env):
    _who, path, _body, _model = API_WRITES["step"]
    headers = {**env["t"]["sw"], "Idempotency-Key": "retry-after-422"}
    client = env["app"].test_client()
    url = API + path.format(code=env["code"])
    bad = client.post(url, headers=headers, json={"kind": "psychological_assessment", "status": "done",
                                                  "done_on": "2999-01-01"})
    assert bad.status_code == 422
    good = client.post(url, headers=headers, json={"kind": "psychological_assessment", "status": "done",
                                                   "done_on": "2025-03-12"})
    assert good.status_code == 201, good.get_json()
    assert _count(env["app"], AssistanceStep, env["code"]) == 1


# --- found by an outside review -------------------------------------------------------------------------------


@pytest.mark.parametrize("target, field", [("step", "step-notes"), ("protection measure", "lm-notes")])
def test_a_form_refused_half_way_leaves_nothing_behind_and_its_token_unused(env, client, login_as, target, field):
    """A service that adds its row and then finds a bad field (a NUL byte in its notes) is refused; the page drawn
    after it commits its read, and must not commit the half-made row with it."""
    login_as(env["people"][WEB[target][0]])
    action, data, model = _web_form(env, client, target)
    if field not in data:
        pytest.skip(f"{field} is not on this form")
    refused = client.post(action, data={**data, field: "hola\x00mundo"})
    assert refused.status_code in (302, 422)
    assert _count(env["app"], model, env["code"]) == 0
    assert client.post(action, data={**data, field: "hola mundo"}).status_code in (200, 302)  # the same form
    assert _count(env["app"], model, env["code"]) == 1


def test_a_used_key_on_another_request_is_refused_not_called_a_repeat(env):
    assert _api_write(env, "note", "constant-key-123").status_code == 201
    other = _api_write(env, "step", "constant-key-123")
    assert other.status_code == 422 and other.get_json()["rule"] == "idempotency_key_reused", other.get_json()
    assert _count(env["app"], AssistanceStep, env["code"]) == 0


def test_an_upload_retried_with_a_new_boundary_is_still_a_repeat(env):
    assert _api_write(env, "attachment", "upload-key-0001").status_code == 201
    again = _api_write(env, "attachment", "upload-key-0001")  # werkzeug draws a new multipart boundary
    assert again.status_code == 409 and again.get_json()["rule"] == "already_submitted"


@pytest.mark.parametrize("with_key", [False, True])
def test_a_lost_race_of_the_row_itself_is_its_own_conflict_with_or_without_a_key(env, with_key):
    """Two requests setting the same flag at once: the second is refused by the flag's unique key, as a Conflict
    (never a 500), whether or not it carried a one-time key of its own."""
    from caseapp.errors import Conflict
    from caseapp.models.accounts import User
    from caseapp.services import primitives
    from caseapp.timeutil import utcnow

    with env["app"].test_request_context():
        user = db.session.get(User, env["people"]["sw"].id)
        case = db.session.scalar(select(Case).where(Case.code == env["code"]))

        def flag():
            return SafetyFlag(case=case, kind="high_risk", in_force_key=f"{case.id}:high_risk", set_by_id=user.id,
                              set_at=utcnow())

        db.session.add(flag())
        db.session.commit()
        if with_key:
            primitives.expect_once(user, "race-key-0001")
        db.session.add(flag())
        with pytest.raises(Conflict) as refused:
            primitives.commit("already set")
        assert refused.value.rule == "stale_version" and refused.value.message == "already set"
