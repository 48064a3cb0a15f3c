"""The access log (bitácora de acceso): append-only, hash-chained rows. Written only by caseapp.audit.record()."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db

OUTCOMES = ("allowed", "denied", "error")


class AuditEvent(db.Model):
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
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
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
    prev_mac: Mapped[str] = mapped_column(String(64), nullable=False)
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
