"""Seed the step kinds per phase and the due-date rule of Decree 1066 of 2015 art. 2.2.2.2.37.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
