"""PostgreSQL: the access log's sealer tries the chain lock and reads the chain's head in one round trip.

`audit_chain_try(lock_key)` tries the advisory lock (never waits) and, when it has it, returns the head of the chain
and whether rows wait in the queue; when another sealer holds the chain it returns no row. The head is read by a
statement of its own inside the function, after the lock: a VOLATILE function's statements each take a fresh
snapshot, so the read sees the last sealer's commit (one SELECT calling the lock function and reading the head would
read with a snapshot taken before the lock was held). Every request that writes an access-log row sent the try and
the read as two statements. SQLite has no advisory lock (its sealer holds the write lock): nothing to do there.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06

"""
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """CREATE FUNCTION audit_chain_try(lock_key bigint)
           RETURNS TABLE (head_seq bigint, head_mac text, head_at timestamp without time zone, queued boolean)
           LANGUAGE plpgsql VOLATILE AS $$
           BEGIN
             IF NOT pg_try_advisory_xact_lock(lock_key) THEN
               RETURN;
             END IF;
             RETURN QUERY
               SELECT e.seq::bigint, e.mac::text, e.at, EXISTS (SELECT 1 FROM audit_queue)
               FROM (SELECT 1) AS one
               LEFT JOIN (SELECT seq, mac, at FROM audit_events ORDER BY seq DESC LIMIT 1) AS e ON true;
           END; $$""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS audit_chain_try(bigint)")
