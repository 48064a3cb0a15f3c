"""Seed the versioned catalogue of purposes of exploitation (penal code art. 188A, and the 2026 wording).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ART_188A = "Código Penal, art. 188A (Ley 985 de 2005)"
AMENDMENT_2026 = "Reforma de la Ley 985 de 2005 (2026)"

PURPOSES = [
    # code, Spanish, English, source
    ("sexual_exploitation", "Explotación sexual (prostitución ajena u otras formas)", "Sexual exploitation", ART_188A),
    ("forced_labour", "Trabajos o servicios forzados", "Forced labour or services", ART_188A),
    ("begging", "Mendicidad ajena", "Begging by others", ART_188A),
    ("servile_marriage", "Matrimonio servil", "Servile marriage", ART_188A),
    ("servitude", "Servidumbre", "Servitude", ART_188A),
    ("slavery", "Esclavitud o prácticas análogas", "Slavery or similar practices", ART_188A),
    ("organ_extraction", "Extracción de órganos", "Organ extraction", ART_188A),
    ("sex_tourism", "Turismo sexual", "Sex tourism", ART_188A),
    ("other", "Otras formas de explotación", "Other forms of exploitation", ART_188A),
    ("forced_criminality", "Criminalidad forzada", "Forced criminality", AMENDMENT_2026),
    ("illegal_adoption", "Adopción ilegal", "Illegal adoption", AMENDMENT_2026),
    ("reproductive_exploitation", "Explotación reproductiva", "Reproductive exploitation", AMENDMENT_2026),
    ("forced_recruitment", "Reclutamiento forzado", "Forced recruitment", AMENDMENT_2026),
]

purposes = sa.table(
    "exploitation_purposes",
    sa.column("code", sa.String), sa.column("label_es", sa.String), sa.column("label_en", sa.String),
    sa.column("valid_from", sa.Date), sa.column("valid_to", sa.Date), sa.column("legal_source", sa.String),
    sa.column("sort_order", sa.Integer), sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)


def upgrade():
    now = datetime(2026, 11, 23)
    # The 2005 wording is in force from the law's date; the amendment's additions from 2026-01-01 until an
    # admin records the exact date the new wording took effect.
    op.bulk_insert(purposes, [
        {"code": code, "label_es": es, "label_en": en,
         "valid_from": date(2005, 8, 29) if source == ART_188A else date(2026, 1, 1), "valid_to": None,
         "legal_source": source, "sort_order": i, "version": 1, "created_at": now, "updated_at": now}
        for i, (code, es, en, source) in enumerate(PURPOSES)
    ])


def downgrade():
    op.execute(purposes.delete())
