"""A complete legal follow-up (issue 13): several proceedings per case, each of a kind, with its stage history;
hearings belong to a proceeding and get the next hearing's date; protection measures get the deciding authority
(encrypted) and the end date.

Each existing proceeding becomes a criminal proceeding with one history row (its current stage, dated the day it was
last written), and each existing event belongs to its case's proceeding. A downgrade is refused while a case has more
than one proceeding (one would be lost); otherwise it drops what this revision added.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("legal_proceedings") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=24), nullable=False, server_default="criminal"))
        batch.drop_constraint("uq_legal_proceedings_case_id", type_="unique")
        batch.create_index("ix_legal_proceedings_case_id", ["case_id"], unique=False)
    with op.batch_alter_table("legal_proceedings") as batch:
        batch.alter_column("kind", server_default=None)

    with op.batch_alter_table("legal_events") as batch:
        batch.add_column(sa.Column("proceeding_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_on", sa.Date(), nullable=True))
        batch.create_foreign_key("fk_legal_events_proceeding_id_legal_proceedings", "legal_proceedings",
                                 ["proceeding_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_legal_events_proceeding_id", ["proceeding_id"], unique=False)

    with op.batch_alter_table("protection_measures") as batch:
        batch.add_column(sa.Column("decided_by_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("ended_on", sa.Date(), nullable=True))

    op.create_table(
        "legal_stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("proceeding_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["proceeding_id"], ["legal_proceedings.id"],
                                name=op.f("fk_legal_stage_changes_proceeding_id_legal_proceedings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_legal_stage_changes_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_legal_stage_changes_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_stage_changes")),
        sa.UniqueConstraint("uid", name=op.f("uq_legal_stage_changes_uid")),
    )
    op.create_index("ix_legal_stage_changes_case_on", "legal_stage_changes", ["case_id", "changed_on"],
                    unique=False)
    op.create_index("ix_legal_stage_changes_proceeding_id", "legal_stage_changes", ["proceeding_id"],
                    unique=False)

    # Existing rows: one history row per proceeding (its stage, dated when it was last written), and each event
    # attached to its case's proceeding. A uid like the application's (32 hex characters), made by the database.
    conn = op.get_bind()
    uid = "lower(hex(randomblob(16)))" if conn.dialect.name == "sqlite" else "md5(random()::text || p.id::text)"
    changed_on = "date(p.updated_at)" if conn.dialect.name == "sqlite" else "CAST(p.updated_at AS date)"
    op.execute(
        f"INSERT INTO legal_stage_changes (uid, proceeding_id, case_id, stage, changed_on, recorded_by_id, "  # noqa: S608
        f"recorded_at) SELECT {uid}, p.id, p.case_id, p.stage, {changed_on}, p.updated_by_id, p.updated_at "
        "FROM legal_proceedings p")
    op.execute(
        "UPDATE legal_events SET proceeding_id = (SELECT p.id FROM legal_proceedings p "
        "WHERE p.case_id = legal_events.case_id) WHERE proceeding_id IS NULL")


def downgrade():
    conn = op.get_bind()
    several = conn.execute(sa.text(
        "SELECT count(*) FROM (SELECT case_id FROM legal_proceedings GROUP BY case_id HAVING count(*) > 1) s"
    )).scalar()
    if several:
        raise RuntimeError(f"{several} case(s) have more than one legal proceeding: a downgrade would lose them")
    op.drop_index("ix_legal_stage_changes_proceeding_id", table_name="legal_stage_changes")
    op.drop_index("ix_legal_stage_changes_case_on", table_name="legal_stage_changes")
    op.drop_table("legal_stage_changes")
    with op.batch_alter_table("protection_measures") as batch:
        batch.drop_column("ended_on")
        batch.drop_column("decided_by_enc")
    with op.batch_alter_table("legal_events") as batch:
        batch.drop_index("ix_legal_events_proceeding_id")
        batch.drop_constraint("fk_legal_events_proceeding_id_legal_proceedings", type_="foreignkey")
        batch.drop_column("next_on")
        batch.drop_column("proceeding_id")
    with op.batch_alter_table("legal_proceedings") as batch:
        batch.drop_index("ix_legal_proceedings_case_id")
        batch.create_unique_constraint("uq_legal_proceedings_case_id", ["case_id"])
        batch.drop_column("kind")
