"""Territories: an entity works in a DIVIPOLA territory (municipality, department or CO for the nation) and a
policy belongs to one; Cartagena's gender-equality policy (product 3.5) is 13001's.

Existing entities become national (CO) until an admin gives each its territory: a national entity's cases count
in no municipality's products, so nothing of one city is shown to another meanwhile.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

policies = sa.table("policies", sa.column("code", sa.String), sa.column("territory_code", sa.String))


def upgrade():
    with op.batch_alter_table("entities") as batch:
        batch.add_column(sa.Column("territory", sa.String(length=5), nullable=False, server_default="CO"))
    with op.batch_alter_table("policies") as batch:
        batch.add_column(sa.Column("territory_code", sa.String(length=5), nullable=False, server_default="CO"))
    op.execute(policies.update().where(policies.c.code == "CTG-PPIG").values(territory_code="13001"))


def downgrade():
    with op.batch_alter_table("policies") as batch:
        batch.drop_column("territory_code")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("territory")
