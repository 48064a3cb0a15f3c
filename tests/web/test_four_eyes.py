"""Four eyes on admins' case access: an account that is or was an admin gets a case role or another entity only
when a second admin approves; nobody approves her own request or a change to her own account; one admin alone
cannot do it at all; and every case role given to anyone raises an alert the auditors see, naming who gave it.

The rule (accounts.administration.four_eyes_required) is reached by the admin screens (edit and create), the
`flask users create` command and the demo loader; the tests run over each of them.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from caseapp.errors import Forbidden
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.services import accounts as service
from tests.conftest import csrf_token

NEW_PASSWORD = "mariposas amarillas sobre Aracataca 1967"  # noqa: S105 - test password
GRANT_ALERT = "Rol de casos otorgado a una cuenta"


@pytest.fixture
def root(factory):
    factory.entity("CTG", "Secretaría del Interior de Cartagena")
    factory.entity("BOG", "Secretaría Distrital de Gobierno")
    return factory.user("root", roles=("admin",), entity="CTG")


@pytest.fixture
def bea(factory, root):
    return factory.user("bea", roles=("admin",), entity="CTG")


def _client(app, login_as, user):
    c = app.test_client()
    login_as(user, c)
    return c


def _version(client, username) -> str:
    page = client.get(f"/admin/users/{username}").get_data(as_text=True)
    match = re.search(r'name="version"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="version"', page)
    return match.group(1)


def _edit(client, username, *, roles, entity="CTG", display_name=None):
    data = {"csrf_token": csrf_token(client, f"/admin/users/{username}"), "version": _version(client, username),
            "display_name": display_name or username.title(), "entity": entity, "roles": roles}
    return client.post(f"/admin/users/{username}", data=data)


def _create(client, username, roles, entity="CTG"):
    return client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": username, "display_name": "",
        "entity": entity, "roles": roles, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})


def _roles(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return None if user is None else (set(user.roles), user.entity.code)


def _requests(app):
    from caseapp.models.accounts import AccountChangeRequest

    with app.app_context():
        rows = db.session.scalars(select(AccountChangeRequest).order_by(AccountChangeRequest.id))
        return [(r.id, r.user.username, r.role_list, r.entity.code, r.status, r.requested_by, r.decided_by)
                for r in rows]


def _actions(app, *actions):
    with app.app_context():
        return [(e.action, e.actor, e.object_ref) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq))]


def _approve(client, request_id):
    return client.post(f"/admin/requests/{request_id}/approve",
                       data={"csrf_token": csrf_token(client, "/admin/requests")})


# --- an admin alone gets no case role, on every path ----------------------------------------------------------


@pytest.mark.parametrize("path", ["web_update", "web_create", "cli_create"])
def test_an_admin_alone_gets_no_case_role(app, login_as, runner, root, bea, path):
    client = _client(app, login_as, root)
    if path == "web_update":
        response = _edit(client, "root", roles=["admin", "social_worker"])
        assert response.status_code == 302
        assert _roles(app, "root") == ({"admin"}, "CTG")
        assert "segunda administradora" in client.get(response.headers["Location"]).get_data(as_text=True)
        assert [r[1:] for r in _requests(app)] == [("root", ["admin", "social_worker"], "CTG", "pending", "root",
                                                    None)]
    elif path == "web_create":
        response = _create(client, "root2", ["admin", "social_worker"], entity="BOG")
        assert response.status_code == 302  # the account exists with no role; its roles wait for a second admin
        assert "segunda administradora" in client.get(response.headers["Location"]).get_data(as_text=True)
        assert _roles(app, "root2") == (set(), "BOG")
        assert [r[1:] for r in _requests(app)] == [("root2", ["admin", "social_worker"], "BOG", "pending", "root",
                                                    None)]
    else:
        result = runner.invoke(args=["users", "create", "root2", "--entity", "BOG", "--role", "admin",
                                     "--role", "social_worker"], input=NEW_PASSWORD + "\n")
        assert result.exit_code != 0 and "segunda administradora" in result.output
        assert _roles(app, "root2") is None
    assert client.get("/cases/").status_code == 403  # and so no case data
    assert not _actions(app, "admin.case_role.grant")


def test_the_change_applies_when_a_second_admin_approves(app, login_as, root, bea):
    mine, hers = _client(app, login_as, root), _client(app, login_as, bea)
    _edit(mine, "root", roles=["admin", "lawyer"], entity="BOG")
    ((request_id, *_rest),) = _requests(app)
    page = mine.get("/admin/requests").get_data(as_text=True)
    assert f"/admin/requests/{request_id}/approve" not in page  # not offered to her...
    assert _approve(mine, request_id).status_code == 403  # ...nor accepted
    assert _roles(app, "root") == ({"admin"}, "CTG")
    assert f"/admin/requests/{request_id}/approve" in hers.get("/admin/requests").get_data(as_text=True)
    assert _approve(hers, request_id).status_code == 302
    assert _roles(app, "root") == ({"admin", "lawyer"}, "BOG")
    assert _requests(app)[0][4:] == ("approved", "root", "bea")
    assert _actions(app, "admin.user.change.request", "admin.user.change.approve", "admin.case_role.grant") == [
        ("admin.user.change.request", "root", "root"), ("admin.user.change.approve", "bea", "root"),
        ("admin.case_role.grant", "bea", "root")]
    assert _approve(hers, request_id).status_code == 409  # decided once


def test_nobody_approves_a_change_to_her_own_account(app, login_as, factory, root, bea):
    carla = factory.user("carla", roles=("admin",), entity="BOG")
    hers, mine = _client(app, login_as, bea), _client(app, login_as, root)
    assert _edit(hers, "root", roles=["admin", "social_worker"]).status_code == 302  # bea asks for root...
    ((request_id, *_rest),) = _requests(app)
    assert _approve(mine, request_id).status_code == 403  # ...and root may not say yes to herself
    assert _roles(app, "root") == ({"admin"}, "CTG")
    assert _approve(_client(app, login_as, carla), request_id).status_code == 302  # a third admin may
    assert _roles(app, "root") == ({"admin", "social_worker"}, "CTG")


def test_asking_for_another_admin_needs_a_third_who_could_approve(app, login_as, root, bea):
    response = _edit(_client(app, login_as, bea), "root", roles=["admin", "social_worker"])
    assert response.status_code == 409 and _requests(app) == []


def test_one_admin_cannot_do_it_at_all(app, login_as, root, factory):
    factory.user("ana", roles=("social_worker",), entity="CTG")
    client = _client(app, login_as, root)
    response = _edit(client, "root", roles=["admin", "social_worker"])
    assert response.status_code == 409
    assert "no tiene otra administradora" in response.get_data(as_text=True)
    assert _requests(app) == [] and _roles(app, "root") == ({"admin"}, "CTG")
    assert _roles(app, "ana") == ({"social_worker"}, "CTG")


def test_an_account_that_was_an_admin_still_needs_four_eyes(app, login_as, root, bea):
    # Made an admin through the service (as the screens do), then demoted: admin_since stays.
    with app.test_request_context():
        made = service.create_user(service.CLI, username="exadmin", entity_code="CTG", roles=["admin"],
                                   password=NEW_PASSWORD)
        assert made.admin_since is not None
        db.session.rollback()
    client = _client(app, login_as, root)
    assert _edit(client, "exadmin", roles=["coordinator"]).status_code == 302
    assert _roles(app, "exadmin") == ({"coordinator"}, "CTG")
    _edit(client, "exadmin", roles=["coordinator", "social_worker"])  # a case role...
    _edit(client, "exadmin", roles=["coordinator"], entity="BOG")  # ...or another entity: both wait
    assert _roles(app, "exadmin") == ({"coordinator"}, "CTG")
    assert [r[2:5] for r in _requests(app)] == [(["coordinator", "social_worker"], "CTG", "superseded"),
                                                (["coordinator"], "BOG", "pending")]


@pytest.mark.parametrize("request_id", ["0", "99999999999999999999999", "-1"])
def test_a_hostile_request_id_is_a_clean_404(app, login_as, root, bea, request_id):
    client = _client(app, login_as, bea)
    for verb in ("approve", "reject"):
        response = client.post(f"/admin/requests/{request_id}/{verb}",
                               data={"csrf_token": csrf_token(client, "/admin/requests")})
        assert response.status_code == 404


def test_a_stale_request_is_not_applied(app, login_as, root, bea):
    mine, hers = _client(app, login_as, root), _client(app, login_as, bea)
    _edit(mine, "root", roles=["admin", "social_worker"])
    ((request_id, *_rest),) = _requests(app)
    assert _edit(mine, "root", roles=["admin"], display_name="Root Renamed").status_code == 302
    response = _approve(hers, request_id)
    assert response.status_code == 409 and "solicítelo de nuevo" in response.get_data(as_text=True)
    assert _roles(app, "root") == ({"admin"}, "CTG")


def test_the_setup_flag_is_the_command_lines_only(app, root, ctx):
    admin = db.session.get(User, root.id)
    with pytest.raises(Forbidden):
        service.create_user(admin, username="both", entity_code="CTG", roles=["admin", "social_worker"],
                            password=NEW_PASSWORD, bootstrap=True)
    assert db.session.scalar(select(User).where(User.username == "both")) is None
    # The setup from the command line may (a small office's first account), and it is still alerted.
    both = service.create_user(service.CLI, username="both", entity_code="CTG", roles=["admin", "social_worker"],
                               password=NEW_PASSWORD, bootstrap=True)
    assert both.roles == {"admin", "social_worker"}
    grants = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.case_role.grant"))
    assert [(e.actor, e.object_ref) for e in grants] == [("cli", "both")]


# --- every case role given raises an alert the auditors see ---------------------------------------------------


@pytest.mark.parametrize("path", ["web_create", "web_update", "cli_create", "demo", "approval"])
def test_every_case_role_given_raises_an_alert_naming_who_gave_it(app, login_as, runner, factory, root, bea,
                                                                  path):
    auditor = _client(app, login_as, factory.user("audi", roles=("auditor",), entity="CTG"))
    assert GRANT_ALERT not in auditor.get("/audit/alerts").get_data(as_text=True)
    client = _client(app, login_as, root)
    granter, account = "root", "nueva"
    if path in ("web_create", "web_update"):  # given only when a second admin approves: she is named
        if path == "web_create":
            assert _create(client, "nueva", ["social_worker"]).status_code == 302
        else:
            factory.user("nueva", roles=("coordinator",), entity="CTG")
            assert _edit(client, "nueva", roles=["coordinator", "lawyer"]).status_code == 302
        assert GRANT_ALERT not in auditor.get("/audit/alerts").get_data(as_text=True)
        granter = "bea"
        ((request_id, *_rest),) = _requests(app)
        assert _approve(_client(app, login_as, bea), request_id).status_code == 302
    elif path == "cli_create":
        granter = "cli"
        assert runner.invoke(args=["users", "create", "nueva", "--entity", "CTG", "--role", "lawyer"],
                             input=NEW_PASSWORD + "\n").exit_code == 0
    elif path == "demo":
        from caseapp.demo import accounts as demo

        granter, account = "cli", "tsocial.ctg"
        with app.test_request_context():
            demo.load(lambda *_a: None)
    else:
        granter, account = "bea", "root"
        _edit(client, "root", roles=["admin", "social_worker"])
        ((request_id, *_rest),) = _requests(app)
        _approve(_client(app, login_as, bea), request_id)
    html = auditor.get("/audit/alerts").get_data(as_text=True)
    assert GRANT_ALERT in html
    rows = [row for row in html.split("<tr")[1:] if GRANT_ALERT in row and f"Cuenta {account}" in row]
    assert rows and f"<td>{granter}</td>" in rows[0]


def test_a_case_role_for_anyone_waits_for_a_second_admin(app, login_as, root, bea, factory):
    """An admin who gave case roles alone could make herself an account with one (she sets its first password):
    so a case role for any account, or a case-role account moved to another entity, waits for a second admin."""
    factory.user("coord", roles=("coordinator",), entity="CTG")
    factory.user("ana", roles=("social_worker",), entity="CTG")
    client = _client(app, login_as, root)
    assert _edit(client, "coord", roles=["coordinator", "social_worker"]).status_code == 302
    assert _roles(app, "coord") == ({"coordinator"}, "CTG")
    assert _edit(client, "ana", roles=["social_worker"], entity="BOG").status_code == 302
    assert _roles(app, "ana") == ({"social_worker"}, "CTG")
    assert [(r[1], r[4]) for r in _requests(app)] == [("coord", "pending"), ("ana", "pending")]
    hers = _client(app, login_as, bea)
    for request_id, *_rest in _requests(app):
        assert _approve(hers, request_id).status_code == 302
    assert _roles(app, "coord") == ({"coordinator", "social_worker"}, "CTG")
    assert _roles(app, "ana") == ({"social_worker"}, "BOG")


def test_taking_a_case_role_away_or_other_roles_need_one_admin(app, login_as, root, factory):
    factory.user("ana", roles=("social_worker", "lawyer"), entity="CTG")
    client = _client(app, login_as, root)
    assert _edit(client, "ana", roles=["social_worker", "coordinator"]).status_code == 302
    assert _roles(app, "ana") == ({"social_worker", "coordinator"}, "CTG")
    assert _requests(app) == []


def test_the_migration_remembers_who_is_an_admin(empty_database_url, instance_path):
    from flask_migrate import upgrade
    from sqlalchemy import text

    import config
    from caseapp import create_app

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        upgrade(revision="0006")
        now = "2026-01-01 00:00:00"
        db.session.execute(text("INSERT INTO entities (id, code, name, kind, active, version, created_at, updated_at)"
                                " VALUES (1, 'CTG', 'Cartagena', 'government', :t, 1, :n, :n)"), {"t": True, "n": now})
        for uid, name, role in ((1, "root", "admin"), (2, "ana", "social_worker"), (3, "exroot", "coordinator")):
            db.session.execute(text(
                "INSERT INTO users (id, uid, username, display_name, entity_id, active, failed_logins, "
                "must_change_password, version, created_at, updated_at) VALUES (:i, :u, :name, :name, 1, :t, 0, :f, "
                "1, :n, :n)"), {"i": uid, "u": f"u{uid}", "name": name, "t": True, "f": False, "n": now})
            db.session.execute(text("INSERT INTO user_roles (user_id, role) VALUES (:i, :r)"), {"i": uid, "r": role})
        # exroot was created an admin and demoted before the upgrade: only the access log remembers it.
        db.session.execute(text(
            "INSERT INTO audit_events (seq, at, actor, action, object_type, object_ref, outcome, detail, prev_mac, mac)"
            " VALUES (1, :n, 'cli', 'admin.user.create', 'user', 'exroot', 'allowed', :d, :z, :z)"),
            {"n": now, "d": '{"entity": "CTG", "roles": ["admin"]}', "z": "0" * 64})
        db.session.commit()
        upgrade()
        since = dict(db.session.execute(text("SELECT username, admin_since FROM users")).all())
        assert since["root"] is not None and since["exroot"] is not None and since["ana"] is None
        db.session.remove()
        db.engine.dispose()
