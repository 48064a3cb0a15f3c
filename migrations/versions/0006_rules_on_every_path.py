"""Rules on every path: who records each step kind and what a referral for it must share, referrals linked to
the step that fulfilled them and ended when consent is withdrawn, consents indexed by when they are in force, and
a nationality left blank staying blank.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Who records each kind: its section's role, except legal orientation in the immediate phase, which the social
# worker or the lawyer gives (seed 003 lists it among the immediate components).
RECORDED_BY = {"legal_orientation": "social_worker,lawyer"}
# What a referral for each seeded service must share besides the summary (at least one of them).
REFERRAL_SECTIONS = {
    "psychological_assessment": "psychosocial,account",
    "psychosocial_followup": "psychosocial,account",
    "legal_orientation": "legal,account",
    "legal_accompaniment": "legal,account",
}
IDENTITY_SERVICES = (
    "reception", "transport", "accompaniment", "lodging", "material_assistance", "medical_assessment",
    "documentation", "return_repatriation", "security", "health_mental_health", "education", "job_training",
    "job_placement", "income_generation", "seed_capital", "rent_subsidy", "food_voucher", "reintegration",
)

step_kinds = sa.table(
    "step_kinds",
    sa.column("code", sa.String), sa.column("section", sa.String), sa.column("recorded_by", sa.String),
    sa.column("referral_sections", sa.String),
)


def upgrade():
    with op.batch_alter_table("step_kinds") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(length=64), nullable=False,
                                   server_default="social_worker"))
        batch.add_column(sa.Column("referral_sections", sa.String(length=100), nullable=False, server_default=""))
    op.execute(step_kinds.update().where(step_kinds.c.section == "legal").values(recorded_by="lawyer"))
    for code, roles in RECORDED_BY.items():
        op.execute(step_kinds.update().where(step_kinds.c.code == code).values(recorded_by=roles))
    for code, sections in REFERRAL_SECTIONS.items():
        op.execute(step_kinds.update().where(step_kinds.c.code == code).values(referral_sections=sections))
    op.execute(step_kinds.update().where(step_kinds.c.code.in_(IDENTITY_SERVICES)).values(referral_sections="identity"))
    with op.batch_alter_table("step_kinds") as batch:
        batch.alter_column("recorded_by", server_default=None)
        batch.alter_column("referral_sections", server_default=None)

    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("step_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("access_ended_on", sa.Date(), nullable=True))
        batch.create_foreign_key(batch.f("fk_referrals_step_id_assistance_steps"), "assistance_steps",
                                 ["step_id"], ["id"])

    op.drop_index("ix_consents_case_kind_given", table_name="consents")
    op.create_index("ix_consents_case_kind_in_force", "consents", ["case_id", "kind", "given_on", "withdrawn_on"],
                    unique=False)

    with op.batch_alter_table("victims") as batch:
        batch.alter_column("nationality", existing_type=sa.String(length=2), nullable=True)


def downgrade():
    victims = sa.table("victims", sa.column("nationality", sa.String))
    op.execute(victims.update().where(victims.c.nationality.is_(None)).values(nationality="CO"))
    with op.batch_alter_table("victims") as batch:
        batch.alter_column("nationality", existing_type=sa.String(length=2), nullable=False)

    op.drop_index("ix_consents_case_kind_in_force", table_name="consents")
    op.create_index("ix_consents_case_kind_given", "consents", ["case_id", "kind", "given_on"], unique=False)

    with op.batch_alter_table("referrals") as batch:
        batch.drop_constraint(batch.f("fk_referrals_step_id_assistance_steps"), type_="foreignkey")
        batch.drop_column("access_ended_on")
        batch.drop_column("step_id")

    with op.batch_alter_table("step_kinds") as batch:
        batch.drop_column("referral_sections")
        batch.drop_column("recorded_by")
