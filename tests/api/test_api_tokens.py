"""API tokens: an expiry set at creation, a scope enforced on every call, a last-used time shown to their owner,
and revocation on every event that changes who may act (password change or reset, sign out everywhere,
second-factor reset, role change, deactivation)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, User
from caseapp.models.cases import Case
from caseapp.services import accounts
from tests.api.test_cases_api import BODY
from tests.conftest import csrf_token

NEW_PASSWORD = "una tarde lluviosa en el malecón 7"


def issue(app, username, **options) -> str:
    with app.test_request_context():
        return accounts.issue_token(accounts.CLI, username, **options)


def row_of(app, token) -> ApiToken:
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == crypto.hash_token(token)))
        db.session.expunge(row)
        return row


def api(client, token, method="GET", path="/api/v1/cases", **kwargs):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def n_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


# --- revocation: one owner, every event -----------------------------------------------------------------------


def _own_password_change(app, client, login_as, u):
    login_as(u)
    r = client.post("/auth/account/password", data={
        "csrf_token": csrf_token(client, "/auth/account"), "current_password": u.password,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert r.status_code == 302


def _logout_everywhere(app, client, login_as, u):
    login_as(u)
    r = client.post("/auth/account/logout-everywhere", data={"csrf_token": csrf_token(client, "/auth/account")})
    assert r.status_code == 302


def _cli(*args, stdin=None):
    def run(app, client, login_as, u):
        r = app.test_cli_runner().invoke(args=["users", *args, u.username], input=stdin)
        assert r.exit_code == 0, r.output
    return run


def _role_change(app, client, login_as, u):
    with app.test_request_context():
        user = db.session.get(User, u.id)
        accounts.update_user(accounts.CLI, u.username, version=user.version, display_name=user.display_name,
                             entity_code=u.entity, roles=["lawyer"])


EVENTS = {
    "password_change": _own_password_change,
    "password_reset": _cli("reset-password", stdin=NEW_PASSWORD + "\n"),
    "logout_everywhere": _logout_everywhere,
    "totp_reset": _cli("reset-totp"),
    "role_change": _role_change,
    "deactivation": _cli("deactivate"),
    "admin": _cli("revoke-token"),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_a_token_from_before_the_event_stops_working(app, client, factory, login_as, event):
    u = factory.user("ana", roles=("social_worker",))
    factory.user("root", roles=("admin",), entity="OTRA")
    token = issue(app, "ana")
    assert api(app.test_client(), token).status_code == 200
    EVENTS[event](app, client, login_as, u)
    r = api(app.test_client(), token)
    assert r.status_code == 401 and r.json["error"] == "unauthorized"
    assert row_of(app, token).revoke_reason == event
    if event == "role_change":  # a token made after the change works, with the new roles
        assert api(app.test_client(), issue(app, "ana")).status_code in (200, 403)


def test_other_users_tokens_survive(app, client, factory, login_as):
    u = factory.user("ana")
    factory.user("eva")
    theirs = issue(app, "eva")
    _logout_everywhere(app, client, login_as, u)
    assert api(app.test_client(), theirs).status_code == 200


# --- expiry -----------------------------------------------------------------------------------------------------


def test_tokens_expire_after_90_days_by_default(app, factory, clock):
    clock.set("2026-03-02 10:00")
    factory.user("ana")
    token = issue(app, "ana")
    clock.advance(days=89, hours=23)
    assert api(app.test_client(), token).status_code == 200
    clock.advance(hours=2)
    assert api(app.test_client(), token).status_code == 401


def test_cli_token_days_and_scope(app, factory, clock):
    clock.set("2026-03-02 10:00")
    factory.user("ana")
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "token", "ana", "--days", "7", "--scope", "read"])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert r.stdout == token + "\n"  # the output contract: the token and nothing else
    row = row_of(app, token)
    assert row.scope == "read" and row.expires_at - row.created_at == timedelta(days=7)
    assert api(app.test_client(), token).status_code == 200
    clock.advance(days=7, seconds=1)
    assert api(app.test_client(), token).status_code == 401
    for bad in (["--days", "0"], ["--days", "400"], ["--days", "-3"], ["--scope", "admin"]):
        r = runner.invoke(args=["users", "token", "ana", *bad])
        assert r.exit_code != 0 and not r.stdout.strip().isalnum()


# --- scope --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/v1/cases"), ("PATCH", "/api/v1/cases/SDIS-2025-00001"),
    ("PUT", "/api/v1/cases/SDIS-2025-00001/legal"), ("POST", "/api/v1/cases/SDIS-2025-00001/status"),
    ("DELETE", "/api/v1/cases/SDIS-2025-00001/legal"),
])
def test_a_read_token_cannot_write(app, factory, method, path):
    factory.user("ana")
    writer = issue(app, "ana")
    assert api(app.test_client(), writer, "POST", json=BODY).status_code == 201
    before = n_cases(app)
    reader = issue(app, "ana", scope="read")
    assert api(app.test_client(), reader, "GET", "/api/v1/cases/SDIS-2025-00001").status_code == 200
    r = api(app.test_client(), reader, method, path, json=BODY)
    if method == "DELETE":  # no DELETE route exists: refused before any scope question
        assert r.status_code in (403, 405)
    else:
        assert r.status_code == 403 and r.json["rule"] == "token_read_only"
        assert "solo permite leer" in r.json["message"]
    assert n_cases(app) == before


def test_a_token_of_a_user_who_must_change_password_is_refused(app, factory):
    u = factory.user("ana")
    token = issue(app, "ana")
    with app.app_context():
        db.session.get(User, u.id).must_change_password = True
        db.session.commit()
    r = api(app.test_client(), token)
    assert r.status_code == 403 and r.json["rule"] == "password_change_required"


# --- last use, shown on the account page ----------------------------------------------------------------------


def test_last_use_is_written_at_most_once_a_minute_and_shown(app, client, factory, login_as, clock):
    clock.set("2026-03-02 10:00")
    u = factory.user("ana")
    token = issue(app, "ana", scope="read", days=30)
    assert row_of(app, token).last_used_at is None
    api(app.test_client(), token)
    first = row_of(app, token).last_used_at
    assert first is not None
    clock.advance(seconds=30)
    api(app.test_client(), token)
    assert row_of(app, token).last_used_at == first
    clock.advance(seconds=31)
    api(app.test_client(), token)
    assert row_of(app, token).last_used_at > first
    login_as(u)
    html = client.get("/auth/account").get_data(as_text=True)
    assert "Tokens de la API" in html and "Solo lectura" in html and "Nunca" not in html
    assert "2026" in html.split("Tokens de la API")[1]  # created, expires and last use dates
    assert token not in html
