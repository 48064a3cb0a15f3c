"""Family members (indirect victims) gain a document and their own assistance steps; safety flags on a case.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("indirect_victims") as batch:
        batch.add_column(sa.Column("document_type_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("document_number_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_indirect_victims_created_by_id_users"), "users", ["created_by_id"], ["id"])

    op.create_table(
        "safety_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("in_force_key", sa.String(length=40), nullable=True),
        sa.Column("professional_id", sa.Integer(), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("clear_reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_safety_flags_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["professional_id"], ["users.id"], name=op.f("fk_safety_flags_professional_id_users")),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"], name=op.f("fk_safety_flags_set_by_id_users")),
        sa.ForeignKeyConstraint(["cleared_by_id"], ["users.id"], name=op.f("fk_safety_flags_cleared_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_flags")),
        sa.UniqueConstraint("uid", name=op.f("uq_safety_flags_uid")),
        sa.UniqueConstraint("in_force_key", name=op.f("uq_safety_flags_in_force_key")),
    )
    op.create_index("ix_safety_flags_case_cleared", "safety_flags", ["case_id", "cleared_at"], unique=False)

    op.create_table(
        "family_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("indirect_victim_id", sa.Integer(), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("notes_enc", sa.LargeBinary(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_family_steps_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["indirect_victim_id"], ["indirect_victims.id"],
                                name=op.f("fk_family_steps_indirect_victim_id_indirect_victims"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["kind_id"], ["step_kinds.id"], name=op.f("fk_family_steps_kind_id_step_kinds")),
        sa.ForeignKeyConstraint(["professional_id"], ["users.id"], name=op.f("fk_family_steps_professional_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_steps")),
        sa.UniqueConstraint("uid", name=op.f("uq_family_steps_uid")),
    )
    op.create_index(op.f("ix_family_steps_case_id"), "family_steps", ["case_id"], unique=False)
    op.create_index(op.f("ix_family_steps_indirect_victim_id"), "family_steps", ["indirect_victim_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_family_steps_indirect_victim_id"), table_name="family_steps")
    op.drop_index(op.f("ix_family_steps_case_id"), table_name="family_steps")
    op.drop_table("family_steps")
    op.drop_index("ix_safety_flags_case_cleared", table_name="safety_flags")
    op.drop_table("safety_flags")
    with op.batch_alter_table("indirect_victims") as batch:
        batch.drop_constraint(op.f("fk_indirect_victims_created_by_id_users"), type_="foreignkey")
        batch.drop_column("created_at")
        batch.drop_column("created_by_id")
        batch.drop_column("document_number_enc")
        batch.drop_column("document_type_enc")
