"""Nothing lost by a migration: a database full of rows goes down to the last landed revision and back up to head,
and every table that existed there keeps every row (on SQLite, a table rebuilt in batch mode with foreign keys on
would have taken its children with it: a user's roles, sessions and tokens)."""
from __future__ import annotations

from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, table, text

import config
from caseapp import create_app
from caseapp.extensions import db
from caseapp.services.accounts import sessions
from tests.cases_factory import make_case

LANDED = "0006"  # the last revision applied in a deployment


def _counts() -> dict[str, int]:
    names = [n for n in inspect(db.engine).get_table_names() if n != "alembic_version"]
    return {n: db.session.scalar(select(func.count()).select_from(table(n))) for n in names}


def test_down_to_the_landed_revision_and_up_again_keeps_every_row(empty_database_url, instance_path):
    from caseapp import crypto
    from caseapp.models.accounts import ApiToken, Entity, User
    from caseapp.timeutil import utcnow

    # 15-bit blind indexes, the only width the landed revision can search (its downgrade refuses any other).
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url, PLANNED_VICTIMS=100_000))
    with app.test_request_context():
        upgrade()
        entity = Entity(code="SDIS", name="Entidad SDIS", kind="government")
        users = []
        for name, roles in (("ana", ("social_worker",)), ("luz", ("lawyer",)), ("eva", ("coordinator",))):
            user = User(username=name, display_name=name.title(), entity=entity, active=True)
            user.set_roles(roles)
            users.append(user)
        db.session.add_all([entity, *users])
        db.session.flush()
        for user in users:
            sessions.start(user, "127.0.0.1")
            db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(crypto.new_token()),
                                    created_at=utcnow()))
        db.session.commit()
        for n in ("52123456", "52999999"):
            make_case(users[0].id, document_number=n, identified_on=date(2025, 3, 10))
        db.session.commit()
        before = _counts()
        assert before["user_roles"] == 3 and before["api_tokens"] == 3 and before["cases"] == 2
        db.session.remove()

        downgrade(revision=LANDED)
        landed_tables = set(inspect(db.engine).get_table_names())
        upgrade()
        db.session.remove()
        after = _counts()
        db.session.remove()
        if db.engine.dialect.name == "sqlite":  # the migration gave its connection back with foreign keys on
            with db.engine.connect() as conn:
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
    lost = {n: (before[n], after[n]) for n in before if n in landed_tables and after[n] < before[n]}
    assert not lost, f"rows lost by the round trip: {lost}"
