"""The protected publication: per territory and year, the counts a coordinator may see, stored once protected.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory", sa.String(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cut_off", sa.Date(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("cells_published", sa.Integer(), nullable=False),
        sa.Column("cells_suppressed", sa.Integer(), nullable=False),
        sa.Column("narrowest", sa.Integer(), nullable=True),
        sa.Column("programmes", sa.Integer(), nullable=False),
        sa.Column("data_stamp", sa.String(length=400), nullable=True),
        sa.UniqueConstraint("territory", "year", name="uq_publications_territory_year"),
    )
    op.create_table(
        "published_cells",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("publication_id", sa.Integer(), sa.ForeignKey("publications.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("base", sa.String(length=40), nullable=False),
        sa.Column("time", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("dims", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
    )
    op.create_index("ix_published_cells_table", "published_cells", ["publication_id", "base", "dims", "time"])


def downgrade():
    op.drop_index("ix_published_cells_table", table_name="published_cells")
    op.drop_table("published_cells")
    op.drop_table("publications")
