"""Completeness of the access log: walk every registered route that touches case data, call it as an authorised
user with a real case, and fail when the call leaves no `allowed` row in the access log.

In scope: every endpoint of the `cases`, `route` and `referrals` blueprints and every API endpoint under
/api/v1/cases and /api/v1/referrals, minus NOT_CASE_DATA (an explicit, short list, with the reason for each).
GET routes are called with GET; others with a minimal POST/PATCH (CSRF token for the web, a JSON body for the API).
Several users are tried in turn (owner entity, receiving entity, coordinator, admin) until one is let in.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

import config
from caseapp import create_app, crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken
from caseapp.models.audit import AuditEvent
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.conftest import csrf_token

CASE_BLUEPRINTS = ("cases", "route", "referrals")
CASE_API_PREFIXES = ("/api/v1/cases", "/api/v1/referrals")

# Endpoints that never touch case data: not walked. Keep this short, and say why.
NOT_CASE_DATA = {
    "static": "stylesheets and icons",
    "main.healthz": "liveness probe",
    "main.home": "role-based menu, no case",
    "api.openapi": "the API description",
    "auth.login": "sign-in (logged by the accounts area)",
    "route.shelters": "shelter list and occupancy counts, no case",
    "route.admin_catalogues": "catalogue administration (step kinds, due rules, shelters)",
    "route.add_rule": "catalogue administration",
    "route.add_shelter": "catalogue administration",
    "route.add_step_kind": "catalogue administration",
    "route.toggle_step_kind": "catalogue administration",
    "cases.purposes": "catalogue of purposes of exploitation",
    "cases.close_purpose": "catalogue of purposes of exploitation",
    "GET cases.new": "the blank registration form",
    "GET referrals.override": "the blank consent-override form (a list of entities)",
}
# A minimal body is refused with one of these before anything is read or written: the route is not exercised.
REFUSED_INPUT = (400, 409, 422)


def _in_scope(rule) -> bool:
    if rule.endpoint.split(".")[0] in CASE_BLUEPRINTS:
        return True
    return rule.endpoint.startswith("api.") and rule.rule.startswith(CASE_API_PREFIXES)


def _allowed(endpoint: str, method: str) -> bool:
    return endpoint in NOT_CASE_DATA or f"{method} {endpoint}" in NOT_CASE_DATA


def _walked_rules():
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI="sqlite://"))
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not _in_scope(rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if not _allowed(rule.endpoint, method):
                out.append((rule.endpoint, rule.rule, method))
    return out


def pytest_generate_tests(metafunc):
    if "walked" in metafunc.fixturenames:
        rules = _walked_rules()
        metafunc.parametrize("walked", rules, ids=[f"{m} {e}" for e, _r, m in rules])


# --- a small world with one of everything ------------------------------------------------------------------


@pytest.fixture
def world(app, factory):
    users = {
        "owner": factory.user("walker", roles=("social_worker", "lawyer"), entity="SDIS"),
        "receiver": factory.user("receiver", roles=("social_worker", "lawyer"), entity="FISC"),
        "coordinator": factory.user("coord", roles=("coordinator",), entity="SDIS"),
        "admin": factory.user("root", roles=("admin",), entity="SDIS"),
    }
    with app.test_request_context():
        code = make_case(users["owner"].id, intake_on=date(2025, 3, 10), status="in_immediate_assistance")
        tokens = {}
        for name, user in users.items():
            token = crypto.new_token()
            db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(token), created_at=utcnow()))
            tokens[name] = token
        db.session.commit()
    return {"users": users, "code": code, "tokens": tokens}


def _case(code):
    from caseapp.models.cases import Case

    return db.session.scalar(select(Case).where(Case.code == code))


def _referral_id(world):
    from caseapp.models.accounts import Entity
    from caseapp.models.referrals import Referral

    case = _case(world["code"])
    fisc = db.session.scalar(select(Entity.id).where(Entity.code == "FISC"))
    row = Referral(case_id=case.id, from_entity_id=case.owner_entity_id, to_entity_id=fisc, service="legal",
                   shared_sections="summary", status="sent", sent_by_id=world["users"]["owner"].id, sent_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row.id


def _consent_id(world):
    return _case(world["code"]).consents[0].id


def _erasure_request_id(world):
    from caseapp.models.cases import ErasureRequest

    case = _case(world["code"])
    row = ErasureRequest(case_id=case.id, requested_by_id=world["users"]["owner"].id, requested_at=utcnow(),
                         reason="victim_request")
    db.session.add(row)
    db.session.commit()
    return row.id


def _step_id(world):
    from caseapp.models.route import AssistanceStep, StepKind

    kind = db.session.scalar(select(StepKind).where(StepKind.phase == "immediate").order_by(StepKind.id))
    row = AssistanceStep(case_id=_case(world["code"]).id, phase="immediate", kind_id=kind.id, status="planned")
    db.session.add(row)
    db.session.commit()
    return row.id


def _goal_id(world):
    from caseapp.models.route import LifePlanGoal

    row = LifePlanGoal(case_id=_case(world["code"]).id, area="health", agreed_on=date(2025, 3, 12))
    db.session.add(row)
    db.session.commit()
    return row.id


def _stay_id(world):
    from caseapp.models.accounts import Entity
    from caseapp.models.route import Shelter, ShelterStay

    step_id = _step_id(world)
    sdis = db.session.scalar(select(Entity.id).where(Entity.code == "SDIS"))
    shelter = Shelter(code="CASA-1", name="Casa 1", operator_entity_id=sdis, capacity=5)
    db.session.add(shelter)
    db.session.flush()
    row = ShelterStay(shelter_id=shelter.id, case_id=_case(world["code"]).id, step_id=step_id,
                      admitted_on=date(2025, 3, 11))
    db.session.add(row)
    db.session.commit()
    return row.id


RESOLVERS = {
    "code": lambda w: w["code"],
    "section": lambda w: "psychosocial",
    "action": lambda w: "accept",
    "referral_id": _referral_id,
    "consent_id": _consent_id,
    "request_id": _erasure_request_id,
    "step_id": _step_id,
    "goal_id": _goal_id,
    "stay_id": _stay_id,
}


def _build_url(app, world, endpoint, rule_text):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)
    values = {}
    with app.test_request_context():
        for arg in sorted(rule.arguments):
            if arg not in RESOLVERS:
                pytest.fail(f"route walk: no resolver for URL argument <{arg}> of {endpoint}: add one to RESOLVERS")
            try:
                values[arg] = RESOLVERS[arg](world)
            except Exception as error:  # the other area's model changed: say so rather than crash
                db.session.rollback()
                pytest.fail(f"route walk: could not build <{arg}> for {endpoint}: {error!r}")
        from flask import url_for

        return url_for(endpoint, **values)


def _allowed_rows(app, username, after_seq):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.seq > after_seq, AuditEvent.actor == username, AuditEvent.outcome == "allowed"))


def _head(app):
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _call(client, login_as, world, who, url, method, is_api):
    user = world["users"][who]
    if is_api:
        headers = {"Authorization": f"Bearer {world['tokens'][who]}"}
        if method == "GET":
            return client.get(url, headers=headers)
        return client.open(url, method=method, json={}, headers=headers)
    login_as(user)
    if method == "GET":
        return client.get(url)
    token = csrf_token(client, "/")
    return client.open(url, method=method, data={"csrf_token": token})


def _flashed_an_error(client) -> bool:
    with client.session_transaction() as session:
        return any(category in ("error", "danger", "warning") for category, _msg in session.get("_flashes", []))


def test_route_writes_an_access_log_row(app, client, login_as, world, walked):
    endpoint, rule_text, method = walked
    is_api = endpoint.startswith("api.")
    url = _build_url(app, world, endpoint, rule_text)
    attempts = []
    for who in ("owner", "receiver", "coordinator", "admin"):
        before = _head(app)
        response = _call(client, login_as, world, who, url, method, is_api)
        status = response.status_code
        attempts.append(f"{who}: {status}")
        assert status < 500, f"{method} {url} ({endpoint}) as {who}: server error {status}"
        if status in (401, 403, 404, 405):
            continue
        written = _allowed_rows(app, world["users"][who].username, before)
        if written:
            return
        if status in REFUSED_INPUT:
            pytest.skip(f"{method} {endpoint}: the minimal body was refused ({status}) before anything was read "
                        "or written; not exercised")
        if method == "GET" and 300 <= status < 400:
            pytest.skip(f"GET {endpoint}: redirects ({status}) without showing anything")
        if 300 <= status < 400 and not is_api and _flashed_an_error(client):
            pytest.skip(f"{method} {endpoint}: the minimal form was refused (redirect with an error message); "
                        "not exercised")
        pytest.fail(f"{method} {url} ({endpoint}) answered {status} to {who} but wrote no access-log row")
    if method != "GET" and "code" not in rule_text and all(a.endswith("404") for a in attempts):
        pytest.skip(f"{method} {endpoint}: the minimal body names no case (404 for everyone); not exercised")
    pytest.fail(f"{method} {url} ({endpoint}): no authorised user could call it ({', '.join(attempts)})")


def test_the_allow_list_names_real_endpoints(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(e for e in NOT_CASE_DATA if e.split(" ")[-1] not in endpoints)
    assert not missing, f"NOT_CASE_DATA names endpoints that no longer exist: {missing}"
