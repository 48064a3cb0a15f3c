"""Formula parameters of a policy product: the population it counts (all, women, migrants, children, ethnic
groups, ...), the kind of assistance step and the provider entity its formula is about (issue 11's formulas).

Existing products count everyone (population "all") with no step kind or provider: their values do not change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("policy_products") as batch:
        batch.add_column(sa.Column("formula_population", sa.String(length=24), nullable=False,
                                   server_default="all"))
        batch.add_column(sa.Column("formula_step_kind_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("formula_provider_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_policy_products_formula_step_kind_id_step_kinds"), "step_kinds",
                                 ["formula_step_kind_id"], ["id"])
        batch.create_foreign_key(batch.f("fk_policy_products_formula_provider_id_entities"), "entities",
                                 ["formula_provider_id"], ["id"])


def downgrade():
    with op.batch_alter_table("policy_products") as batch:
        batch.drop_constraint("fk_policy_products_formula_provider_id_entities", type_="foreignkey")
        batch.drop_constraint("fk_policy_products_formula_step_kind_id_step_kinds", type_="foreignkey")
        batch.drop_column("formula_provider_id")
        batch.drop_column("formula_step_kind_id")
        batch.drop_column("formula_population")
