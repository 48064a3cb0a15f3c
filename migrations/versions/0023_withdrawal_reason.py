"""A referral's withdrawal reason is kept apart from the receiver's answer: it was written over the answer (losing
it) and shown, under "Answer", to the receiving entity whose access the withdrawal had just ended.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("withdrawal_reason_enc", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("withdrawal_reason_enc")
