"""One-time tokens of forms and API requests already carried out: a double submit writes once.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_submissions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_submissions_key_hash")),
    )
    op.create_index("ix_submissions_user_created", "submissions", ["user_id", "created_at"])


def downgrade():
    op.drop_index("ix_submissions_user_created", table_name="submissions")
    op.drop_table("submissions")
