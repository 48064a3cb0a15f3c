"""The account page: language, password change, open sessions, new recovery codes."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import RecoveryCode, User, UserSession
from tests.conftest import csrf_token
from tests.web.test_auth import (
    CODE_RE,
    code_step,
    get_user,
    is_logged_in,
    log_rows,
    password_step,
    wrong_code,
)

NEW_PASSWORD = "una tarde lluviosa en el malecón 7"


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/auth/account"), **data})


def test_account_requires_login(client):
    r = client.get("/auth/account")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_account_page_lists_live_sessions(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    login_as(u, app.test_client())
    html = client.get("/auth/account").get_data(as_text=True)
    assert html.count("Esta sesión") == 2  # hidden column header + the badge of the current session
    assert html.count("127.0.0.1") == 2
    assert "Cerrar sesión en todos los dispositivos" in html


def _stale_sessions(app, user_id):
    """Three sessions nobody can use any more, from an address no live one has: one idle past its 30 minutes
    (the browser closed without signing out), one past its 12 hours though seen a minute ago, one ended."""
    from datetime import timedelta

    from caseapp import crypto
    from caseapp.timeutil import utcnow

    now = utcnow()
    with app.app_context():
        for created, seen, ended in [(now - timedelta(hours=2), now - timedelta(minutes=31), None),
                                     (now - timedelta(hours=13), now - timedelta(minutes=1), None),
                                     (now - timedelta(minutes=5), now - timedelta(minutes=5), now)]:
            db.session.add(UserSession(user_id=user_id, token_hash=crypto.hash_token(crypto.new_token()),
                                       created_at=created, last_seen_at=seen, ended_at=ended, ip="10.9.9.9"))
        db.session.commit()


def test_account_and_admin_pages_count_only_sessions_she_could_use(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    login_as(u, app.test_client())
    _stale_sessions(app, u.id)
    html = client.get("/auth/account").get_data(as_text=True)
    assert html.count("127.0.0.1") == 2 and "10.9.9.9" not in html
    admin = factory.user("admin_x", roles=("admin",))
    admin_client = login_as(admin, app.test_client())
    page = admin_client.get("/admin/users/ana").get_data(as_text=True)
    assert re.search(r"Sesiones abiertas</dt><dd>2</dd>", page)


def test_password_change_counts_the_other_live_session_and_ends_the_stale_ones(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    other = login_as(u, app.test_client())
    _stale_sessions(app, u.id)
    r = post(client, "/auth/account/password", current_password=u.password, new_password=NEW_PASSWORD,
             confirm_password=NEW_PASSWORD)
    assert r.status_code == 302
    assert "Sesiones cerradas en otros dispositivos: 1." in client.get("/auth/account").get_data(as_text=True)
    assert is_logged_in(client) and not is_logged_in(other)
    with app.app_context():
        unended = db.session.scalars(select(UserSession).where(UserSession.user_id == u.id,
                                                               UserSession.ended_at.is_(None))).all()
    assert len(unended) == 1  # this one; the other device's and the two stale ones are ended
    assert json.loads(log_rows(app, "password.change")[0].detail) == {"other_sessions_ended": 1}


def test_language_preference(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    assert "Mi cuenta" in client.get("/auth/account").get_data(as_text=True)
    r = post(client, "/auth/account/language", locale="en")
    assert r.status_code == 302
    assert get_user(app, u.id).locale == "en"
    assert "My account" in client.get("/auth/account").get_data(as_text=True)
    r = post(client, "/auth/account/language", locale="fr")
    assert r.status_code == 422 and get_user(app, u.id).locale == "en"


def test_change_password(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    other = login_as(u, app.test_client())
    r = post(client, "/auth/account/password", current_password=u.password, new_password=NEW_PASSWORD,
             confirm_password=NEW_PASSWORD)
    assert r.status_code == 302
    assert is_logged_in(client) and not is_logged_in(other)  # other devices are signed out
    rows = log_rows(app, "password.change")
    assert len(rows) == 1 and rows[0].outcome == "allowed" and NEW_PASSWORD not in (rows[0].detail or "")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    assert password_step(client, "ana", u.password).status_code == 200  # the old one no longer works
    assert password_step(client, "ana", NEW_PASSWORD).status_code == 302


def test_change_password_refusals_tied_to_fields(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    before = get_user(app, u.id).password_hash

    r = post(client, "/auth/account/password", current_password="not my password at all",
             new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "La contraseña actual no es correcta." in html
    assert 'id="current_password-error"' in html
    assert log_rows(app, "password.change")[-1].outcome == "denied"

    r = post(client, "/auth/account/password", current_password=u.password, new_password="corto",
             confirm_password="corto")
    assert r.status_code == 422 and "Use al menos 12 caracteres" in r.get_data(as_text=True)

    r = post(client, "/auth/account/password", current_password=u.password, new_password="password1234",
             confirm_password="password1234")
    assert "lista de contraseñas comunes" in r.get_data(as_text=True)

    r = post(client, "/auth/account/password", current_password=u.password, new_password=NEW_PASSWORD,
             confirm_password=NEW_PASSWORD + "x")
    assert 'id="confirm_password-error"' in r.get_data(as_text=True)

    r = post(client, "/auth/account/password", current_password=u.password, new_password=u.password,
             confirm_password=u.password)
    assert "diferente de la actual" in r.get_data(as_text=True)
    assert get_user(app, u.id).password_hash == before


def test_regenerate_recovery_codes(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    r = post(client, "/auth/account/recovery-codes", regen_code=wrong_code(u))
    assert r.status_code == 422 and 'id="regen_code-error"' in r.get_data(as_text=True)
    r = post(client, "/auth/account/recovery-codes", regen_code=u.totp())
    assert r.status_code == 200
    first = CODE_RE.findall(r.get_data(as_text=True))
    assert len(first) == 10
    # The same TOTP code cannot be used twice.
    r = post(client, "/auth/account/recovery-codes", regen_code=u.totp())
    assert r.status_code == 422
    r = post(client, "/auth/account/recovery-codes", regen_code=u.totp(1))
    second = CODE_RE.findall(r.get_data(as_text=True))
    assert len(second) == 10 and not set(first) & set(second)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(RecoveryCode)
                                 .where(RecoveryCode.user_id == u.id)) == 10
    assert len(log_rows(app, "recovery_code.regenerate")) == 2
    # An old code no longer signs in; a new one does.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/account")})
    password_step(client, "ana", u.password)
    assert code_step(client, first[0], path="/auth/recovery", field="recovery_code").status_code == 200
    assert code_step(client, second[0], path="/auth/recovery", field="recovery_code").status_code == 302
    flashed = client.get("/").get_data(as_text=True)
    assert re.search(r"Le quedan 9 códigos", flashed)


def test_account_forms_need_csrf(app, client, factory, login_as):
    u = factory.user("ana")
    login_as(u)
    for path in ("/auth/account/language", "/auth/account/password", "/auth/account/recovery-codes",
                 "/auth/account/logout-everywhere"):
        assert client.post(path, data={"locale": "en"}).status_code == 400
    assert get_user(app, u.id).locale is None
    with app.app_context():
        assert db.session.scalar(select(UserSession).where(UserSession.user_id == u.id)).ended_at is None
        assert db.session.get(User, u.id).active
