"""`flask demo` cases: a few dozen fake cases over several years and entities, loaded once."""
from __future__ import annotations

from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case


def test_demo_cases_are_spread_and_idempotent(ctx):
    from caseapp.demo import accounts, cases

    said = []
    accounts.load(said.append)
    cases.load(said.append)
    total = db.session.scalar(select(func.count(Case.id)))
    assert 30 <= total <= 45
    years = set(db.session.scalars(select(func.distinct(func.extract("year", Case.identified_on)))))
    assert {2023, 2024, 2025} <= {int(y) for y in years}
    entities = set(db.session.scalars(select(Entity.code).join(Case, Case.owner_entity_id == Entity.id)))
    assert {"CTG", "BOG", "ICBF"} <= entities
    assert db.session.scalar(select(func.count(Case.id)).where(Case.declined_assistance.is_(True))) >= 1
    assert db.session.scalar(select(func.count(Case.id)).where(Case.is_child.is_(True))) >= 2
    assert db.session.scalar(select(func.count(Case.id)).where(Case.status == "closed")) >= 1
    assert db.session.scalar(select(func.count(Case.id)).where(Case.linked_on.is_not(None))) >= total // 2
    some = db.session.scalar(select(Case).order_by(Case.id))
    assert some.victim.given_names and some.victim.document_bidx is not None or some.victim.document_type == "NONE"

    cases.load(said.append)
    assert db.session.scalar(select(func.count(Case.id))) == total
    assert "ya" in said[-1].lower() or "already" in said[-1].lower()
