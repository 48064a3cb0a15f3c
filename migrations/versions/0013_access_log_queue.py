"""The access log's queue: rows are appended without a lock and sealed into the chain in batches.

`audit_queue` holds appended rows (own sequence, keyed per-row MAC) until the sealer moves them into `audit_events`,
whose new `queue_id` names the queue row a sealed row came from. Append-only like the chain: no UPDATE, no
TRUNCATE, and DELETE only of a row that is already in the chain.

A downgrade is refused once a row was sealed through the queue: those rows' MACs cover `queue_id`, so dropping the
column would leave them unverifiable. It is also refused while rows wait in the queue (they would be lost).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

GUARDS = {
    "sqlite": [
        """CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue
           BEGIN SELECT RAISE(ABORT, 'audit_queue is append-only'); END""",
        """CREATE TRIGGER audit_queue_no_delete BEFORE DELETE ON audit_queue
           WHEN NOT EXISTS (SELECT 1 FROM audit_events WHERE queue_id = OLD.id)
           BEGIN SELECT RAISE(ABORT, 'audit_queue: only a row already sealed into audit_events may leave'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_queue_guard() RETURNS trigger AS $$
           BEGIN
             IF TG_OP = 'DELETE' THEN
               IF EXISTS (SELECT 1 FROM audit_events WHERE queue_id = OLD.id) THEN RETURN OLD; END IF;
             END IF;
             RAISE EXCEPTION 'audit_queue: only a row already sealed into audit_events may leave, none may change';
           END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_queue_no_update BEFORE UPDATE OR DELETE ON audit_queue
           FOR EACH ROW EXECUTE FUNCTION audit_queue_guard()""",
        """CREATE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queue
           FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_guard()""",
    ],
}
DROP_GUARDS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_queue_no_update", "DROP TRIGGER IF EXISTS audit_queue_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_queue_no_update ON audit_queue",
                   "DROP TRIGGER IF EXISTS audit_queue_no_truncate ON audit_queue",
                   "DROP FUNCTION IF EXISTS audit_queue_guard()"],
}


def upgrade():
    op.create_table(
        "audit_queue",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("actor_entity", sa.String(length=16), nullable=True),
        sa.Column("roles", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_ref", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_queue")),
        sqlite_autoincrement=True,
    )
    # Plain ADD COLUMN on both dialects: a batch copy of the table would drop the chain's triggers with it.
    op.add_column("audit_events", sa.Column("queue_id", ID, nullable=True))
    op.create_index("ux_audit_events_queue_id", "audit_events", ["queue_id"], unique=True)
    for statement in GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM audit_queue LIMIT 1")).first() is not None:
        raise RuntimeError("rows wait in the access log's queue: run `flask audit seal` before downgrading")
    if bind.execute(sa.text("SELECT 1 FROM audit_events WHERE queue_id IS NOT NULL LIMIT 1")).first() is not None:
        raise RuntimeError("rows were sealed through the queue; their MACs cover queue_id, so it cannot be dropped")
    for statement in DROP_GUARDS[bind.dialect.name]:
        op.execute(statement)
    op.drop_index("ux_audit_events_queue_id", table_name="audit_events")
    op.execute("ALTER TABLE audit_events DROP COLUMN queue_id")  # SQLite 3.35+: no table copy, triggers kept
    op.drop_table("audit_queue")
