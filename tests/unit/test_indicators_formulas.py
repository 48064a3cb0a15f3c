"""The formula registry on case data: product 3.5 (women linked), victims attended, referrals, immediate assistance."""
from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case, CaseCounter
from caseapp.models.indicators import Product
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, StepKind
from caseapp.services import indicators as ind
from caseapp.services.indicators import stats
from tests.cases_factory import make_case


@pytest.fixture
def people(ctx, factory):
    sw = factory.user("sw", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord", roles=("coordinator",), entity="CTG")
    return sw, db.session.get(User, coord.id)


def product_35() -> Product:
    return db.session.scalar(select(Product).where(Product.code == "3.5"))


def count_35(year: int) -> Fraction:
    return ind.compute(product_35(), date(year, 1, 1), date(year, 12, 31))


def second_case_of_same_victim(code: str, *, linked_on: date) -> str:
    """The same woman comes back: a new case for the same victim (same data key, same person)."""
    first = db.session.scalar(select(Case).where(Case.code == code))
    counter = db.session.get(CaseCounter, (first.owner_entity_id, linked_on.year))
    if counter is None:
        counter = CaseCounter(entity_id=first.owner_entity_id, year=linked_on.year, last=100)
        db.session.add(counter)
    counter.last += 1
    new = Case(code=f"{first.owner_entity.code}-{linked_on.year}-{counter.last:05d}", victim=first.victim,
               owner_entity_id=first.owner_entity_id, status="identified", identified_on=linked_on,
               identification_source="coat", linked_on=linked_on, trafficking_scope="internal")
    db.session.add(new)
    from caseapp.models.cases import Consent

    new.consents.append(Consent(kind="assistance", given_on=linked_on, method="written",
                                recorded_at=datetime(2025, 1, 1)))
    db.session.commit()
    return new.code


def test_product_35_is_seeded_as_its_sheet_says(people):
    p = product_35()
    assert p.indicator.startswith("Número de mujeres víctimas de trata vinculadas al programa de acompañamiento")
    assert p.formula == "women_linked" and p.periodicity == "annual" and p.periods_count == 10
    assert p.first_year == 2025 and p.final_target == 1000 and p.ods_code == "5" and p.official_total
    assert [(t.period, int(t.target)) for t in p.targets] == [(str(y), 100) for y in range(2025, 2035)]
    assert p.objective.code == "3" and p.objective.policy.code == "CTG-PPIG"


def test_a_woman_linked_twice_in_a_year_counts_once(people):
    sw, _coord = people
    code = make_case(sw.id, linked_on=date(2025, 3, 1))
    second_case_of_same_victim(code, linked_on=date(2025, 9, 1))
    assert count_35(2025) == 1


def test_a_man_and_a_case_without_assistance_consent_do_not_count(people):
    sw, _coord = people
    make_case(sw.id, linked_on=date(2025, 3, 1), document_number="1")
    make_case(sw.id, sex="male", linked_on=date(2025, 3, 1), document_number="2")
    no_consent = make_case(sw.id, consent_assistance=False, document_number="3")
    case = db.session.scalar(select(Case).where(Case.code == no_consent))
    case.linked_on = date(2025, 4, 1)  # even with a linking date, no assistance consent means not in the programme
    db.session.commit()
    assert count_35(2025) == 1


def test_counts_by_linking_date_not_registration_date(people):
    sw, _coord = people
    # identified (and registered) in December 2024, linked in January 2025: counts in 2025 only
    make_case(sw.id, identified_on=date(2024, 12, 20), linked_on=date(2025, 1, 10), document_number="1")
    # registered today, linked in 2025: counts in 2025, whatever the registration timestamp says
    make_case(sw.id, identified_on=date(2025, 6, 1), linked_on=date(2025, 6, 2), document_number="2")
    # identified in 2025 but not linked yet: does not count
    make_case(sw.id, identified_on=date(2025, 7, 1), linked_on=None, document_number="3")
    assert count_35(2024) == 0
    assert count_35(2025) == 2


def test_official_total_is_published_but_its_breakdowns_are_suppressed(people):
    sw, coord = people
    for i in range(3):
        make_case(sw.id, linked_on=date(2025, 3, 1), document_number=f"7{i}", age_group="18-20")
    status = ind.product_progress(coord, "3.5", year=2025, as_of=date(2025, 12, 31))
    assert status.achieved == 3 and status.progress == Fraction(3, 100) and status.traffic_light == "red"
    data = ind.dashboard(coord, year=2025)
    by_age = next(t for t in data["breakdowns"] if t.by == ("age_group",))
    # the breakdown is reserved (a null, never "<5"); the official total is published as it is
    assert by_age.as_json() == {"rows": [{"age_group": "18-20", "count": None, "suppressed": True}], "total": 3,
                                "total_suppressed": False, "k": 5, "data_as_of": "2025-12-31"}


def test_the_current_year_is_provisional_and_green_with_its_pace(people, clock):
    sw, coord = people
    for i in range(40):
        make_case(sw.id, linked_on=date(2025, 3, 1), identified_on=date(2025, 3, 1), document_number=f"8{i}")
    clock.set("2025-06-30 12:00")
    status = ind.product_progress(coord, "3.5", year=2025)
    # the cut-off is the last closed month's end: nothing of June is published yet
    assert status.as_of == date(2025, 5, 31) and status.provisional
    assert status.achieved == 40 and status.progress is None and status.traffic_light == "green"
    assert status.year_ideal_so_far == Fraction(100 * 151, 365)
    assert status.pace == Fraction(40 * 365, 100 * 151) and status.pace_light == "green"  # 96.7 % of the ideal
    # a year later, with 2025 closed at 40 of 100, the method counts it: 40 %, red
    clock.set("2026-06-30 12:00")
    later = ind.product_progress(coord, "3.5", year=2026)
    assert later.progress_to_date == Fraction(2, 5) and later.traffic_light == "red" and later.achieved is not None


def _step(case_code, phase, done_on, kind="reception", status="done"):
    case = db.session.scalar(select(Case).where(Case.code == case_code))
    kind_row = db.session.scalar(select(StepKind).where(StepKind.code == kind))
    db.session.add(AssistanceStep(case=case, phase=phase, kind=kind_row, status=status, done_on=done_on))
    db.session.commit()


def test_victims_attended_with_breakdown_by_purpose(people):
    sw, coord = people
    codes = []
    for i in range(6):
        codes.append(make_case(sw.id, document_number=f"1{i}", purposes=("sexual_exploitation",)))
    for i in range(7):
        codes.append(make_case(sw.id, document_number=f"2{i}", purposes=("begging",), sex="male"))
    for code in codes:
        _step(code, "immediate", date(2025, 4, 1))
        _step(code, "immediate", date(2025, 4, 2))  # two steps: still one victim
    _step(make_case(sw.id, document_number="99"), "immediate", None, status="planned")  # not done: not attended
    product = product_35()
    product.formula = "victims_attended"
    db.session.commit()
    assert ind.compute(product, date(2025, 1, 1), date(2025, 12, 31)) == 13
    assert ind.compute(product, date(2024, 1, 1), date(2024, 12, 31)) == 0
    table = stats.breakdown_tables(coord, product, ("exploitation_purpose",), 2025)[0]
    assert {r["exploitation_purpose"]: r["count"] for r in table.as_json()["rows"]} == {
        "sexual_exploitation": 6, "begging": 7}


def test_referrals_answered_share(people):
    sw, _coord = people
    code = make_case(sw.id)
    case = db.session.scalar(select(Case).where(Case.code == code))
    sdis = Entity(code="SDIS2", name="SDIS", kind="government")
    db.session.add(sdis)
    db.session.flush()
    for status, completed in (("done", date(2025, 5, 1)), ("done", date(2025, 6, 1)), ("sent", None),
                              ("withdrawn", None)):
        db.session.add(Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=sdis.id,
                                service="reception", status=status, completed_on=completed,
                                sent_at=datetime(2025, 4, 1)))
    product = product_35()
    product.formula, product.responsible_entity_id = "referrals_answered_share", sdis.id
    db.session.commit()
    assert ind.compute(product, date(2025, 1, 1), date(2025, 12, 31)) == Fraction(200, 3)  # 2 of 3 (withdrawn out)
    assert ind.compute(product, date(2024, 1, 1), date(2024, 12, 31)) is None  # nothing sent: no share


def test_immediate_assistance_within_the_legal_term(people):
    sw, _coord = people
    on_time = make_case(sw.id, document_number="1", intake_on=date(2025, 3, 1))
    late = make_case(sw.id, document_number="2", intake_on=date(2025, 3, 1))
    none = make_case(sw.id, document_number="3", intake_on=date(2025, 3, 1))
    _step(on_time, "immediate", date(2025, 3, 6))  # day 5: within the 5-day term of Decree 1066
    _step(late, "immediate", date(2025, 3, 9))
    _ = none
    product = product_35()
    product.formula = "immediate_within_term_share"
    assert ind.compute(product, date(2025, 1, 1), date(2025, 12, 31)) == Fraction(100, 3)
