"""Sign-in hardening: throttling by growing delays instead of a lockout a stranger can trigger, the half-done
login kept on the server and used once, `next=` checked before anything is done, and the forced password change
enforced on every page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import LoginThrottle, User
from tests.conftest import csrf_token
from tests.web.test_auth import code_step, is_logged_in, log_rows, password_step, wrong_code

WAIT_RE = re.compile(r"Espere (\d+) segundos")


def wait_shown(response) -> int | None:
    match = WAIT_RE.search(response.get_data(as_text=True))
    return int(match.group(1)) if match else None


# --- throttling, never a lockout ------------------------------------------------------------------------------


def test_a_stranger_cannot_lock_the_user_out(app, client, factory, clock):
    """Forty wrong passwords for ana from forty addresses (her username is predictable) slow her down by seconds
    at most; before, five locked her out for 15 minutes."""
    clock.set("2026-03-02 10:00")
    u = factory.user("ana")
    for i in range(40):
        password_step(app.test_client(), "ana", f"guess number {i} of the stranger", ip=f"203.0.113.{i + 1}")
    assert len(log_rows(app, "login.failure")) == 40  # every failure stays in the access log
    cap = app.config["LOGIN_THROTTLE"]["account"][1].total_seconds()
    r = password_step(client, "ana", u.password, ip="198.51.100.20")
    waited = wait_shown(r)
    assert waited is None or waited <= cap
    clock.advance(seconds=cap + 1)
    r = password_step(client, "ana", u.password, ip="198.51.100.20")
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/verify")


def test_an_office_behind_one_address_is_slowed_never_shut_out(app, client, factory, clock):
    """25 failures from the office's one NAT address (20 used to shut it out for 15 minutes)."""
    clock.set("2026-03-02 10:00")
    u = factory.user("ana")
    for i in range(25):
        password_step(app.test_client(), f"colega{i}", "a mistyped password here", ip="198.51.100.7")
    r = password_step(client, "ana", u.password, ip="198.51.100.7")
    assert r.status_code == 200 and 0 < wait_shown(r) <= 60
    clock.advance(seconds=61)
    r = password_step(client, "ana", u.password, ip="198.51.100.7")
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/verify")


def test_guessing_one_account_from_one_address_meets_growing_delays(app, client, factory, clock):
    clock.set("2026-03-02 10:00")
    u = factory.user("ana")
    waits = []
    for i in range(9):
        r = password_step(client, "ana", f"wrong guess {i} for ana", ip="203.0.113.50")
        assert r.status_code == 200 and "No fue posible iniciar sesión" in r.get_data(as_text=True)
        waits.append(wait_shown(r) or 0)
        # While the delay runs, even the right password is refused unread: the answer tells nothing about it.
        if waits[-1]:
            refused = password_step(client, "ana", u.password, ip="203.0.113.50")
            assert refused.status_code == 200 and wait_shown(refused)
            assert '"throttled"' in log_rows(app, "login.failure")[-1].detail
            clock.advance(seconds=waits[-1])
    assert waits[:2] == [0, 0] and waits == sorted(waits) and waits[-1] >= 32
    assert all('"bad_password"' in row.detail or '"throttled"' in row.detail
               for row in log_rows(app, "login.failure"))
    # After the wait, the right password works and the account starts afresh.
    r = password_step(client, "ana", u.password, ip="203.0.113.50")
    assert r.status_code == 302
    assert code_step(client, u.totp()).status_code == 302 and is_logged_in(client)


def test_wrong_codes_are_throttled_like_wrong_passwords(app, client, factory, clock):
    clock.set("2026-03-02 10:00")
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    shown = [wait_shown(code_step(client, wrong_code(u))) for _ in range(5)]
    assert shown[:2] == [None, None] and shown[-1]
    r = code_step(client, u.totp())  # the right code, during the wait: refused, still pending
    assert r.status_code == 200 and wait_shown(r) and not is_logged_in(client)


def test_throttle_keys_hold_no_typed_name_or_address(app, client, factory):
    factory.user("ana")
    password_step(client, "mi clave secreta 123", "whatever whatever", ip="203.0.113.9")
    with app.app_context():
        keys = db.session.scalars(select(LoginThrottle.key)).all()
    assert keys and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)


# --- the half-done login lives on the server, used once ----------------------------------------------------


def test_replaying_the_pre_login_cookie_fails(app, client, factory):
    """The cookie of the first step, copied before the second step, is worthless once the login completed —
    in this browser or another; before, it could be replayed for 5 minutes with one more code."""
    u = factory.user("ana")
    password_step(client, "ana", u.password)
    copied = client.get_cookie("ruta_session").value
    assert code_step(client, u.totp()).status_code == 302 and is_logged_in(client)
    for thief in (app.test_client(), app.test_client()):
        thief.set_cookie("ruta_session", copied)
        r = code_step(thief, u.totp(1))
        assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
        assert not is_logged_in(thief)
    assert len(log_rows(app, "login.success")) == 1


def test_a_pending_login_is_only_its_own_browsers(app, client, factory):
    ana, eva = factory.user("ana"), factory.user("eva")
    other = app.test_client()
    password_step(client, "ana", ana.password)
    password_step(other, "eva", eva.password)
    r = code_step(other, ana.totp())  # ana's code in eva's half-done login
    assert r.status_code == 200 and not is_logged_in(other)
    assert code_step(client, ana.totp()).status_code == 302 and is_logged_in(client)


# --- next= ---------------------------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "/%0aSet-Cookie:%20x=y", "/cases/%0d%0aLocation:%20https://evil.example", "/%0d", "//evil.example/phish",
    "https://evil.example/", "/\\evil.example", "%5C%5Cevil.example", "/%09/evil.example", "javascript:alert(1)",
    "/%00", "/" + "a" * 5000, "/%E2%80%A8",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT, ids=range(len(HOSTILE_NEXT)))
def test_hostile_next_is_dropped_before_anything_is_done(app, client, factory, target):
    u = factory.user("ana")
    assert client.get(f"/auth/login?next={target}").status_code == 200
    r = password_step(client, "ana", u.password, next_url=target)
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/verify")
    r = code_step(client, u.totp())
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert is_logged_in(client)


def test_a_safe_next_is_kept(client, factory):
    u = factory.user("ana")
    password_step(client, "ana", u.password, next_url="/cases/?q=1")
    assert code_step(client, u.totp()).headers["Location"] == "/cases/?q=1"


# --- the forced password change --------------------------------------------------------------------------------

PAGES = ["/", "/cases/", "/cases/new", "/referrals/", "/route/agenda", "/route/shelters", "/indicators/",
         "/auth/verify"]


def must_change(app, user_id):
    with app.app_context():
        db.session.get(User, user_id).must_change_password = True
        db.session.commit()


@pytest.mark.parametrize("page", PAGES)
def test_forced_password_change_holds_on_every_page(app, client, factory, login_as, page):
    u = factory.user("ana")
    must_change(app, u.id)
    login_as(u)
    r = client.get(page)
    assert r.status_code == 302 and r.headers["Location"] == "/auth/account"
    account = client.get("/auth/account")
    assert account.status_code == 200 and 'id="must-change-password"' in account.get_data(as_text=True)


def test_forced_password_change_refuses_posts_elsewhere_and_ends_when_done(app, client, factory, login_as):
    u = factory.user("ana")
    must_change(app, u.id)
    login_as(u)
    token = csrf_token(client, "/auth/account")
    r = client.post("/cases/search", data={"csrf_token": token, "document_number": "123"})
    assert r.status_code == 302 and r.headers["Location"] == "/auth/account"
    new = "una tarde lluviosa en el malecón 7"
    r = client.post("/auth/account/password", data={"csrf_token": token, "current_password": u.password,
                                                     "new_password": new, "confirm_password": new})
    assert r.status_code == 302
    assert client.get("/").status_code == 200 and client.get("/cases/").status_code == 200


def test_admin_password_reset_forces_a_change_at_next_sign_in(app, client, factory, runner):
    u = factory.user("ana")
    new = "sesenta loros azules cantan bajo la lluvia"
    r = runner.invoke(args=["users", "reset-password", "ana"], input=new + "\n")
    assert r.exit_code == 0, r.output
    password_step(client, "ana", new)
    r = code_step(client, u.totp())
    assert r.headers["Location"] == "/auth/account"
    assert client.get("/cases/").headers["Location"] == "/auth/account"
    assert password_step(app.test_client(), "ana", u.password).status_code == 200  # the old one is gone
