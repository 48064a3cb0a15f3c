"""Seed the step kinds per phase and the due-date rule of Decree 1066 of 2015 art. 2.2.2.2.37.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DECREE = "Decreto 1066 de 2015, art. 2.2.2.2.37 (compila el Decreto 1069 de 2014)"

# code, phase, section (need-to-know of its notes), Spanish, English. Immediate and mediate assistance as
# listed by Decree 1066 of 2015 and practised by the Bogotá committee (seed 003).
STEP_KINDS = [
    ("reception", "immediate", "psychosocial", "Recepción", "Reception"),
    ("transport", "immediate", "psychosocial", "Transporte", "Transport"),
    ("accompaniment", "immediate", "psychosocial", "Acompañamiento", "Accompaniment"),
    ("lodging", "immediate", "psychosocial", "Alojamiento (casa de acogida)", "Lodging (shelter)"),
    ("material_assistance", "immediate", "psychosocial", "Asistencia material (alimentación, kit)",
     "Material assistance (food, kit)"),
    ("medical_assessment", "immediate", "psychosocial", "Valoración médica", "Medical assessment"),
    ("psychological_assessment", "immediate", "psychosocial",
     "Valoración psicológica y primeros auxilios psicológicos", "Psychological assessment and first psychological help"),
    ("legal_orientation", "immediate", "legal", "Orientación jurídica", "Legal orientation"),
    ("documentation", "immediate", "psychosocial", "Expedición de documentos", "Documentation"),
    ("return_repatriation", "immediate", "psychosocial", "Retorno / repatriación", "Return / repatriation"),
    ("security", "immediate", "psychosocial", "Seguridad", "Security"),
    ("psychosocial_followup", "mediate", "psychosocial", "Acompañamiento psicosocial", "Psychosocial follow-up"),
    ("legal_accompaniment", "mediate", "legal", "Acompañamiento jurídico en el proceso judicial",
     "Legal accompaniment in the judicial process"),
    ("health_mental_health", "mediate", "psychosocial", "Aseguramiento en salud y atención en salud mental",
     "Health insurance and mental-health care"),
    ("education", "mediate", "psychosocial", "Educación", "Education"),
    ("job_training", "mediate", "psychosocial", "Formación para el trabajo", "Job training"),
    ("job_placement", "mediate", "psychosocial", "Vinculación laboral", "Job placement"),
    ("income_generation", "mediate", "psychosocial", "Generación de ingresos / iniciativa productiva",
     "Income generation / productive initiative"),
    ("seed_capital", "mediate", "psychosocial", "Capital semilla", "Seed capital"),
    ("rent_subsidy", "mediate", "psychosocial", "Subsidio de arriendo", "Rent subsidy"),
    ("food_voucher", "mediate", "psychosocial", "Bono de alimentos", "Food voucher"),
    ("reintegration", "mediate", "psychosocial", "Reintegración social y económica", "Social and economic reintegration"),
]

step_kinds = sa.table(
    "step_kinds",
    sa.column("code", sa.String), sa.column("phase", sa.String), sa.column("section", sa.String),
    sa.column("label_es", sa.String), sa.column("label_en", sa.String), sa.column("active", sa.Boolean),
    sa.column("sort_order", sa.Integer), sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)

due_rules = sa.table(
    "due_rules",
    sa.column("effective_from", sa.Date), sa.column("effective_to", sa.Date),
    sa.column("immediate_days", sa.Integer), sa.column("immediate_extension_days", sa.Integer),
    sa.column("mediate_months", sa.Integer), sa.column("mediate_extension_months", sa.Integer),
    sa.column("max_extensions", sa.Integer), sa.column("legal_source", sa.String),
    sa.column("version", sa.Integer), sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)


def upgrade():
    now = datetime(2026, 11, 23)
    op.bulk_insert(step_kinds, [
        {"code": code, "phase": phase, "section": section, "label_es": es, "label_en": en, "active": True,
         "sort_order": i, "version": 1, "created_at": now, "updated_at": now}
        for i, (code, phase, section, es, en) in enumerate(STEP_KINDS)
    ])
    # Decree 1069 of 2014 (Diario Oficial 49180, 12 June 2014), compiled by Decree 1066 of 2015: immediate
    # assistance up to 5 calendar days from intake, one extension of up to 5; mediate up to 6 months from the
    # end of the immediate phase, one extension of up to 3 months. Open-ended until an admin records the rule
    # that replaces it (the 2026 amendment of Law 985).
    op.bulk_insert(due_rules, [
        {"effective_from": date(2014, 6, 12), "effective_to": None, "immediate_days": 5,
         "immediate_extension_days": 5, "mediate_months": 6, "mediate_extension_months": 3, "max_extensions": 1,
         "legal_source": DECREE, "version": 1, "created_at": now, "updated_at": now},
    ])


def downgrade():
    op.execute(due_rules.delete())
    op.execute(step_kinds.delete())
