"""Case assignments: the professionals who work a case (more than one, social workers and lawyers), history kept.

Each case's `assigned_to_id` (or, when empty, its creator) becomes an open assignment in the role that user holds
(social worker first, else lawyer); then `cases.assigned_to_id` is dropped, so nothing can read it again. The
downgrade puts back, for each case, its first open social worker (else lawyer) as `assigned_to_id`.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The role the migrated user is assigned in: the role she holds, social worker first.
_ROLE_OF = """CASE WHEN EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = {u} AND r.role = 'social_worker')
                   THEN 'social_worker'
                   WHEN EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = {u} AND r.role = 'lawyer')
                   THEN 'lawyer' END"""


def upgrade():
    op.create_table(
        "case_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_assignments_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_case_assignments_user_id_users")),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["users.id"],
                                name=op.f("fk_case_assignments_assigned_by_id_users")),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_case_assignments_ended_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_assignments")),
    )
    op.create_index("ix_case_assignments_user_open", "case_assignments", ["user_id", "ended_at"], unique=False)
    op.create_index("ix_case_assignments_case_open", "case_assignments", ["case_id", "ended_at"], unique=False)
    user = "COALESCE(c.assigned_to_id, c.created_by_id)"
    op.execute(f"""
        INSERT INTO case_assignments (case_id, user_id, role, assigned_at, assigned_by_id)
        SELECT c.id, {user}, {_ROLE_OF.format(u=user)}, c.created_at, c.created_by_id
        FROM cases c
        WHERE {user} IS NOT NULL AND ({_ROLE_OF.format(u=user)}) IS NOT NULL""")
    op.drop_index("ix_cases_assigned_to_id", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_assigned_to_id_users", type_="foreignkey")
        batch.drop_column("assigned_to_id")


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_cases_assigned_to_id_users", "users", ["assigned_to_id"], ["id"])
    op.create_index("ix_cases_assigned_to_id", "cases", ["assigned_to_id"], unique=False)
    op.execute("""
        UPDATE cases SET assigned_to_id = (
            SELECT a.user_id FROM case_assignments a
            WHERE a.case_id = cases.id AND a.ended_at IS NULL
            ORDER BY CASE WHEN a.role = 'social_worker' THEN 0 ELSE 1 END, a.id LIMIT 1)""")
    op.drop_index("ix_case_assignments_case_open", table_name="case_assignments")
    op.drop_index("ix_case_assignments_user_open", table_name="case_assignments")
    op.drop_table("case_assignments")
