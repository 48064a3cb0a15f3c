"""A referral's case, receiving entity and status in one index: the check "has this entity an accepted referral for
this case" (authz.live_referral, inside every search and list of cases) reads one row instead of every accepted
referral the entity has received (1,500 rows per candidate on the 100,000-victim benchmark; SQLite chose the
(to_entity_id, status) index over the old (case_id, to_entity_id) one).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-03

"""
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_referrals_case_to_status", "referrals", ["case_id", "to_entity_id", "status"])
    op.drop_index("ix_referrals_case_to", table_name="referrals")


def downgrade():
    op.create_index("ix_referrals_case_to", "referrals", ["case_id", "to_entity_id"])
    op.drop_index("ix_referrals_case_to_status", table_name="referrals")
