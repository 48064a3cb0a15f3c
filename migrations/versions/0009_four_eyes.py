"""Four eyes on admins' case access: when an account first held the admin role (backfilled for current admins and,
from the access log, for accounts that held it before), and the pending changes of roles or entity of such an
account that wait for a second admin.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("admin_since", sa.DateTime(), nullable=True))
    # Current admins, and accounts the access log shows were created or updated with the admin role (a JSON list
    # of role codes in the row's detail). A false positive only asks for one more approval: the safe side.
    op.execute(
        """UPDATE users SET admin_since = COALESCE(
               (SELECT MIN(a.at) FROM audit_events a
                 WHERE a.object_type = 'user' AND a.object_ref = users.username
                   AND a.action IN ('admin.user.create', 'admin.user.update') AND a.detail LIKE '%"admin"%'),
               users.created_at)
           WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = 'admin')
              OR EXISTS (SELECT 1 FROM audit_events a
                          WHERE a.object_type = 'user' AND a.object_ref = users.username
                            AND a.action IN ('admin.user.create', 'admin.user.update')
                            AND a.detail LIKE '%"admin"%')"""
    )
    op.create_table(
        "account_change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("roles", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"],
                                name=op.f("fk_account_change_requests_entity_id_entities")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_account_change_requests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_change_requests")),
    )
    with op.batch_alter_table("account_change_requests") as batch:
        batch.create_index(batch.f("ix_account_change_requests_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("account_change_requests") as batch:
        batch.drop_index(batch.f("ix_account_change_requests_user_id"))
    op.drop_table("account_change_requests")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("admin_since")
