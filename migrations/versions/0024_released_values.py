"""Every value a release of a year's publication published, kept when the release is replaced: the next release is
protected against the figures already out (a reader who kept April's release subtracts it from May's), and the sums
of suppressed cells a release gave away (a line's published margin minus its published cells). The values of the
publications stored today are the first ones kept.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "released_values",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory", sa.String(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(length=40), nullable=False),
        sa.Column("time", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("dims", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.UniqueConstraint("territory", "year", "base", "time", "period", "dims", "key", "value",
                            name="uq_released_values_cell_value"),
    )
    op.create_table(
        "released_sums",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory", sa.String(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(length=40), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("members_hash", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.UniqueConstraint("territory", "year", "base", "members_hash", "value", name="uq_released_sums_members_value"),
    )
    op.execute(
        'INSERT INTO released_values (territory, year, base, "time", period, dims, "key", value) '
        'SELECT p.territory, p.year, c.base, c."time", c.period, c.dims, c."key", c.value '
        "FROM published_cells c JOIN publications p ON p.id = c.publication_id WHERE c.value IS NOT NULL"
    )


def downgrade():
    op.drop_table("released_sums")
    op.drop_table("released_values")
