"""The access log is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
from alembic import op

from caseapp.models.audit import append_only_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    for statement in append_only_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in append_only_statements(op.get_bind().dialect.name, drop=True):
        op.execute(statement)
