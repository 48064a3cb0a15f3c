"""The migrations build the schema the models describe, on SQLite and (when configured) PostgreSQL.

Each test starts from an EMPTY database (not the suite's migrated template): a fresh SQLite file, or a fresh
PostgreSQL database when RUTA_TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError

import config
from caseapp import ROOT, create_app
from caseapp.extensions import db


@pytest.fixture
def fresh_app(empty_database_url, instance_path):
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _head() -> str:
    script = ScriptDirectory(str(ROOT / "migrations"))
    heads = script.get_heads()
    assert len(heads) == 1, f"the migrations must have a single head, found {heads}"
    return heads[0]


def _current() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_single_head():
    _head()


def test_upgrade_from_empty_to_head(fresh_app):
    with fresh_app.app_context():
        assert _tables() == set()
        upgrade()
        assert _current() == _head()
        assert set(db.metadata.tables) <= _tables()


def test_models_and_migrations_agree(fresh_app):
    """Fails when a model changes without regenerating the migration (scripts/regen_initial_migration.py)."""
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            diff = compare_metadata(ctx, db.metadata)
    assert diff == [], "models and migrations disagree; run scripts/regen_initial_migration.py:\n" + "\n".join(
        map(repr, diff)
    )


def test_downgrade_to_base_and_upgrade_again(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        assert _current() is None
        assert _tables() == set()
        upgrade()
        assert _current() == _head()
        assert set(db.metadata.tables) <= _tables()


def test_seed_catalogues_present_after_upgrade(fresh_app):
    from caseapp.models.catalogues import ExploitationPurpose

    with fresh_app.app_context():
        upgrade()
        codes = set(db.session.scalars(select(ExploitationPurpose.code)))
    assert "sexual_exploitation" in codes


def _trigger_names() -> set[str]:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"))
        else:
            rows = conn.execute(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal")
            )
        return {row[0] for row in rows}


def test_append_only_triggers_exist_and_refuse_changes(fresh_app):
    from caseapp import audit

    with fresh_app.app_context():
        upgrade()
        names = _trigger_names()
        assert "audit_events_no_update" in names
        assert "audit_events_no_delete" in names or "audit_events_no_truncate" in names
        with fresh_app.test_request_context():
            audit.record("test.event", object_type="test", object_ref="x", actor="cli")
            db.session.commit()
            for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
                with pytest.raises(DatabaseError, match="append-only"):
                    db.session.execute(text(statement))
                db.session.rollback()
            assert audit.verify().ok


def test_triggers_survive_downgrade_and_upgrade(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        assert "audit_events_no_update" in _trigger_names()
