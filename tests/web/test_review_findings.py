"""What an outside review of the hardening found, each as the attack it tried (they passed before the fix):

- a sole admin made a second admin alone and approved her own case-role request with it;
- a stranger failing once every 30 s from a dozen addresses kept the real user from ever signing in;
- someone with the password could guess second-factor codes forever (2,880 a day), spread over addresses;
- a password that Unicode normalisation changes cost two Argon2 runs for an existing account, one for an unknown one;
- API tokens survived their entity's deactivation and worked again when it was reactivated;
- the throttle told deactivated accounts apart (their failures were never counted).
"""
from __future__ import annotations

import re

from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import User
from tests.api.test_api_tokens import api, issue
from tests.conftest import csrf_token
from tests.web.test_auth import code_step, full_login, password_step, wrong_code
from tests.web.test_four_eyes import _client, _create, _edit, _requests, _roles
from tests.web.test_login_hardening import wait_shown

STRANGER_ADDRESSES = [f"203.0.113.{i}" for i in range(1, 13)]


# --- four eyes: no admin is made alone -----------------------------------------------------------------------


def test_a_sole_admin_cannot_make_a_second_admin_alone(app, login_as, factory):
    factory.entity("CTG", "Cartagena")
    root = factory.user("root", roles=("admin",), entity="CTG")
    factory.user("ana", roles=("social_worker",), entity="CTG")
    mine = _client(app, login_as, root)
    r = _create(mine, "root.alt", ["admin"])
    assert r.status_code == 409 and "segunda administradora" in r.get_data(as_text=True)
    assert _roles(app, "root.alt") is None  # nothing was created
    r = _edit(mine, "ana", roles=["admin", "social_worker"])  # promoting an existing account: the same rule
    assert r.status_code == 409 and "admin" not in _roles(app, "ana")[0]
    assert _requests(app) == []


def test_making_an_admin_waits_for_a_second_admin(app, login_as, factory):
    factory.entity("CTG", "Cartagena")
    root = factory.user("root", roles=("admin",), entity="CTG")
    factory.user("root2", roles=("admin",), entity="CTG")
    factory.user("eva", roles=("coordinator",), entity="CTG")
    mine = _client(app, login_as, root)
    assert _edit(mine, "eva", roles=["admin", "coordinator"]).status_code == 302
    assert "admin" not in _roles(app, "eva")[0]  # not yet: a request waits
    ((_id, user, roles, *_rest),) = _requests(app)
    assert user == "eva" and "admin" in roles


def test_the_command_line_operator_still_sets_up_admins(app, runner, factory):
    factory.entity("CTG", "Cartagena")
    result = runner.invoke(args=["users", "create", "root", "--entity", "CTG", "--role", "admin"],
                           input="una frase de paso bastante larga 4417\n" * 2)
    assert result.exit_code == 0, result.output
    assert _roles(app, "root")[0] == {"admin"}


def test_an_admin_cannot_read_cases_through_an_account_she_made(app, login_as, factory):
    """The review's seventh finding: she made a social worker whose first password she knew, signed in as it and
    read a victim's identity. Now a case role given by an admin waits for a second admin."""
    factory.entity("CTG", "Cartagena")
    factory.entity("BOG", "Bogotá")
    root = factory.user("root", roles=("admin",), entity="CTG")
    mine = _client(app, login_as, root)
    r = _create(mine, "visitante.bog", ["social_worker"], entity="BOG")
    assert r.status_code == 409 and _roles(app, "visitante.bog") is None  # alone: nothing at all
    factory.user("bea", roles=("admin",), entity="CTG")
    assert _create(mine, "visitante.bog", ["social_worker"], entity="BOG").status_code == 302
    assert _roles(app, "visitante.bog") == (set(), "BOG")  # no case role until bea approves
    with app.app_context():
        made = db.session.scalar(select(User).where(User.username == "visitante.bog"))
        made.must_change_password = False  # as if she had already chosen its password
        db.session.commit()
        from tests.conftest import TestUser

        puppet = TestUser(made.id, "visitante.bog", "x", None, "BOG", ())
    assert _client(app, login_as, puppet).get("/cases/").status_code == 403


# --- a stranger never keeps her out; codes have a ceiling ------------------------------------------------------


def _device_cookie(client) -> str:
    cookie = client.get_cookie("ruta_device", path="/auth/")
    assert cookie is not None, "a full sign-in gives the browser its known-device cookie"
    return cookie.value


def test_a_stranger_failing_everywhere_never_keeps_her_own_browser_out(app, factory, clock):
    clock.set("2026-03-02 10:00")
    ana = factory.user("ana")
    own = app.test_client()
    assert full_login(own, ana).status_code == 302
    device = _device_cookie(own)
    stranger, n = app.test_client(), 0
    for _ in range(15):  # past every free try of the account and the addresses
        password_step(stranger, "ana", f"adivina {n}", ip=STRANGER_ADDRESSES[n % 12])
        n += 1
    accepted = 0
    for _cycle in range(10):
        r = password_step(stranger, "ana", f"adivina {n}", ip=STRANGER_ADDRESSES[n % 12])
        n += 1
        assert wait_shown(r) is not None  # the stranger is slowed down
        clock.advance(seconds=5)
        mine = app.test_client()
        mine.set_cookie("ruta_device", device, path="/auth/")
        r = password_step(mine, "ana", ana.password, ip="198.51.100.20")
        accepted += r.status_code == 302 and r.headers["Location"].endswith("/auth/verify")
        clock.advance(seconds=25)
    assert accepted == 10
    # without the cookie (a new browser) the account-wide delay still applies: that is what stops spread guessing
    password_step(stranger, "ana", f"adivina {n}", ip=STRANGER_ADDRESSES[n % 12])
    r = password_step(app.test_client(), "ana", ana.password, ip="198.51.100.21")
    assert wait_shown(r) is not None


def test_a_forged_or_other_accounts_device_cookie_counts_for_nothing(app, factory, clock):
    clock.set("2026-03-02 10:00")
    ana, luz = factory.user("ana"), factory.user("luz")
    own = app.test_client()
    full_login(own, luz)
    luz_device = _device_cookie(own)
    for value in (luz_device, luz_device[:-3] + "xyz", "x" * 40):
        for n in range(15):
            password_step(app.test_client(), "ana", f"adivina {n}", ip=STRANGER_ADDRESSES[n % 12])
        c = app.test_client()
        c.set_cookie("ruta_device", value, path="/auth/")
        assert wait_shown(password_step(c, "ana", ana.password, ip="198.51.100.20")) is not None
        clock.advance(minutes=30)


def test_second_factor_codes_have_a_ceiling_until_an_admin_resets_it(app, factory, clock, runner):
    clock.set("2026-03-02 10:00")
    ana = factory.user("ana")
    limit = app.config["LOGIN_MAX_CODE_FAILURES"]
    for n in range(limit):  # one guess every 6 minutes (past every delay), each from a fresh half-done login
        attacker = app.test_client()
        assert password_step(attacker, "ana", ana.password, ip=STRANGER_ADDRESSES[n % 12]).status_code == 302
        code_step(attacker, wrong_code(ana))
        clock.advance(minutes=6)
    # the ceiling: even the right code is not looked at any more
    c = app.test_client()
    assert password_step(c, "ana", ana.password, ip="198.51.100.20").status_code == 302
    r = code_step(c, ana.totp())
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/login")
    assert not c.get("/").status_code == 200 or "Cerrar sesión" not in c.get("/").get_data(as_text=True)
    # an admin's second-factor reset makes it answer again (she enrols anew)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "ana"))
        version = user.version
    from caseapp.services import accounts

    with app.test_request_context():
        accounts.reset_totp(accounts.CLI, "ana", version=version)
    c = app.test_client()
    r = password_step(c, "ana", ana.password, ip="198.51.100.20")
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/enrol")


# --- no oracle of which accounts exist or are inactive ----------------------------------------------------------


def test_existing_and_unknown_accounts_cost_the_same_hashing(app, factory, monkeypatch):
    factory.user("tsocial.ctg")
    runs = []
    real = crypto.verify_password
    monkeypatch.setattr(crypto, "verify_password", lambda stored, pw: runs.append(1) or real(stored, pw))
    from caseapp.services.accounts import login

    password = "\ufb01" * 14  # the "fi" ligature: Unicode normalisation changes it
    counts = {}
    with app.test_request_context():
        for name in ("tsocial.ctg", "nadie.ctg"):
            runs.clear()
            try:
                login.authenticate(name, password, None)
            except login.LoginFailed:
                pass
            counts[name] = len(runs)
    assert counts["tsocial.ctg"] == counts["nadie.ctg"] == 2


def test_inactive_accounts_are_throttled_like_any_other(app, factory, clock):
    clock.set("2026-03-02 10:00")
    factory.user("ana")
    factory.user("old", active=False)
    seen = {}
    for name in ("ana", "old", "nobody.here"):
        c = app.test_client()
        seen[name] = [wait_shown(password_step(c, name, f"mala {i} clave", ip="203.0.113.77")) for i in range(5)]
        clock.advance(minutes=20)
    assert seen["ana"] == seen["old"] == seen["nobody.here"]


# --- tokens end with their entity ---------------------------------------------------------------------------------


def _entity_action(client, code, verb):
    page = client.get(f"/admin/entities/{code}").get_data(as_text=True)
    version = (re.search(r'name="version"[^>]*value="(\d+)"', page)
               or re.search(r'value="(\d+)"[^>]*name="version"', page)).group(1)
    return client.post(f"/admin/entities/{code}/{verb}",
                       data={"csrf_token": csrf_token(client, f"/admin/entities/{code}"), "version": version})


def test_a_token_does_not_come_back_with_its_entity(app, login_as, factory, client):
    factory.entity("CTG")
    factory.entity("BOG")
    root = factory.user("root", roles=("admin",), entity="BOG")
    factory.user("ana", roles=("social_worker",), entity="CTG")
    token = issue(app, "ana")
    assert api(client, token).status_code == 200
    admin = _client(app, login_as, root)
    assert _entity_action(admin, "CTG", "deactivate").status_code == 302
    assert _entity_action(admin, "CTG", "reactivate").status_code == 302
    assert api(client, token).status_code == 401
