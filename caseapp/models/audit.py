"""The access log (bitácora de acceso). Written only by caseapp.audit.record().

`audit_queue`: a request appends its row here, with its own sequence number and a keyed per-row MAC, in the same
transaction as the change it describes; appending takes no lock, so requests do not wait on each other.
`audit_events`: the keyed hash chain. One sealer at a time moves queued rows into it, in batches (caseapp.audit.chain);
a sealed row names the queue row it came from (`queue_id`; NULL for rows written before the queue existed).
Both tables are append-only by trigger; a queue row may be deleted only once it is in the chain (migration 0013).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db

OUTCOMES = ("allowed", "denied", "error")


class _Entry:
    """What one row of the log says: who did what to which object, when, from where (codes only: audit.bounded)."""

    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str | None] = mapped_column(String(64))
    actor_entity: Mapped[str | None] = mapped_column(String(16))
    roles: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_ref: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str | None] = mapped_column(Text)


class AuditEvent(_Entry, db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object_ref_seq", "object_ref", "seq"),
        Index("ix_audit_events_actor_seq", "actor", "seq"),
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_action_ip_at", "action", "ip", "at"),
        # The auditor's console: every filter walks an index in seq order (keyset pagination at 10M rows).
        Index("ix_audit_events_actor_entity_seq", "actor_entity", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_outcome_seq", "outcome", "seq"),
        # The queue's delete trigger looks a row up by it; a queue row is sealed once.
        Index("ux_audit_events_queue_id", "queue_id", unique=True),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    prev_mac: Mapped[str] = mapped_column(String(64), nullable=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)
    queue_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class AuditPending(_Entry, db.Model):
    """A row appended but not yet sealed into the chain. `mac` = HMAC(audit key, "pending" | id and content)."""

    __tablename__ = "audit_queue"
    # SQLite: AUTOINCREMENT, so an id is never reused once its row left for the chain (ids stay dense and in
    # commit order there: one writer at a time, and a rollback gives its id back).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)


# Append-only at the database level. Applied by migrations (and by tests' schema setup), on both dialects.
APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
APPEND_ONLY_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]
DROP_APPEND_ONLY_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
]
DROP_APPEND_ONLY_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
]


def append_only_statements(dialect: str, drop: bool = False) -> list[str]:
    if dialect == "sqlite":
        return DROP_APPEND_ONLY_SQLITE if drop else APPEND_ONLY_SQLITE
    if dialect == "postgresql":
        return DROP_APPEND_ONLY_POSTGRESQL if drop else APPEND_ONLY_POSTGRESQL
    raise RuntimeError(f"unsupported database dialect {dialect}")
