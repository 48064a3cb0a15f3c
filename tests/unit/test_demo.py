"""`flask demo`: refuses outside development, prints usable logins, and a second run changes nothing."""
from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from caseapp.demo import accounts
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.audit import AuditEvent

LOGINS_HEADING = "Accesos de demostración"


def _counts(app):
    with app.app_context():
        return {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "entities": db.session.scalar(select(func.count()).select_from(Entity)),
            "creates": db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("admin.%.create"))),
        }


def _logins_section(output: str) -> str:
    assert LOGINS_HEADING in output, output
    return output[output.index(LOGINS_HEADING):]


def test_demo_refuses_under_a_production_like_config(app, runner):
    app.config["DEMO_ALLOWED"] = False
    before = _counts(app)
    r = runner.invoke(args=["demo"])
    assert r.exit_code != 0
    assert "Rechazado" in r.output
    assert r.stdout == ""
    assert _counts(app) == before
    for demo in accounts.DEMO_USERS:
        assert demo.password not in r.output and demo.totp_secret not in r.output


def test_demo_prints_every_login_and_is_idempotent(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    section = _logins_section(first.stdout)
    for demo in accounts.DEMO_USERS:
        assert demo.username in section
        assert demo.password in section
        assert demo.totp_secret in section
        assert demo.entity in section
    assert "http://127.0.0.1:5000/" in section
    after_first = _counts(app)
    assert after_first["users"] >= len(accounts.DEMO_USERS)

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert _counts(app) == after_first  # nothing new
    assert _logins_section(second.stdout) == section  # the same logins
    assert "0" in second.stdout.split(LOGINS_HEADING)[0]


def test_demo_accounts_can_sign_in(app, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    from caseapp.services.accounts import passwords

    with app.test_request_context():
        for demo in accounts.DEMO_USERS:
            user = db.session.scalar(select(User).where(User.username == demo.username))
            assert user.is_active
            assert passwords.verify(user.password_hash, demo.password)
            assert user.totp_enrolled_at is not None
            assert user.totp_secret == demo.totp_secret  # stored encrypted, decrypted here
            assert demo.totp_secret.encode() not in user.totp_secret_enc
            assert pyotp.TOTP(user.totp_secret).now()
            assert set(user.roles) == set(demo.roles) and user.entity.code == demo.entity


def test_demo_passwords_pass_the_policy(app):
    from caseapp.services.accounts import passwords

    check = getattr(passwords, "check_password", None) or passwords.problems
    with app.test_request_context():
        for demo in accounts.DEMO_USERS:
            assert check(demo.password, demo.username) == [], demo.username


def test_demo_covers_every_role_the_route_needs(app, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        users = list(db.session.scalars(select(User).where(
            User.username.in_([d.username for d in accounts.DEMO_USERS]))))
        by_role = {}
        for u in users:
            for r in u.roles:
                by_role.setdefault(r, set()).add(u.entity.code)
        assert "CTG" in by_role["social_worker"] and "CTG" in by_role["lawyer"]
        assert by_role["social_worker"] - {"CTG"}, "a social worker in another entity, for referrals"
        assert by_role["coordinator"] and by_role["auditor"] and by_role["admin"]
        assert any({"social_worker", "lawyer"} <= set(u.roles) for u in users)
        codes = set(db.session.scalars(select(Entity.code)))
        assert {"CTG", "BOG", "FGN", "PONAL", "MIG", "ICBF", "SALUD", "SMUJER", "OIM", "DEFENSORIA"} <= codes
        kinds = dict(db.session.execute(select(Entity.code, Entity.kind)).all())
        assert kinds["FGN"] == "justice" and kinds["ICBF"] == "child_protection" and kinds["OIM"] == "international"


def test_demo_actions_are_logged_as_cli_without_secrets(app, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("admin.%"))))
        assert events and all(e.actor == "cli" for e in events)
        for e in events:
            for demo in accounts.DEMO_USERS:
                assert demo.password not in (e.detail or "") and demo.totp_secret not in (e.detail or "")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_demo_keeps_existing_accounts_untouched(app, runner, factory):
    """An entity or user that already exists (same code or username) is left as it is."""
    factory.entity("CTG", name="Nombre propio", kind="government")
    factory.user("admin", roles=("admin", "auditor"), entity="CTG")
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0, r.output
    admin_demo = next(d for d in accounts.DEMO_USERS if d.username == "admin")
    assert admin_demo.password not in r.output  # not her password: not printed as if it were
    with app.app_context():
        assert db.session.scalar(select(Entity.name).where(Entity.code == "CTG")) == "Nombre propio"
        assert set(db.session.scalar(select(User).where(User.username == "admin")).roles) == {"admin", "auditor"}
