"""Territories (issue 11) without HTTP: every formula counts only the cases of its product's territory (hand-computed
values), and the SQL territory rule agrees with the Python one."""
from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.indicators import Product
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, StepKind
from caseapp.services import indicators as ind
from tests.cases_factory import make_case

# --- every formula counts only its product's territory -----------------------------------------------------------


def _formula_data(formula: str, worker_id: int, prefix: str, n: int, responsible_id: int) -> None:
    """n cases of the worker's entity that count for `formula` in 2025 (and, for the shares, one that does not)."""
    reception = db.session.scalar(select(StepKind).where(StepKind.code == "reception"))
    codes = [make_case(worker_id, document_number=f"{prefix}{i}", given_names=f"N{prefix}{i}",
                       linked_on=date(2025, 3, 1), intake_on=date(2025, 3, 1)) for i in range(n + 1)]
    cases = [db.session.scalar(select(Case).where(Case.code == c)) for c in codes]
    for i, case in enumerate(cases):
        counted = i < n
        if formula == "victims_attended" and counted:
            db.session.add(AssistanceStep(case=case, phase="immediate", kind=reception, status="done",
                                          done_on=date(2025, 4, 1)))
        if formula == "immediate_within_term_share":
            db.session.add(AssistanceStep(case=case, phase="immediate", kind=reception, status="done",
                                          done_on=date(2025, 3, 3) if counted else date(2025, 5, 1)))
        if formula == "referrals_answered_share":
            db.session.add(Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=responsible_id,
                                    service="reception", status="done" if counted else "sent",
                                    completed_on=date(2025, 5, 1) if counted else None,
                                    sent_at=datetime(2025, 4, 1)))
    db.session.commit()


# Cartagena: 2 counted (+1 not); Bogotá: 5 counted (+1 not). Hand-computed values for Cartagena alone and for all.
FORMULA_CASES = {
    "women_linked": (Fraction(3), Fraction(9)),  # every woman linked counts, the "+1" too
    "victims_attended": (Fraction(2), Fraction(7)),
    "immediate_within_term_share": (Fraction(200, 3), Fraction(700, 9)),
    "referrals_answered_share": (Fraction(200, 3), Fraction(700, 9)),
}


@pytest.mark.parametrize("formula", FORMULA_CASES)
def test_each_formula_counts_only_the_cases_of_its_products_territory(ctx, factory, formula):
    ctg = factory.user("sw.ctg", roles=("social_worker",), entity="CTG")
    factory.entity("SDIS", territory="11001")
    bog = factory.user("sw.bog", roles=("social_worker",), entity="SDIS")
    responsible = db.session.get(Entity, factory.entity("RESP", territory="CO"))
    product = db.session.scalar(select(Product).where(Product.code == "3.5"))
    product.formula, product.responsible_entity_id = formula, responsible.id
    db.session.commit()
    cartagena, everywhere = FORMULA_CASES[formula]
    _formula_data(formula, ctg.id, "81", 2, responsible.id)
    assert ind.compute(product, date(2025, 1, 1), date(2025, 12, 31)) == cartagena
    _formula_data(formula, bog.id, "82", 5, responsible.id)
    assert ind.compute(product, date(2025, 1, 1), date(2025, 12, 31)) == cartagena
    product.objective.policy.territory_code = "CO"  # the same product, national: Bogotá's cases count too
    db.session.commit()
    assert ind.compute(product, date(2025, 1, 1), date(2025, 12, 31)) == everywhere


PLACES = ("CO", "13", "13001", "13430", "11", "11001", "05001", "88001")


def test_the_sql_rule_and_the_python_rule_agree(ctx, factory):
    for i, place in enumerate(PLACES):
        factory.entity(f"T{i}", territory=place)
    for outer in PLACES:
        in_sql = set(db.session.scalars(select(Entity.territory).where(
            Entity.code.like("T%"), territories.inside(Entity.territory, outer))))
        assert in_sql == {t for t in PLACES if territories.contains(outer, t)}, outer
    assert territories.contains("13", "13001") and not territories.contains("13001", "13")
    assert not territories.contains("13", "CO") and not territories.contains("11001", "13001")
