"""The rules of caseapp.services.admin without HTTP: permission, lock-out protection, validation, versions."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from caseapp.errors import Conflict, Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import accounts as admin

PASSWORD = "pelícanos pardos descansan en el espolón 40"  # noqa: S105 - test password


def _get(user_id):
    return db.session.get(User, user_id)


@pytest.mark.parametrize("role", ["social_worker", "lawyer", "coordinator", "auditor"])
def test_only_admins_may_call_the_services(ctx, factory, role):
    u = factory.user("someone", roles=(role,))
    actor = _get(u.id)
    calls = [
        lambda: admin.list_users(actor),
        lambda: admin.list_entities(actor),
        lambda: admin.get_user(actor, "someone"),
        lambda: admin.create_user(actor, username="new.one", entity_code="SDIS", roles=["admin"], password=PASSWORD),
        lambda: admin.update_user(actor, "someone", version=1, display_name="", entity_code="SDIS",
                                  roles=["admin"]),
        lambda: admin.deactivate_user(actor, "someone", version=1),
        lambda: admin.reset_totp(actor, "someone", version=1),
        lambda: admin.end_sessions(actor, "someone"),
        lambda: admin.issue_token(actor, "someone"),
        lambda: admin.create_entity(actor, code="NEW", name="Nueva", kind="ngo"),
        lambda: admin.update_entity(actor, "SDIS", version=1, name="X", kind="ngo"),
        lambda: admin.deactivate_entity(actor, "SDIS", version=1),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    db.session.rollback()
    assert set(_get(u.id).roles) == {role}
    assert db.session.scalar(select(User).where(User.username == "new.one")) is None


def _version(username: str) -> int:
    return admin.get_user(admin.CLI, username).version


@pytest.mark.parametrize("call", [
    lambda: admin.update_user(admin.CLI, "ana", version=None, display_name="Ana", entity_code="SDIS", roles=["lawyer"]),
    lambda: admin.deactivate_user(admin.CLI, "ana", version=None),
    lambda: admin.reactivate_user(admin.CLI, "ana", version=""),
    lambda: admin.reset_totp(admin.CLI, "ana", version="x"),
    lambda: admin.update_entity(admin.CLI, "SDIS", version=None, name="X", kind="ngo"),
    lambda: admin.deactivate_entity(admin.CLI, "SDIS", version=True),
])
def test_an_edit_without_its_version_is_refused_never_applied_blindly(ctx, factory, call):
    u = factory.user("ana", roles=("lawyer",))
    before = _get(u.id).version
    with pytest.raises(Invalid) as err:
        call()
    assert "version" in err.value.field_errors
    db.session.rollback()
    assert _get(u.id).version == before and _get(u.id).active


def test_anonymous_actor_is_refused(ctx):
    from flask_login import AnonymousUserMixin

    with pytest.raises(Forbidden):
        admin.list_users(AnonymousUserMixin())


def test_last_active_admin_keeps_the_role(ctx, factory):
    factory.user("root", roles=("admin",))
    with pytest.raises(Invalid) as err:
        admin.update_user(admin.CLI, "root", version=_version("root"), display_name="Root", entity_code="SDIS",
                          roles=["auditor"])
    assert "roles" in err.value.field_errors
    with pytest.raises(Conflict):
        admin.deactivate_user(admin.CLI, "root", version=_version("root"))


def test_another_admin_may_remove_the_admin_role_when_one_remains(ctx, factory):
    a = factory.user("root", roles=("admin",))
    factory.user("second", roles=("admin",))
    admin.update_user(_get(a.id), "second", version=_version("second"), display_name="Second", entity_code="SDIS",
                      roles=["auditor"])
    assert set(db.session.scalar(select(User).where(User.username == "second")).roles) == {"auditor"}


def test_deactivating_the_only_admin_entity_is_refused(ctx, factory):
    factory.user("root", roles=("admin",), entity="CTG")
    factory.entity("BOG")
    with pytest.raises(Conflict):
        admin.deactivate_entity(admin.CLI, "CTG", version=admin.get_entity(admin.CLI, "CTG").version)
    admin.deactivate_entity(admin.CLI, "BOG", version=admin.get_entity(admin.CLI, "BOG").version)


def test_usernames_and_codes_are_normalised(ctx, factory):
    factory.entity("CTG")
    user = admin.create_user(admin.CLI, username="  Ana.Maria ", entity_code=" ctg ", roles=["lawyer"],
                             password=PASSWORD)
    assert user.username == "ana.maria" and user.display_name == "ana.maria"
    entity = admin.create_entity(admin.CLI, code=" fgn", name="  Fiscalía   General ", kind="justice")
    assert entity.code == "FGN" and entity.name == "Fiscalía General"
    assert admin.get_user(admin.CLI, "ANA.MARIA").id == user.id
    with pytest.raises(NotFound):
        admin.get_user(admin.CLI, "nadie")


def test_stale_version_is_a_conflict_and_changes_nothing(ctx, factory):
    u = factory.user("ana", roles=("lawyer",))
    version = _get(u.id).version
    admin.update_user(admin.CLI, "ana", version=version, display_name="Ana 2", entity_code="SDIS", roles=["lawyer"])
    with pytest.raises(Conflict):
        admin.update_user(admin.CLI, "ana", version=version, display_name="Ana 3", entity_code="SDIS",
                          roles=["admin"])
    db.session.rollback()
    user = _get(u.id)
    assert user.display_name == "Ana 2" and set(user.roles) == {"lawyer"}
    for action in (admin.deactivate_user, admin.reset_totp):
        with pytest.raises(Conflict):
            action(admin.CLI, "ana", version=version)


def test_unchanged_edit_writes_nothing(ctx, factory):
    from caseapp.models.audit import AuditEvent

    u = factory.user("ana", roles=("lawyer",))
    user = _get(u.id)
    version = user.version
    admin.update_user(admin.CLI, "ana", version=version, display_name=user.display_name, entity_code="SDIS",
                      roles=["lawyer"])
    assert _get(u.id).version == version
    assert not list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.user.update")))


def test_admin_without_case_role_sees_no_case(ctx, factory):
    from caseapp import authz

    a = factory.user("root", roles=("admin",))
    actor = _get(a.id)
    assert not authz.can(actor, "case.search") and not authz.can(actor, "case.create")
    assert db.session.scalars(authz.visible_cases(actor)).all() == []
