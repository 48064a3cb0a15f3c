"""Migration 0007 on a database with tokens from before it: every token gets an expiry 90 days after it was made
(so a token older than that stops at once) and keeps read-write; the sign-in tables come and go cleanly."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.test_migrations import fresh_app  # noqa: F401 - the fixture

BEFORE, THIS = "0006", "0007"


def test_tokens_from_before_get_an_expiry(fresh_app):  # noqa: F811
    with fresh_app.app_context():
        from caseapp.extensions import db

        upgrade(revision=BEFORE)
        old, recent = datetime(2025, 1, 10, 8, 0), datetime(2026, 11, 30, 8, 0)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO entities (code, name, kind, active, version, created_at, updated_at) "
                              "VALUES ('SDIS', 'Entidad', 'government', true, 1, :t, :t)"), {"t": old})
            conn.execute(text(
                "INSERT INTO users (uid, username, display_name, entity_id, active, failed_logins, "
                "must_change_password, version, created_at, updated_at) "
                "VALUES ('u1', 'ana', 'Ana', 1, true, 0, false, 1, :t, :t)"), {"t": old})
            for n, made in enumerate((old, recent)):
                conn.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (1, :h, :t)"),
                             {"h": f"{n:064d}", "t": made})
        upgrade(revision=THIS)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT created_at, expires_at, scope FROM api_tokens ORDER BY id")).all()
        # Both kept: on SQLite, rebuilding `users` (batch mode) with foreign keys on would cascade into its tokens.
        assert len(rows) == 2
        for created, expires, scope in rows:
            created = created if isinstance(created, datetime) else datetime.fromisoformat(created)
            expires = expires if isinstance(expires, datetime) else datetime.fromisoformat(expires)
            assert expires - created == timedelta(days=90) and scope == "read-write"
        columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
        assert "locked_until" not in columns and "failed_logins" not in columns
        assert {"pending_logins", "login_throttles"} <= set(inspect(db.engine).get_table_names())
        downgrade(revision=BEFORE)
        columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
        assert {"locked_until", "failed_logins"} <= columns
        assert "pending_logins" not in set(inspect(db.engine).get_table_names())
        upgrade()
