"""Seed Cartagena's policy product 3.5 (women linked to the programme, 100 a year from 2025).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Cartagena's gender-equality policy, its specific objective 3 and product 3.5 exactly as the product's
"hoja de vida" (seed 000) states them: 10 yearly periods of 100 from 2025, final target 1,000, measured
yearly by the `women_linked` formula; ODS 5 (Igualdad de Género). A fresh install measures it from the first case.
"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POLICY_CODE = "CTG-PPIG"
FIRST_YEAR = 2025
PERIODS = 10

policies = sa.table(
    "policies",
    sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("name", sa.String),
    sa.column("territory", sa.String), sa.column("legal_act", sa.String), sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)
objectives = sa.table(
    "policy_objectives",
    sa.column("id", sa.Integer), sa.column("policy_id", sa.Integer), sa.column("code", sa.String),
    sa.column("name", sa.String), sa.column("weight", sa.Numeric), sa.column("sort_order", sa.Integer),
    sa.column("version", sa.Integer), sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)
products = sa.table(
    "policy_products",
    sa.column("id", sa.Integer), sa.column("objective_id", sa.Integer), sa.column("code", sa.String),
    sa.column("name", sa.String), sa.column("indicator", sa.String), sa.column("formula", sa.String),
    sa.column("formula_text", sa.String), sa.column("baseline", sa.String), sa.column("baseline_year", sa.Integer),
    sa.column("baseline_source", sa.String), sa.column("unit", sa.String), sa.column("accumulation", sa.String),
    sa.column("periodicity", sa.String), sa.column("periods_count", sa.Integer), sa.column("first_year", sa.Integer),
    sa.column("final_target", sa.Numeric), sa.column("weight", sa.Numeric), sa.column("sector", sa.String),
    sa.column("co_responsible", sa.String), sa.column("target_population", sa.String),
    sa.column("ods_code", sa.String), sa.column("ods_name", sa.String), sa.column("official_total", sa.Boolean),
    sa.column("sort_order", sa.Integer), sa.column("active", sa.Boolean), sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime),
)
targets = sa.table(
    "product_targets",
    sa.column("product_id", sa.Integer), sa.column("period", sa.String), sa.column("starts_on", sa.Date),
    sa.column("ends_on", sa.Date), sa.column("target", sa.Numeric), sa.column("version", sa.Integer),
)


def upgrade():
    now = datetime(2026, 11, 23)
    bind = op.get_bind()
    op.bulk_insert(policies, [{
        "code": POLICY_CODE,
        "name": "Política Pública de Igualdad de Género de Cartagena de Indias",
        "territory": "Cartagena de Indias", "legal_act": None, "version": 1, "created_at": now, "updated_at": now,
    }])
    policy_id = bind.execute(sa.select(policies.c.id).where(policies.c.code == POLICY_CODE)).scalar_one()
    op.bulk_insert(objectives, [{
        "policy_id": policy_id, "code": "3",
        "name": "Transformar las normas sociales, los estereotipos y roles de género que sostienen la desigualdad "
                "en los distintos entornos socializadores.",
        "weight": None, "sort_order": 3, "version": 1, "created_at": now, "updated_at": now,
    }])
    objective_id = bind.execute(
        sa.select(objectives.c.id).where(objectives.c.policy_id == policy_id, objectives.c.code == "3")
    ).scalar_one()
    op.bulk_insert(products, [{
        "objective_id": objective_id, "code": "3.5",
        "name": "Programa de acompañamiento, protección y atención psicosocial y jurídico a mujeres víctimas de trata",
        "indicator": "Número de mujeres víctimas de trata vinculadas al programa de acompañamiento, protección y "
                     "atención psicosocial y jurídico",
        "formula": "women_linked",
        "formula_text": "Sumatoria del número de mujeres víctimas de trata vinculadas al programa de "
                        "acompañamiento, protección y atención psicosocial y jurídico",
        "baseline": "ND", "baseline_year": 2023, "baseline_source": "SPDS",
        "unit": "number", "accumulation": "sum", "periodicity": "annual", "periods_count": PERIODS,
        "first_year": FIRST_YEAR, "final_target": 1000, "weight": 1,
        "sector": "Secretaría del Interior y Convivencia Ciudadana",
        "co_responsible": "Secretaría de Participación y Desarrollo Social",
        "target_population": "Mujeres víctimas de trata", "ods_code": "5", "ods_name": "Igualdad de Género",
        "official_total": True, "sort_order": 5, "active": True, "version": 1, "created_at": now, "updated_at": now,
    }])
    product_id = bind.execute(
        sa.select(products.c.id).where(products.c.objective_id == objective_id, products.c.code == "3.5")
    ).scalar_one()
    op.bulk_insert(targets, [
        {"product_id": product_id, "period": str(year), "starts_on": date(year, 1, 1), "ends_on": date(year, 12, 31),
         "target": 100, "version": 1}
        for year in range(FIRST_YEAR, FIRST_YEAR + PERIODS)
    ])


def downgrade():
    bind = op.get_bind()
    policy_id = bind.execute(sa.select(policies.c.id).where(policies.c.code == POLICY_CODE)).scalar()
    if policy_id is None:
        return
    objective_ids = [r[0] for r in bind.execute(sa.select(objectives.c.id).where(objectives.c.policy_id == policy_id))]
    product_ids = [r[0] for r in bind.execute(sa.select(products.c.id).where(products.c.objective_id.in_(objective_ids)))]
    if product_ids:
        op.execute(targets.delete().where(targets.c.product_id.in_(product_ids)))
        op.execute(sa.table("achieved_values", sa.column("product_id")).delete().where(
            sa.column("product_id").in_(product_ids)))
        op.execute(products.delete().where(products.c.id.in_(product_ids)))
    op.execute(objectives.delete().where(objectives.c.policy_id == policy_id))
    op.execute(policies.delete().where(policies.c.id == policy_id))
