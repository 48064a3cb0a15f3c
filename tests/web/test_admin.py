"""Admin screens: only admins get in, every action is logged, stale edits are refused, nobody locks themself out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, RecoveryCode, User, UserSession
from caseapp.models.audit import AuditEvent
from tests.conftest import csrf_token
from tests.web.test_auth import WITH_CREDENTIALS

NEW_PASSWORD = "mariposas amarillas sobre Aracataca 1967"  # noqa: S105 - test password

ADMIN_GET_URLS = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/ana",
    "/admin/entities",
    "/admin/entities/new",
    "/admin/entities/CTG",
]
ADMIN_POST_URLS = [
    "/admin/users/new",
    "/admin/users/ana",
    "/admin/users/ana/deactivate",
    "/admin/users/ana/reactivate",
    "/admin/users/ana/reset-totp",
    "/admin/users/ana/end-sessions",
    "/admin/users/ana/revoke-tokens",
    "/admin/entities/new",
    "/admin/entities/CTG",
    "/admin/entities/CTG/deactivate",
    "/admin/entities/CTG/reactivate",
]


@pytest.fixture
def admin_user(factory):
    factory.entity("CTG", "Secretaría del Interior de Cartagena")
    factory.entity("BOG", "Secretaría Distrital de Gobierno")
    return factory.user("root", roles=("admin",), entity="CTG")


@pytest.fixture
def ana(factory):
    return factory.user("ana", roles=("social_worker",), entity="CTG")


@pytest.fixture
def as_admin(admin_user, login_as, client):
    login_as(admin_user)
    return client


def _events(app, **where):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.seq)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(db.session.scalars(query))


def _user(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).options(*WITH_CREDENTIALS).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def _roles(app, username):
    with app.app_context():
        return set(db.session.scalar(select(User).where(User.username == username)).roles)


def _live_sessions(app, user_id):
    with app.app_context():
        return len(list(db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None)))))


# --- who gets in ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "coordinator", "social_worker", "lawyer"])
@pytest.mark.parametrize("url", ADMIN_GET_URLS)
def test_non_admins_get_403_on_every_admin_page(app, factory, login_as, client, ana, role, url):
    intruder = factory.user(f"x_{role}", roles=(role,), entity="CTG")
    login_as(intruder)
    r = client.get(url)
    assert r.status_code == 403
    denied = _events(app, actor=intruder.username, outcome="denied")
    assert denied, "the denial is written to the access log"


@pytest.mark.parametrize("role", ["auditor", "coordinator", "social_worker"])
@pytest.mark.parametrize("url", ADMIN_POST_URLS)
def test_non_admins_get_403_on_every_admin_post(app, factory, login_as, client, ana, role, url):
    intruder = factory.user(f"x_{role}", roles=(role,), entity="CTG")
    login_as(intruder)
    token = csrf_token(client, "/")
    r = client.post(url, data={"csrf_token": token, "version": 1, "username": "evil", "code": "EVIL",
                               "name": "Evil", "kind": "ngo", "entity": "CTG", "roles": ["admin"],
                               "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert r.status_code == 403
    assert _user(app, "evil") is None
    assert _user(app, "ana").active
    assert _roles(app, intruder.username) == {role}
    assert _events(app, actor=intruder.username, outcome="denied")


def test_anonymous_is_sent_to_login(client):
    r = client.get("/admin/users")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_admin_without_case_role_cannot_open_cases(app, as_admin):
    r = as_admin.get("/cases/")
    assert r.status_code in (403, 404)
    assert _events(app, actor="root", outcome="denied")


def test_admin_navigation_and_spanish_pages(as_admin, ana):
    r = as_admin.get("/admin/users")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Usuarios" in html and "ana" in html
    assert "Nuevo usuario" in html
    r = as_admin.get("/admin/entities")
    assert r.status_code == 200 and "Entidades" in r.get_data(as_text=True)


def test_user_list_filters_by_entity_and_status(factory, as_admin):
    factory.user("bogotana", roles=("lawyer",), entity="BOG")
    factory.user("inactiva", roles=("lawyer",), entity="CTG", active=False)
    html = as_admin.get("/admin/users?entity=BOG").get_data(as_text=True)
    assert "bogotana" in html and "inactiva" not in html
    html = as_admin.get("/admin/users?status=inactive").get_data(as_text=True)
    assert "inactiva" in html and "bogotana" not in html
    assert as_admin.get("/admin/users?entity=NOPE&status=weird&page=x").status_code == 200


# --- creating users ---------------------------------------------------------------------------------------


def _create(client, **overrides):
    data = {"csrf_token": csrf_token(client, "/admin/users/new"), "username": "lucia", "display_name": "Lucía Gómez",
            "entity": "CTG", "roles": ["coordinator", "auditor"], "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD}
    data.update(overrides)
    return client.post("/admin/users/new", data=data)


def test_admin_creates_a_user_with_two_roles(app, as_admin):
    """Roles without access to case data; case roles wait for a second admin (tests/web/test_four_eyes.py)."""
    r = _create(as_admin)
    assert r.status_code == 302
    user = _user(app, "lucia")
    assert user is not None and user.active and user.display_name == "Lucía Gómez"
    assert _roles(app, "lucia") == {"coordinator", "auditor"}
    assert user.totp_enrolled_at is None  # enrols at first login
    assert user.password_hash and NEW_PASSWORD not in user.password_hash
    (event,) = _events(app, action="admin.user.create")
    assert event.actor == "root" and event.object_ref == "lucia" and event.outcome == "allowed"
    assert NEW_PASSWORD not in (event.detail or "")
    page = as_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "lucia" in page


@pytest.mark.parametrize(
    "overrides, field_text",
    [
        ({"password": "password1234", "password_confirm": "password1234"}, "contraseña"),
        ({"password": "corta", "password_confirm": "corta"}, "12"),
        ({"password_confirm": "otra frase distinta de la primera 11"}, "no coinciden"),
        ({"roles": []}, "rol"),
        ({"username": "NO VALE!"}, "minúsculas"),
        ({"entity": "NOPE"}, ""),
    ],
)
def test_bad_input_is_refused_with_a_spanish_message_and_nothing_written(app, as_admin, overrides, field_text):
    r = _create(as_admin, **overrides)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'class="error"' in html and field_text in html
    assert _user(app, "lucia") is None
    assert not _events(app, action="admin.user.create")


def test_password_containing_the_username_is_refused(app, as_admin):
    pw = "lucia camina por la playa de Bocagrande"
    r = _create(as_admin, password=pw, password_confirm=pw)
    assert r.status_code == 422
    assert _user(app, "lucia") is None


def test_duplicate_username_and_double_submit(app, as_admin, ana):
    r = _create(as_admin, username="ana")
    assert r.status_code == 422 and "ya" in r.get_data(as_text=True)
    assert _create(as_admin).status_code == 302
    assert _create(as_admin).status_code == 422  # the same form sent twice creates one user
    with app.app_context():
        assert len(list(db.session.scalars(select(User).where(User.username == "lucia")))) == 1


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_missing_or_forged_csrf_is_refused_and_logged(app, as_admin, token):
    data = {"username": "lucia", "entity": "CTG", "roles": ["lawyer"], "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD}
    if token:
        data["csrf_token"] = token
    r = as_admin.post("/admin/users/new", data=data)
    assert r.status_code == 400
    assert _user(app, "lucia") is None
    assert _events(app, action="csrf", outcome="denied")


def test_csrf_is_checked_on_action_buttons(app, as_admin, ana, login_as, client):
    other = app.test_client()
    login_as(ana, c=other)
    r = as_admin.post("/admin/users/ana/deactivate", data={"version": 1})
    assert r.status_code == 400
    assert _user(app, "ana").active
    r = as_admin.post("/admin/users/ana/end-sessions", data={"csrf_token": "x"})
    assert r.status_code == 400
    assert _live_sessions(app, ana.id) == 1


# --- editing users ----------------------------------------------------------------------------------------


def _edit(client, username, **overrides):
    page = client.get(f"/admin/users/{username}").get_data(as_text=True)
    import re

    version = re.search(r'name="version"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="version"', page)
    data = {"csrf_token": csrf_token(client, f"/admin/users/{username}"), "version": version.group(1),
            "display_name": "Ana Edit", "entity": "CTG", "roles": ["social_worker"]}
    data.update(overrides)
    return client.post(f"/admin/users/{username}", data=data)


def test_edit_user_roles_entity_and_name(app, as_admin, factory):
    """Roles without access to case data and an entity change of such an account: one admin does it (a case role,
    or moving a case-role account, waits for a second admin: tests/web/test_four_eyes.py)."""
    eva = factory.user("eva", roles=("coordinator",), entity="CTG")
    before = _user(app, "eva").version
    r = _edit(as_admin, "eva", roles=["coordinator", "auditor"], entity="BOG", display_name="Eva B")
    assert r.status_code == 302
    user = _user(app, "eva")
    assert user.display_name == "Eva B" and user.version > before
    assert _roles(app, "eva") == {"coordinator", "auditor"}
    with app.app_context():
        assert db.session.get(User, eva.id).entity.code == "BOG"
    (event,) = _events(app, action="admin.user.update")
    assert event.object_ref == "eva" and "roles" in event.detail and "BOG" in event.detail


def test_role_only_change_bumps_the_version(app, as_admin, ana):
    before = _user(app, "ana").version
    assert _edit(as_admin, "ana", display_name="Ana", roles=["social_worker", "coordinator"]).status_code == 302
    assert _user(app, "ana").version > before


def test_stale_edit_gets_409_and_nothing_changes(app, as_admin, ana):
    stale_version = _user(app, "ana").version
    assert _edit(as_admin, "ana", roles=["coordinator"]).status_code == 302  # someone else saved first
    r = as_admin.post("/admin/users/ana", data={
        "csrf_token": csrf_token(as_admin, "/admin/users/ana"), "version": stale_version,
        "display_name": "Overwritten", "entity": "BOG", "roles": ["admin"]})
    assert r.status_code == 409
    assert "Alguien más" in r.get_data(as_text=True)
    user = _user(app, "ana")
    assert user.display_name == "Ana Edit"
    assert _roles(app, "ana") == {"coordinator"}
    assert len(_events(app, action="admin.user.update")) == 1


def test_stale_version_on_deactivate_gets_409(app, as_admin, ana):
    stale = _user(app, "ana").version
    _edit(as_admin, "ana", display_name="Changed")
    r = as_admin.post("/admin/users/ana/deactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                           "version": stale})
    assert r.status_code == 409
    assert _user(app, "ana").active


def test_malformed_version_is_refused(app, as_admin, ana):
    r = as_admin.post("/admin/users/ana", data={"csrf_token": csrf_token(as_admin, "/"), "version": "abc",
                                                 "display_name": "X", "entity": "CTG", "roles": ["lawyer"]})
    assert r.status_code == 422
    assert _roles(app, "ana") == {"social_worker"}


def test_admin_cannot_remove_own_admin_role(app, as_admin, admin_user):
    r = _edit(as_admin, "root", roles=["social_worker"])
    assert r.status_code == 422
    assert "propio" in r.get_data(as_text=True)
    assert _roles(app, "root") == {"admin"}


def test_admin_cannot_add_a_case_role_to_themself_alone(app, as_admin, admin_user):
    """Four eyes (tests/web/test_four_eyes.py): alone, an admin gets no case role, so no case data."""
    assert _edit(as_admin, "root", roles=["admin", "social_worker"]).status_code == 409
    assert _roles(app, "root") == {"admin"}
    assert as_admin.get("/cases/").status_code == 403


def test_admin_cannot_deactivate_themself(app, as_admin, admin_user):
    page = as_admin.get("/admin/users/root").get_data(as_text=True)
    assert "/admin/users/root/deactivate" not in page
    r = as_admin.post("/admin/users/root/deactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                            "version": _user(app, "root").version})
    assert r.status_code == 409
    assert _user(app, "root").active


def test_unknown_user_is_404(as_admin):
    assert as_admin.get("/admin/users/nobody").status_code == 404
    assert as_admin.get("/admin/entities/NOPE").status_code == 404


# --- deactivation, sessions, second factor -------------------------------------------------------------------


def test_deactivated_user_loses_their_open_session(app, as_admin, ana, login_as):
    ana_client = app.test_client()
    login_as(ana, c=ana_client)
    assert ana_client.get("/").status_code == 200
    r = as_admin.post("/admin/users/ana/deactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                           "version": _user(app, "ana").version})
    assert r.status_code == 302
    assert not _user(app, "ana").active
    assert _live_sessions(app, ana.id) == 0
    r = ana_client.get("/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    (event,) = _events(app, action="admin.user.deactivate")
    assert event.object_ref == "ana" and event.actor == "root"
    # Reactivation lets her sign in again (a new session), not the old one back.
    r = as_admin.post("/admin/users/ana/reactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                           "version": _user(app, "ana").version})
    assert r.status_code == 302 and _user(app, "ana").active
    assert ana_client.get("/").status_code == 302
    assert _events(app, action="admin.user.reactivate")


def test_inactive_user_session_is_refused_even_if_still_open(app, factory, login_as, client):
    u = factory.user("bea", roles=("lawyer",), entity="CTG")
    login_as(u)
    with app.app_context():
        user = db.session.get(User, u.id)
        user.active = False
        db.session.commit()
    r = client.get("/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_reset_second_factor(app, as_admin, ana, login_as):
    from caseapp.timeutil import utcnow

    with app.app_context():
        db.session.add(RecoveryCode(user_id=ana.id, code_hash="h" * 64, created_at=utcnow()))
        db.session.get(User, ana.id).totp_last_counter = 123
        db.session.commit()
    ana_client = app.test_client()
    login_as(ana, c=ana_client)
    r = as_admin.post("/admin/users/ana/reset-totp", data={"csrf_token": csrf_token(as_admin, "/"),
                                                           "version": _user(app, "ana").version})
    assert r.status_code == 302
    user = _user(app, "ana")
    assert user.totp_secret_enc is None and user.totp_enrolled_at is None and user.totp_last_counter is None
    with app.app_context():
        assert not list(db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == ana.id)))
    assert _live_sessions(app, ana.id) == 0
    assert ana_client.get("/").status_code == 302
    (event,) = _events(app, action="admin.totp.reset")
    assert event.object_ref == "ana"
    assert "Pendiente" in as_admin.get("/admin/users/ana").get_data(as_text=True)


def test_end_all_sessions_of_a_user(app, as_admin, ana, login_as):
    c1, c2 = app.test_client(), app.test_client()
    login_as(ana, c=c1)
    login_as(ana, c=c2)
    assert _live_sessions(app, ana.id) == 2
    r = as_admin.post("/admin/users/ana/end-sessions", data={"csrf_token": csrf_token(as_admin, "/")})
    assert r.status_code == 302
    assert _live_sessions(app, ana.id) == 0
    assert c1.get("/").status_code == 302 and c2.get("/").status_code == 302
    (event,) = _events(app, action="admin.sessions.end")
    assert event.object_ref == "ana" and '"sessions_ended":2' in event.detail
    assert as_admin.get("/").status_code == 200  # the admin's own session is untouched


# --- entities ---------------------------------------------------------------------------------------------


def _entity_version(app, code):
    with app.app_context():
        return db.session.scalar(select(Entity.version).where(Entity.code == code))


def test_create_entity(app, as_admin):
    r = as_admin.post("/admin/entities/new", data={"csrf_token": csrf_token(as_admin, "/admin/entities/new"),
                                                   "code": "oim", "name": "Organización Internacional para las "
                                                   "Migraciones", "kind": "international"})
    assert r.status_code == 302
    with app.app_context():
        entity = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        assert entity.kind == "international" and entity.active
    (event,) = _events(app, action="admin.entity.create")
    assert event.object_ref == "OIM" and event.object_type == "entity"
    assert "OIM" in as_admin.get("/admin/entities").get_data(as_text=True)


@pytest.mark.parametrize("data", [
    {"code": "CTG", "name": "Otra", "kind": "government"},
    {"code": "A-1", "name": "Guion", "kind": "government"},
    {"code": "NEW", "name": "", "kind": "government"},
    {"code": "NEW", "name": "Nueva", "kind": "church"},
])
def test_bad_entity_is_refused(app, as_admin, data):
    count = len(_events(app, action="admin.entity.create"))
    r = as_admin.post("/admin/entities/new", data={"csrf_token": csrf_token(as_admin, "/admin/entities/new"),
                                                   **data})
    assert r.status_code == 422
    assert len(_events(app, action="admin.entity.create")) == count
    with app.app_context():
        assert db.session.scalar(select(Entity).where(Entity.code == "NEW")) is None


def test_edit_entity_and_stale_edit(app, as_admin):
    version = _entity_version(app, "BOG")
    form = {"csrf_token": csrf_token(as_admin, "/admin/entities/BOG"), "version": version,
            "name": "Secretaría Distrital de Gobierno de Bogotá", "kind": "government"}
    assert as_admin.post("/admin/entities/BOG", data=form).status_code == 302
    assert _events(app, action="admin.entity.update")
    r = as_admin.post("/admin/entities/BOG", data={**form, "name": "Stale", "kind": "ngo"})
    assert r.status_code == 409
    with app.app_context():
        entity = db.session.scalar(select(Entity).where(Entity.code == "BOG"))
        assert entity.name == "Secretaría Distrital de Gobierno de Bogotá" and entity.kind == "government"


def test_deactivate_entity_locks_its_users_out(app, as_admin, factory, login_as):
    bog = factory.user("bogotano", roles=("social_worker",), entity="BOG")
    bog_client = app.test_client()
    login_as(bog, c=bog_client)
    r = as_admin.post("/admin/entities/BOG/deactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                              "version": _entity_version(app, "BOG")})
    assert r.status_code == 302
    assert bog_client.get("/").status_code == 302
    assert _events(app, action="admin.entity.deactivate")
    # An inactive entity is not offered for new users.
    r = _create(as_admin, entity="BOG")
    assert r.status_code == 422 and _user(app, "lucia") is None
    r = as_admin.post("/admin/entities/BOG/reactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                              "version": _entity_version(app, "BOG")})
    assert r.status_code == 302


def test_admin_cannot_deactivate_own_entity(app, as_admin):
    r = as_admin.post("/admin/entities/CTG/deactivate", data={"csrf_token": csrf_token(as_admin, "/"),
                                                              "version": _entity_version(app, "CTG")})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Entity.active).where(Entity.code == "CTG"))


def test_no_password_in_the_access_log(app, as_admin):
    _create(as_admin)
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            assert NEW_PASSWORD not in (event.detail or "")
