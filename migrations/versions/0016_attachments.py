"""Encrypted attachments of a case (signed consents, acta única, identity documents, court orders).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("section", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("filename_enc", sa.LargeBinary()),
        sa.Column("content_enc", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_case_attachments_case", "case_attachments", ["case_id", "id"])


def downgrade():
    op.drop_index("ix_case_attachments_case", table_name="case_attachments")
    op.drop_table("case_attachments")
