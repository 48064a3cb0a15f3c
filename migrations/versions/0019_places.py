"""Places on a case, coarse and never an address (DIVIPOLA municipalities of identification, recruitment and
exploitation; the destination country of external trafficking; the HTCDS recruitment method), and the methods of
control aligned with HTCDS.

The stored codes of the two methods of control HTCDS lacks are rewritten to the HTCDS method they count as (a
frozen copy of caseapp.models.cases.CONTROL_METHODS_FORMER: a migration never imports the models). Downgrading
leaves the rewritten codes and turns the three HTCDS methods the first list lacked into "other", a code it knew.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

FORMER = {"threats_to_family": "threats", "isolation": "restricts_movement"}
ADDED = ("restricts_financial_access", "uses_children", "withholds_necessities")

cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("control_methods", sa.String))


def _rewrite(mapping: dict) -> None:
    conn = op.get_bind()
    match = sa.or_(*[cases.c.control_methods.like(f"%{code}%") for code in mapping])
    for row_id, stored in conn.execute(sa.select(cases.c.id, cases.c.control_methods).where(match)).all():
        codes = list(dict.fromkeys(mapping.get(c, c) for c in (stored or "").split(",") if c))
        new = ",".join(codes)
        if new != stored:
            conn.execute(cases.update().where(cases.c.id == row_id).values(control_methods=new))


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("identification_municipality", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("recruitment_municipality", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("exploitation_municipality", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("destination_country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("recruitment_method", sa.String(length=32), nullable=True))
    _rewrite(FORMER)


def downgrade():
    _rewrite(dict.fromkeys(ADDED, "other"))
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("recruitment_method")
        batch.drop_column("destination_country")
        batch.drop_column("exploitation_municipality")
        batch.drop_column("recruitment_municipality")
        batch.drop_column("identification_municipality")
