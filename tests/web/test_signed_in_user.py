"""The signed-in user is read afresh at every request, in the one statement that finds her session or API token:
her account, her entity and her roles (sessions.signed_in_user builds her from that row, without the ORM's row
processing). A role taken away, an entity deactivated or an account disabled counts from her next request, on the
web and on the API alike, and her roles cost no statement of their own."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User, UserRole
from caseapp.services.accounts import sessions
from tests.world import new_api_token

PATHS = ("web", "api")


@pytest.fixture
def signed_in(app, client, factory, login_as):
    """A request maker for `ana` (social worker and lawyer of SDIS) on the path asked for."""
    ana = factory.user("ana", roles=("social_worker", "lawyer"))

    def make(path):
        if path == "web":
            login_as(ana)
            return ana, lambda: client.get("/cases/")
        with app.app_context():
            token = new_api_token(ana.id)
        return ana, lambda: client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})

    return make


def _change(app, statement):
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


@pytest.mark.parametrize("path", PATHS)
def test_a_role_taken_away_counts_from_her_next_request(app, signed_in, path):
    ana, get = signed_in(path)
    assert get().status_code == 200
    _change(app, delete(UserRole).where(UserRole.user_id == ana.id, UserRole.role == "social_worker"))
    assert get().status_code == 200  # still a lawyer: she reads her cases
    _change(app, delete(UserRole).where(UserRole.user_id == ana.id))
    assert get().status_code == 403
    _change(app, UserRole.__table__.insert().values(user_id=ana.id, role="social_worker"))
    assert get().status_code == 200


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("disabled", ["account", "entity"])
def test_a_disabled_account_or_entity_counts_from_her_next_request(app, signed_in, path, disabled):
    ana, get = signed_in(path)
    assert get().status_code == 200
    if disabled == "account":
        _change(app, update(User).where(User.id == ana.id).values(active=False))
    else:
        _change(app, update(Entity).where(Entity.code == "SDIS").values(active=False))
    response = get()
    assert response.status_code == (401 if path == "api" else 302), response.status_code


@pytest.mark.parametrize("path", PATHS)
def test_her_roles_and_entity_come_with_the_statement_that_finds_her(signed_in, count_queries, path):
    _ana, get = signed_in(path)
    get()  # her session's or token's last use is written at most once a minute: not in the counted request
    with count_queries() as count:
        assert get().status_code == 200
    credential = "user_sessions" if path == "web" else "api_tokens"
    finding = [s for s in count.statements if credential in s]
    assert len(finding) == 1, count
    assert "user_roles" in finding[0] and "entities" in finding[0]
    # no statement of its own for her roles, her account or her entity (a lazy load of what she was built without)
    assert not [s for s in count.statements if s is not finding[0] and "FROM user_roles" in s], count
    assert not [s for s in count.statements if "WHERE users.id =" in s or "WHERE entities.id =" in s], count


def test_her_roles_follow_a_change_made_to_her_in_the_request(ctx, factory):
    ana = factory.user("ana", roles=("social_worker", "lawyer"))
    token = sessions.start(db.session.get(User, ana.id), "127.0.0.1")
    db.session.commit()
    db.session.remove()  # a new request: the session holds nobody yet
    user, reason = sessions.resolve(token)
    assert reason is None and user.roles == {"social_worker", "lawyer"} and user.entity.code == "SDIS"
    user.set_roles(("lawyer", "coordinator"))
    assert user.roles == {"lawyer", "coordinator"}
    db.session.commit()
    assert db.session.get(User, ana.id).roles == {"lawyer", "coordinator"}


@pytest.mark.parametrize("path", PATHS)
def test_the_request_that_notes_her_last_use_reads_her_once(app, signed_in, count_queries, path):
    """Her session's last use (or her token's) is written at most once a minute, and committed at once: the commit
    keeps her as she was read, so the page does not read her, her entity or her roles again."""
    from datetime import timedelta

    from caseapp.models.accounts import ApiToken, UserSession
    from caseapp.timeutil import utcnow

    ana, get = signed_in(path)
    get()
    credential = UserSession if path == "web" else ApiToken
    column = "last_seen_at" if path == "web" else "last_used_at"
    _change(app, update(credential).where(credential.user_id == ana.id).values(**{column: utcnow() - timedelta(minutes=5)}))
    with count_queries() as count:
        assert get().status_code == 200
    assert [s for s in count.statements if s.startswith("UPDATE") and column in s], count
    assert not [s for s in count.statements if "WHERE users.id =" in s or "FROM user_roles" in s
                and "user_sessions" not in s and "api_tokens" not in s], count
