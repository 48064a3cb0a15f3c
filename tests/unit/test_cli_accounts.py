"""`flask entities ...` and `flask users ...`: the contracts scripts rely on, and their refusals."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, Entity, RecoveryCode, User, UserSession
from caseapp.models.audit import AuditEvent

PASSWORD = "guacamayas vuelan sobre el río Magdalena 88"  # noqa: S105 - test password


def _events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _user(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            return None
        return {"active": user.active, "roles": set(user.roles), "entity": user.entity.code,
                "hash": user.password_hash, "enrolled": user.totp_enrolled_at is not None, "id": user.id}


@pytest.fixture
def ctg(runner):
    r = runner.invoke(args=["entities", "create", "CTG", "Secretaría del Interior de Cartagena", "--kind",
                            "government"])
    assert r.exit_code == 0, r.output
    return "CTG"


# --- entities ---------------------------------------------------------------------------------------------


def test_entities_create(app, runner):
    r = runner.invoke(args=["entities", "create", "FGN", "Fiscalía General de la Nación", "--kind", "justice"])
    assert r.exit_code == 0, r.output
    assert "FGN" in r.output
    with app.app_context():
        entity = db.session.scalar(select(Entity).where(Entity.code == "FGN"))
        assert entity.name == "Fiscalía General de la Nación" and entity.kind == "justice" and entity.active
    (event,) = _events(app, "admin.entity.create")
    assert event.actor == "cli" and event.object_ref == "FGN"


def test_entities_create_duplicate_code_fails(app, runner, ctg):
    r = runner.invoke(args=["entities", "create", "CTG", "Otra", "--kind", "government"])
    assert r.exit_code != 0
    assert "CTG" in r.output and "en uso" in r.output
    with app.app_context():
        assert db.session.scalar(select(Entity.name).where(Entity.code == "CTG")) != "Otra"


@pytest.mark.parametrize("args", [
    ["entities", "create", "NEW", "Nueva", "--kind", "church"],
    ["entities", "create", "NEW", "Nueva"],
    ["entities", "create", "N-1", "Nueva", "--kind", "ngo"],
    ["entities", "create", "NEW", "   ", "--kind", "ngo"],
])
def test_entities_create_invalid_input_fails(app, runner, args):
    r = runner.invoke(args=args)
    assert r.exit_code != 0
    assert r.output.strip()
    with app.app_context():
        assert db.session.scalar(select(Entity).where(Entity.code.in_(["NEW", "N-1"]))) is None


# --- users create -----------------------------------------------------------------------------------------


def test_users_create_reads_the_password_from_stdin(app, runner, ctg):
    r = runner.invoke(args=["users", "create", "Ana.Social", "--entity", "ctg", "--role", "social_worker",
                            "--role", "lawyer"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    user = _user(app, "ana.social")
    assert user["active"] and user["roles"] == {"social_worker", "lawyer"} and user["entity"] == "CTG"
    assert not user["enrolled"]
    assert PASSWORD not in user["hash"]
    with app.app_context():
        from caseapp.services.accounts import passwords

        assert passwords.verify(user["hash"], PASSWORD)
    (event,) = _events(app, "admin.user.create")
    assert event.actor == "cli" and event.object_ref == "ana.social"
    assert PASSWORD not in (event.detail or "")
    assert PASSWORD not in r.output


@pytest.mark.parametrize("args, input_, expect", [
    (["--entity", "NOPE", "--role", "lawyer"], PASSWORD, "NOPE"),
    (["--entity", "CTG", "--role", "wizard"], PASSWORD, "wizard"),
    (["--entity", "CTG", "--role", "lawyer"], "password1234", ""),
    (["--entity", "CTG", "--role", "lawyer"], "corta", "12"),
    (["--entity", "CTG", "--role", "lawyer"], "", "contraseña"),
    (["--entity", "CTG"], PASSWORD, "role"),
])
def test_users_create_refusals(app, runner, ctg, args, input_, expect):
    r = runner.invoke(args=["users", "create", "beto", *args], input=input_ + "\n")
    assert r.exit_code != 0
    assert r.output.strip() and expect in r.output
    assert _user(app, "beto") is None
    assert not _events(app, "admin.user.create")


def test_users_create_duplicate_username_fails(app, runner, ctg):
    args = ["users", "create", "carla", "--entity", "CTG", "--role", "lawyer"]
    assert runner.invoke(args=args, input=PASSWORD + "\n").exit_code == 0
    r = runner.invoke(args=[*args[:5], "--role", "admin"], input="otra frase larga para el mismo nombre 77\n")
    assert r.exit_code != 0
    assert "carla" in r.output and "en uso" in r.output
    assert _user(app, "carla")["roles"] == {"lawyer"}
    assert len(_events(app, "admin.user.create")) == 1


def test_users_create_refuses_an_inactive_entity(app, runner, ctg, factory):
    factory.user("root", roles=("admin",), entity="OTRA")
    assert runner.invoke(args=["entities", "deactivate", "CTG"]).exit_code == 0
    r = runner.invoke(args=["users", "create", "dora", "--entity", "CTG", "--role", "lawyer"], input=PASSWORD)
    assert r.exit_code != 0 and "inactiva" in r.output
    assert _user(app, "dora") is None


def _api_user(app, token):
    from caseapp.api import _token

    with app.test_request_context("/api/v1/x", headers={"Authorization": f"Bearer {token}"}):
        row = _token()
        return row.user.username if row else None


# --- tokens -----------------------------------------------------------------------------------------------


def test_users_token_prints_only_the_token_and_stores_its_hash(app, factory):
    u = factory.user("eva", roles=("lawyer",))
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "token", "eva"])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert r.stdout == token + "\n"  # nothing else on standard output
    assert len(token) >= 32 and " " not in token
    with app.app_context():
        rows = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == u.id)))
        assert len(rows) == 1
        assert rows[0].token_hash == crypto.hash_token(token) and rows[0].token_hash != token
        assert rows[0].revoked_at is None
    (event,) = _events(app, "admin.token.create")
    assert event.object_ref == "eva" and token not in (event.detail or "")
    # The token authenticates API requests...
    assert _api_user(app, token) == "eva"
    # ...until it is revoked.
    r = runner.invoke(args=["users", "revoke-token", "eva"])
    assert r.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == u.id)) is not None
    assert _api_user(app, token) is None
    assert _events(app, "admin.token.revoke")


def test_each_token_is_new(app, factory, runner):
    factory.user("eva", roles=("lawyer",))
    first = runner.invoke(args=["users", "token", "eva"]).stdout.strip()
    second = runner.invoke(args=["users", "token", "eva"]).stdout.strip()
    assert first and second and first != second


@pytest.mark.parametrize("username, active", [("nadie", True), ("inactiva", False)])
def test_users_token_refused_for_unknown_or_inactive_user(app, factory, runner, username, active):
    factory.user("inactiva", roles=("lawyer",), active=False)
    r = runner.invoke(args=["users", "token", username])
    assert r.exit_code != 0
    assert r.stdout == ""
    with app.app_context():
        assert not list(db.session.scalars(select(ApiToken)))


# --- deactivate, reset-totp -------------------------------------------------------------------------------


def test_users_deactivate_ends_sessions(app, factory, runner, login_as, client):
    u = factory.user("fabio", roles=("lawyer",))
    factory.user("root", roles=("admin",))
    login_as(u)
    assert client.get("/").status_code == 200
    r = runner.invoke(args=["users", "deactivate", "fabio"])
    assert r.exit_code == 0, r.output
    assert not _user(app, "fabio")["active"]
    assert client.get("/").status_code == 302
    (event,) = _events(app, "admin.user.deactivate")
    assert event.actor == "cli" and event.object_ref == "fabio"
    assert runner.invoke(args=["users", "deactivate", "fabio"]).exit_code != 0  # already inactive
    assert runner.invoke(args=["users", "reactivate", "fabio"]).exit_code == 0
    assert _user(app, "fabio")["active"]


def test_last_active_admin_cannot_be_deactivated(app, factory, runner):
    factory.user("root", roles=("admin",))
    r = runner.invoke(args=["users", "deactivate", "root"])
    assert r.exit_code != 0 and "administrador" in r.output
    assert _user(app, "root")["active"]


def test_users_reset_totp(app, factory, runner, login_as, client):
    from caseapp.timeutil import utcnow

    u = factory.user("gina", roles=("social_worker",))
    with app.app_context():
        db.session.add(RecoveryCode(user_id=u.id, code_hash="c" * 64, created_at=utcnow()))
        db.session.commit()
    login_as(u)
    r = runner.invoke(args=["users", "reset-totp", "gina"])
    assert r.exit_code == 0, r.output
    assert not _user(app, "gina")["enrolled"]
    with app.app_context():
        user = db.session.get(User, u.id)
        assert user.totp_secret_enc is None and user.totp_last_counter is None
        assert not list(db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == u.id)))
        assert not list(db.session.scalars(
            select(UserSession).where(UserSession.user_id == u.id, UserSession.ended_at.is_(None))))
    assert _events(app, "admin.totp.reset")[0].actor == "cli"


def test_unknown_user_commands_fail(runner):
    for command in ("deactivate", "reactivate", "reset-totp", "revoke-token", "end-sessions"):
        r = runner.invoke(args=["users", command, "nadie"])
        assert r.exit_code != 0 and "nadie" not in r.stdout
        assert "No existe" in r.output


def test_access_log_chain_stays_intact(runner, ctg):
    runner.invoke(args=["users", "create", "hugo", "--entity", "CTG", "--role", "auditor"], input=PASSWORD)
    runner.invoke(args=["users", "token", "hugo"])
    r = runner.invoke(args=["audit", "verify"])
    assert r.exit_code == 0, r.output
