"""Login in two steps (password + TOTP), throttling, enrolment, recovery codes, sessions, logout (the delays and the
server-side half-done login are tested in test_login_hardening)."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import undefer

from caseapp.extensions import db
from caseapp.models.accounts import RecoveryCode, User, UserSession
from caseapp.models.audit import AuditEvent
from caseapp.timeutil import utcnow
from tests.conftest import csrf_token

GENERIC_ES = "No fue posible iniciar sesión. Verifique sus datos."
CODE_RE = re.compile(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b")


# --- helpers ---------------------------------------------------------------------------------------------


def password_step(client, username, password, next_url=None, ip=None):
    token = csrf_token(client, "/auth/login")
    path = "/auth/login" + (f"?next={next_url}" if next_url else "")
    kwargs = {"environ_overrides": {"REMOTE_ADDR": ip}} if ip else {}
    return client.post(path, data={"csrf_token": token, "username": username, "password": password}, **kwargs)


def code_step(client, code, path="/auth/verify", field="code"):
    token = csrf_token(client, "/auth/login")
    return client.post(path, data={"csrf_token": token, field: code})


def full_login(client, user, offset=0, next_url=None):
    r = password_step(client, user.username, user.password, next_url=next_url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/verify")
    return code_step(client, user.totp(offset))


def wrong_code(user) -> str:
    """A six-digit code that is not valid anywhere near now."""
    near = {user.totp(o) for o in range(-3, 4)}
    return next(c for c in (f"{d}" * 6 for d in range(10)) if c not in near)


def log_rows(app, action=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            query = query.where(AuditEvent.action == action)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


# A user's credentials, deferred in every other load: loaded with her when a test reads them after the session ends.
WITH_CREDENTIALS = (undefer(User.password_hash), undefer(User.totp_secret_enc))


def get_user(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id, options=WITH_CREDENTIALS)
        db.session.expunge(user)
        return user


def is_logged_in(client) -> bool:
    r = client.get("/")
    return r.status_code == 200


# --- the pages -------------------------------------------------------------------------------------------


def test_login_page_is_spanish_and_accessible(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<label for="username">Usuario' in html
    assert '<label for="password">Contraseña' in html
    assert ">Ingresar</button>" in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'name="csrf_token"' in html


def test_language_selector_on_login_page(client):
    token = csrf_token(client, "/auth/login")
    r = client.post("/auth/language", data={"csrf_token": token, "locale": "en"})
    assert r.status_code == 302
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<label for="username">Username' in html and ">Sign in</button>" in html
    client.post("/auth/language", data={"csrf_token": token, "locale": "xx"})  # unknown: ignored
    assert ">Sign in</button>" in client.get("/auth/login").get_data(as_text=True)


# --- the full login --------------------------------------------------------------------------------------


def test_full_login_with_password_and_totp(app, client, factory):
    u = factory.user("ana", roles=("social_worker",))
    r = password_step(client, "ana", u.password)
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/verify")
    # Half-way, nobody is logged in.
    assert client.get("/").status_code == 302
    page = client.get("/auth/verify").get_data(as_text=True)
    assert "Código de verificación" in page and ">Verificar</button>" in page
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page
    r = code_step(client, u.totp())
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.get(User, u.id)
        assert user.last_login_at is not None
        live = db.session.scalars(select(UserSession).where(UserSession.user_id == u.id)).all()
        assert len(live) == 1 and live[0].ended_at is None
    success = log_rows(app, "login.success")
    assert len(success) == 1 and success[0].actor == "ana" and success[0].outcome == "allowed"


def test_session_id_is_regenerated_at_login(app, client, factory):
    u = factory.user("ana")
    client.get("/auth/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    full_login(client, u)
    with client.session_transaction() as s:
        assert "planted" not in s and "auth_pending" not in s
        assert s["_user_id"] and s["_user_id"] != str(u.id)


def test_safe_next_only(client, factory):
    u = factory.user("ana")
    r = full_login(client, u, next_url="/auth/account")
    assert r.headers["Location"] == "/auth/account"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    r = full_login(client, u, offset=1, next_url="//evil.example/phish")
    assert r.headers["Location"] == "/"


def test_already_logged_in_user_is_sent_home(client, factory, login_as):
    login_as(factory.user("ana"))
    r = client.get("/auth/login")
    assert r.status_code == 302 and r.headers["Location"] == "/"


# --- wrong passwords, lockout, throttling -------------------------------------------------------------------


def test_wrong_password_gives_generic_message(app, client, factory):
    factory.user("ana")
    r = password_step(client, "ana", "not the right password at all")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and GENERIC_ES in html
    assert "not the right password" not in html
    row = log_rows(app, "login.failure")[-1]
    assert row.object_ref == "ana" and row.outcome == "denied" and '"bad_password"' in row.detail


def test_unknown_user_same_message_and_name_not_logged(app, client, factory):
    factory.user("ana")
    r = password_step(client, "typed-my-password-here", "whatever whatever")
    assert GENERIC_ES in r.get_data(as_text=True)
    row = log_rows(app, "login.failure")[-1]
    assert row.object_ref is None and '"unknown_user"' in row.detail
    assert "typed-my-password-here" not in (row.detail or "")


def test_post_rate_limit(app, client):
    token = csrf_token(client, "/auth/login")
    statuses = {client.post("/auth/verify", data={"csrf_token": token, "code": "123456"}).status_code
                for _ in range(32)}
    assert 429 in statuses


# --- the second factor ------------------------------------------------------------------------------------


def test_wrong_totp_is_refused_and_counted(app, client, factory):
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    r = code_step(client, wrong_code(u))
    assert r.status_code == 200 and GENERIC_ES in r.get_data(as_text=True)
    assert not is_logged_in(client)
    row = log_rows(app, "totp.failure")[-1]
    assert row.object_ref == "ana" and row.outcome == "denied"
    # The right code still works within the same pending login.
    r = code_step(client, u.totp())
    assert r.status_code == 302 and is_logged_in(client)


def test_non_numeric_and_overlong_codes(client, factory):
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    for bad in ("abcdef", "1" * 40, "12 34", "<script>"):
        r = code_step(client, bad)
        assert r.status_code == 200 and not is_logged_in(client)


def test_replayed_totp_is_refused(app, client, factory):
    u = factory.user("ana")
    code = u.totp()
    password_step(client, "ana", u.password)
    assert code_step(client, code).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    # The same code, again: refused even with the right password.
    password_step(client, "ana", u.password)
    r = code_step(client, code)
    assert r.status_code == 200 and GENERIC_ES in r.get_data(as_text=True)
    assert not is_logged_in(client)
    assert len(log_rows(app, "totp.replay")) == 1
    # An earlier code (previous step) is refused as well once a later one was used.
    assert code_step(client, u.totp(-1)).status_code == 200


def test_pending_login_expires(app, client, factory, clock):
    clock.set("2026-03-02 10:00")
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    clock.advance(minutes=6)
    r = code_step(client, u.totp())
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    assert not is_logged_in(client)


def test_second_step_without_first_goes_to_login(client, factory):
    u = factory.user("ana")
    r = code_step(client, u.totp())
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    assert client.get("/auth/enrol").status_code == 302
    assert client.get("/auth/recovery").status_code == 302


def test_forged_pending_cookie_is_useless(app, client, factory):
    """The Flask session is signed: a pending id cannot be planted without the secret key."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    u = factory.user("ana")
    guess = Flask("guess")
    guess.secret_key = "dev-not-secret"  # noqa: S105 - the attacker's guess
    forged = SecureCookieSessionInterface().get_signing_serializer(guess).dumps(
        {"auth_pending": {"uid": u.id, "at": 9999999999}}
    )
    other = app.test_client()
    other.set_cookie("ruta_session", forged)
    r = other.get("/auth/verify")
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")


def test_user_deactivated_between_steps(app, client, factory):
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    with app.app_context():
        db.session.get(User, u.id).active = False
        db.session.commit()
    r = code_step(client, u.totp())
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    assert not is_logged_in(client)


# --- enrolment and recovery codes ---------------------------------------------------------------------------


def enrol(client, username, password):
    r = password_step(client, username, password)
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/enrol")
    page = client.get("/auth/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    return page, secret


def test_enrolment_with_inline_svg_qr(app, client, factory):
    u = factory.user("nueva", enrolled=False)
    page, secret = enrol(client, "nueva", u.password)
    assert "<svg" in page and 'role="img"' in page and "aria-label=" in page
    assert "data:" not in page and "<img" not in page and "otpauth://" not in page
    assert not is_logged_in(client)
    # A wrong code does not enrol.
    totp = pyotp.TOTP(secret)
    bad = next(c for c in ("000000", "111111", "222222") if c not in {totp.at(0), totp.now()})
    r = code_step(client, bad, path="/auth/enrol")
    assert r.status_code == 200 and get_user(app, u.id).totp_enrolled_at is None
    r = code_step(client, totp.now(), path="/auth/enrol")
    assert r.status_code == 200
    codes = CODE_RE.findall(r.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert is_logged_in(client)
    assert get_user(app, u.id).totp_enrolled_at is not None
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == u.id)).all()
    assert len(stored) == 10 and not set(stored) & {c.replace("-", "") for c in codes} and not set(stored) & set(codes)
    assert len(log_rows(app, "totp.enrol")) == 1


def test_enrolment_cannot_be_skipped(client, factory):
    u = factory.user("nueva", enrolled=False)
    password_step(client, "nueva", u.password)
    assert client.get("/").status_code == 302
    # The TOTP page sends a user without a second factor back to enrolment.
    r = client.get("/auth/verify")
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/enrol")


def test_recovery_code_works_once(app, client, factory):
    u = factory.user("nueva", enrolled=False)
    _page, secret = enrol(client, "nueva", u.password)
    r = code_step(client, pyotp.TOTP(secret).now(), path="/auth/enrol")
    codes = CODE_RE.findall(r.get_data(as_text=True))
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})

    password_step(client, "nueva", u.password)
    assert "Código de recuperación" in client.get("/auth/recovery").get_data(as_text=True)
    r = code_step(client, codes[3].lower().replace("-", " "), path="/auth/recovery", field="recovery_code")
    assert r.status_code == 302 and is_logged_in(client)
    assert len(log_rows(app, "recovery_code.used")) == 1
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})

    password_step(client, "nueva", u.password)
    r = code_step(client, codes[3], path="/auth/recovery", field="recovery_code")
    assert r.status_code == 200 and GENERIC_ES in r.get_data(as_text=True)
    assert not is_logged_in(client)
    assert len(log_rows(app, "recovery_code.used")) == 1


# --- CSRF, inactive users, expired sessions ----------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged", "ImFiYyI.ZZZZZZ.forgedforgedforgedforgedforged"])
def test_login_post_without_valid_csrf_is_refused_and_logged(app, client, factory, token):
    u = factory.user("ana")
    client.get("/auth/login")
    data = {"username": "ana", "password": u.password}
    if token:
        data["csrf_token"] = token
    r = client.post("/auth/login", data=data)
    assert r.status_code == 400
    assert "/auth/verify" not in r.headers.get("Location", "")
    rows = log_rows(app, "csrf")
    assert rows and rows[-1].outcome == "denied"
    assert not log_rows(app, "login.failure") and not log_rows(app, "login.success")


def test_csrf_token_of_another_browser_is_refused(app, client, factory):
    u = factory.user("ana")
    other = app.test_client()
    stolen = csrf_token(other, "/auth/login")
    client.get("/auth/login")
    r = client.post("/auth/login", data={"csrf_token": stolen, "username": "ana", "password": u.password})
    assert r.status_code == 400


def test_inactive_user_cannot_log_in(app, client, factory):
    u = factory.user("ana", active=False)
    r = password_step(client, "ana", u.password)
    assert r.status_code == 200 and GENERIC_ES in r.get_data(as_text=True)
    assert '"inactive"' in log_rows(app, "login.failure")[-1].detail


def test_user_of_inactive_entity_cannot_log_in(app, client, factory):
    from caseapp.models.accounts import Entity

    u = factory.user("ana", entity="CERR")
    with app.app_context():
        db.session.scalar(select(Entity).where(Entity.code == "CERR")).active = False
        db.session.commit()
    r = password_step(client, "ana", u.password)
    assert GENERIC_ES in r.get_data(as_text=True)


@pytest.mark.parametrize("column,age", [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=13))])
def test_expired_session_redirects_to_login(app, client, factory, column, age):
    u = factory.user("ana")
    full_login(client, u)
    assert is_logged_in(client)
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == u.id))
        setattr(row, column, utcnow() - age)
        if column == "created_at":
            row.last_seen_at = utcnow()
        db.session.commit()
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == u.id))
        assert row.ended_at is not None
    assert "Ingresar" in client.get("/auth/login").get_data(as_text=True)


def test_deactivated_user_loses_open_session(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    with app.app_context():
        db.session.get(User, u.id).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


# --- logout ------------------------------------------------------------------------------------------------


def test_logout_ends_server_session_and_old_cookie_fails(app, client, factory):
    u = factory.user("ana")
    full_login(client, u)
    old_cookie = client.get_cookie("ruta_session").value
    r = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    assert not is_logged_in(client)
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == u.id))
        assert row.ended_at is not None and row.end_reason == "logout"
    # Someone who copied the cookie before the logout gets nothing.
    thief = app.test_client()
    thief.set_cookie("ruta_session", old_cookie)
    assert thief.get("/").status_code == 302
    assert len(log_rows(app, "logout")) == 1


def test_logout_needs_post_and_csrf(client, factory, login_as):
    login_as(factory.user("ana"))
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert is_logged_in(client)


def test_logout_everywhere(app, client, factory, login_as):
    u = factory.user("ana")
    laptop, phone = client, app.test_client()
    login_as(u, laptop)
    login_as(u, phone)
    assert is_logged_in(laptop) and is_logged_in(phone)
    r = laptop.post("/auth/account/logout-everywhere", data={"csrf_token": csrf_token(laptop, "/auth/account")})
    assert r.status_code == 302
    assert not is_logged_in(laptop) and not is_logged_in(phone)
    rows = log_rows(app, "logout.everywhere")
    assert len(rows) == 1 and '"sessions":2' in rows[0].detail


# --- password hashing --------------------------------------------------------------------------------------


def test_password_rehashed_on_login_when_parameters_rise(app, client, factory):
    from caseapp import crypto

    u = factory.user("ana")
    with app.test_request_context():
        app.config.update(ARGON2_MEMORY_KIB=8192, ARGON2_TIME_COST=1)
        weak = crypto.hash_password(u.password)
        app.config.update(ARGON2_MEMORY_KIB=19456, ARGON2_TIME_COST=2)
        db.session.get(User, u.id).password_hash = weak
        db.session.commit()
    assert "m=8192" in weak
    password_step(client, "ana", u.password)
    new_hash = get_user(app, u.id).password_hash
    assert new_hash != weak and "m=19456" in new_hash and "t=2" in new_hash
    assert code_step(client, u.totp()).status_code == 302


def test_unicode_password_normalised(app, client, factory):
    composed = "Ma\u00f1ana sal\u00ed a caminar 42"
    decomposed = "Man\u0303ana sali\u0301 a caminar 42"
    from caseapp.services.accounts import passwords

    u = factory.user("ana")
    with app.test_request_context():
        db.session.get(User, u.id).password_hash = passwords.hash_password(composed)
        db.session.commit()
    r = password_step(client, "ana", decomposed)
    assert r.status_code == 302


# --- the access log ----------------------------------------------------------------------------------------


def test_no_password_or_secret_in_the_access_log(app, client, factory):
    wrong = "Wrong-Password-Marker-123"
    u = factory.user("ana")
    password_step(client, "ana", wrong)
    password_step(client, "ana", u.password)
    used_code = u.totp()
    code_step(client, wrong_code(u))
    code_step(client, used_code)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})

    n = factory.user("nueva", enrolled=False)
    _page, secret = enrol(client, "nueva", n.password)
    enrol_code = pyotp.TOTP(secret).now()
    r = code_step(client, enrol_code, path="/auth/enrol")
    codes = CODE_RE.findall(r.get_data(as_text=True))

    secrets = [wrong, u.password, n.password, u.totp_secret, secret, used_code, enrol_code, *codes,
               *(c.replace("-", "") for c in codes)]
    rows = log_rows(app)
    assert {"login.failure", "totp.failure", "login.success", "logout", "totp.enrol"} <= {r.action for r in rows}
    for row in rows:
        text = " ".join(str(getattr(row, c) or "") for c in ("actor", "action", "object_type", "object_ref",
                                                             "detail", "roles", "outcome"))
        for s in secrets:
            assert s not in text, f"secret found in access-log row {row.seq} ({row.action})"


# --- malformed input and double submits -----------------------------------------------------------------------


@pytest.mark.parametrize("username,password", [
    ("a" * 5000, "whatever whatever"),
    ("ana", "x" * 200_000),
    ("ana' OR '1'='1", "' OR '1'='1"),
    ("", ""),
    ("ana\x00", "pw\x00pw"),
])
def test_malformed_login_input_is_a_plain_failure(app, client, factory, username, password):
    factory.user("ana")
    token = csrf_token(client, "/auth/login")
    r = client.post("/auth/login", data={"csrf_token": token, "username": username, "password": password})
    assert r.status_code == 200
    assert not is_logged_in(client)
    with client.session_transaction() as s:
        assert "auth_pending" not in s


def test_double_submit_of_the_code(app, client, factory):
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    code = u.totp()
    token = csrf_token(client, "/auth/verify")
    first = client.post("/auth/verify", data={"csrf_token": token, "code": code})
    second = client.post("/auth/verify", data={"csrf_token": token, "code": code})
    # The login regenerated the session, so the old form is stale: refused, and nothing else happens.
    assert first.status_code == 302 and second.status_code == 400
    assert is_logged_in(client)
    assert not log_rows(app, "totp.replay")
    with app.app_context():
        assert len(db.session.scalars(select(UserSession).where(UserSession.user_id == u.id)).all()) == 1


def test_pending_state_holds_only_a_random_id(client, factory):
    u = factory.user("nueva", enrolled=False)
    password_step(client, "nueva", u.password, next_url="/auth/account")
    with client.session_transaction() as s:
        assert "_user_id" not in s
        assert set(s["auth_pending"]) == {"id", "next"}
        assert str(u.id) != s["auth_pending"]["id"] and len(s["auth_pending"]["id"]) >= 32


def test_must_change_password_sends_to_account_page(app, client, factory):
    u = factory.user("ana")
    with app.app_context():
        db.session.get(User, u.id).must_change_password = True
        db.session.commit()
    r = full_login(client, u)
    assert r.headers["Location"] == "/auth/account"
