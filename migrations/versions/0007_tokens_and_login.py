"""API tokens that expire and have a scope, the first login step kept on the server, and throttling by delays
instead of a hard lockout.

- api_tokens: expires_at (existing tokens: 90 days after they were created, so old ones stop at once), scope
  (existing tokens keep read-write), revoke_reason;
- pending_logins: the password-checked half of a login, single use, found by a keyed hash of the browser's id;
- login_throttles: failure counters per account, per address and per pair (keyed hashes), with the time before
  which the next attempt is refused;
- users.failed_logins and users.locked_until go: nothing locks an account any more.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TOKEN_DAYS = 90

api_tokens = sa.table(
    "api_tokens", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime),
    sa.column("expires_at", sa.DateTime),
)


def upgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(length=16), server_default="read-write", nullable=False))
        batch.add_column(sa.Column("revoke_reason", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    for token_id, created_at in conn.execute(sa.select(api_tokens.c.id, api_tokens.c.created_at)).all():
        conn.execute(api_tokens.update().where(api_tokens.c.id == token_id)
                     .values(expires_at=created_at + timedelta(days=TOKEN_DAYS)))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)

    op.create_table(
        "pending_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_pending_logins_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_logins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_logins_token_hash")),
    )
    op.create_index(op.f("ix_pending_logins_user_id"), "pending_logins", ["user_id"], unique=False)

    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index(op.f("ix_login_throttles_last_failure_at"), "login_throttles", ["last_failure_at"],
                    unique=False)

    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.drop_index(op.f("ix_login_throttles_last_failure_at"), table_name="login_throttles")
    op.drop_table("login_throttles")
    op.drop_index(op.f("ix_pending_logins_user_id"), table_name="pending_logins")
    op.drop_table("pending_logins")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoke_reason")
        batch.drop_column("scope")
        batch.drop_column("expires_at")
