"""The formula registry's formulas and population filters against one hand-computed fixture (issue 11), the rows
interface the publication counts through, and the one check of a product's formula parameters.

The fixture (Cartagena, 2025 unless said; "done" steps only count):
  A  woman, Colombian, Afro-Colombian, with a disability; identified 1 Feb, linked 10 Feb;
     income generation done 5 Mar by SDMUJER, job training done 10 Apr by SENA; complaint filed 1 May (legal file)
  B  woman, irregular migrant (VE); identified 15 Feb, linked 1 Mar; job training done 1 Jun and 1 Jul by SENA
  C  man, child (9-17), indigenous; identified 1 Feb, not linked; reception done 2 Feb (no provider);
     income generation only planned; a complaint filed 1 Jun (a man: not in the women's formula)
  D  woman; identified 15 Jan, linked 20 Jan; no step; complaint recorded when the mediate phase began, 1 Aug
  E  woman, LGBTIQ+; identified 20 Dec 2024, linked 21 Dec 2024; income generation done 5 Jan 2025 by SDMUJER;
     complaint filed 22 Dec 2024
  G  Bogotá's woman (an entity of 11001): income generation done 5 Mar 2025 by SDMUJER - never in Cartagena's counts
"""
from __future__ import annotations

import calendar
from datetime import date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import select

from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case
from caseapp.models.indicators import Product
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, CaseRoute, LegalProceeding, StepKind
from caseapp.services import indicators as ind
from tests.cases_factory import make_case

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def _case(code: str) -> Case:
    return db.session.scalar(select(Case).where(Case.code == code))


def _entity(code: str) -> int:
    return db.session.scalar(select(Entity.id).where(Entity.code == code))


def _step(code, kind, done_on, provider=None, status="done"):
    kind_row = db.session.scalar(select(StepKind).where(StepKind.code == kind))
    db.session.add(AssistanceStep(case=_case(code), phase=kind_row.phase, kind=kind_row, status=status,
                                  done_on=done_on if status == "done" else None,
                                  planned_on=done_on if status != "done" else None,
                                  provider_entity_id=_entity(provider) if provider else None))


@pytest.fixture
def cases(ctx, factory):
    for code in ("SENA", "SDMUJER"):
        factory.entity(code, territory="13001")
    factory.entity("BOGX", territory="11001")
    factory.entity("ICBF2", territory="CO")
    sw = factory.user("sw", roles=("social_worker",), entity="CTG")
    factory.user("admin.f", roles=("admin",), entity="CTG")
    bog = factory.user("sw.bog", roles=("social_worker",), entity="BOGX")
    c = {
        "A": make_case(sw.id, document_number="1", identified_on=date(2025, 2, 1), linked_on=date(2025, 2, 10)),
        "B": make_case(sw.id, document_number="2", identified_on=date(2025, 2, 15), linked_on=date(2025, 3, 1),
                       nationality="VE"),
        "C": make_case(sw.id, document_number="3", identified_on=date(2025, 2, 1), linked_on=None, sex="male",
                       age_group="9-17", is_child=True),
        "D": make_case(sw.id, document_number="4", identified_on=date(2025, 1, 15), linked_on=date(2025, 1, 20)),
        "E": make_case(sw.id, document_number="5", identified_on=date(2024, 12, 20), linked_on=date(2024, 12, 21)),
        "G": make_case(bog.id, document_number="6", identified_on=date(2025, 2, 1), linked_on=date(2025, 2, 2)),
    }
    victims = {k: _case(v).victim for k, v in c.items()}
    victims["A"].ethnic_group, victims["A"].disability, victims["A"].migrant_status = "afrocolombian", "yes", "national"
    victims["B"].migrant_status = "irregular_migrant"
    victims["C"].ethnic_group = "indigenous"
    victims["E"].lgbtiq = "yes"
    _step(c["A"], "income_generation", date(2025, 3, 5), "SDMUJER")
    _step(c["A"], "job_training", date(2025, 4, 10), "SENA")
    _step(c["B"], "job_training", date(2025, 6, 1), "SENA")
    _step(c["B"], "job_training", date(2025, 7, 1), "SENA")
    _step(c["C"], "reception", date(2025, 2, 2))
    _step(c["C"], "income_generation", date(2025, 9, 1), "SDMUJER", status="planned")
    _step(c["E"], "income_generation", date(2025, 1, 5), "SDMUJER")
    _step(c["G"], "income_generation", date(2025, 3, 5), "SDMUJER")
    for key, filed in (("A", date(2025, 5, 1)), ("C", date(2025, 6, 1)), ("E", date(2024, 12, 22)),
                       ("G", date(2025, 5, 1))):
        db.session.add(LegalProceeding(case=_case(c[key]), complaint_filed_on=filed))
    db.session.add(CaseRoute(case=_case(c["D"]), complaint_on=date(2025, 8, 1)))
    db.session.commit()
    return c


def product(formula: str, population="all", step_kind=None, provider=None) -> Product:
    """Product 3.5 (Cartagena's) turned into the formula under test, through the admin's own rule."""
    p = db.session.scalar(select(Product).where(Product.code == "3.5"))
    values, errors = ind.check_params(formula, population, step_kind, provider)
    assert errors == {}
    p.formula = formula
    for key, value in values.items():
        setattr(p, key, value)
    db.session.commit()
    return p


COUNTS = [
    # formula, population, step kind, provider: hand-computed 2025 value
    ("victims_attended", "all", None, None, 4),  # A B C E
    ("victims_with_step", "all", "income_generation", None, 2),  # A E (C's is only planned, G is Bogotá's)
    ("victims_with_step", "all", "job_training", None, 2),  # A B (B twice: once)
    ("victims_with_step", "migrants", "job_training", None, 1),  # B
    ("victims_with_step", "ethnic_groups", "job_training", None, 1),  # A
    ("victims_with_step", "all", "job_training", "SENA", 2),
    ("victims_with_step", "all", "income_generation", "SENA", 0),
    ("victims_attended_by_provider", "all", None, "SDMUJER", 2),  # A E
    ("victims_attended_by_provider", "all", None, "SENA", 2),  # A B
    ("victims_attended_by_provider", "all", "income_generation", "SENA", 0),
    ("victims_attended_by_provider", "women", "job_training", "SENA", 2),
    ("women_with_complaint", "all", None, None, 2),  # A (legal file), D (mediate phase); C a man, E in 2024
    ("women_with_complaint", "migrants", None, None, 0),
    ("women_linked", "all", None, None, 3),  # A B D
    ("women_linked", "migrants", None, None, 1),  # B
]


@pytest.mark.parametrize(("formula", "population", "step_kind", "provider", "expected"), COUNTS)
def test_each_count_formula_against_the_fixture(cases, formula, population, step_kind, provider, expected):
    assert ind.compute(product(formula, population, step_kind, provider), *YEAR) == expected


# victims_attended (A B C E) under every population of the plans' differential approach
POPULATION_COUNTS = {"all": 4, "women": 3, "migrants": 1, "children": 1, "ethnic_groups": 2, "lgbtiq": 1,
                     "disability": 1}


def test_the_fixture_covers_every_population_and_each_has_its_label():
    assert set(POPULATION_COUNTS) == set(ind.POPULATIONS) == set(LABELS["formula_population"])
    assert set(ind.FORMULAS) <= set(LABELS["formula"])


@pytest.mark.parametrize("population", POPULATION_COUNTS)
def test_each_population_filter_against_the_fixture(cases, population):
    assert ind.compute(product("victims_attended", population), *YEAR) == POPULATION_COUNTS[population]


def test_counts_by_the_day_the_step_was_done_and_a_planned_step_is_not_attended(cases):
    p = product("victims_with_step", "all", "income_generation")
    assert ind.compute(p, date(2024, 1, 1), date(2024, 12, 31)) == 0
    assert ind.compute(p, date(2025, 1, 1), date(2025, 1, 31)) == 1  # E
    assert ind.compute(p, date(2025, 9, 1), date(2025, 9, 30)) == 0  # C's planned step


def test_women_with_complaint_counts_by_the_complaint_date(cases):
    p = product("women_with_complaint")
    assert ind.compute(p, date(2024, 1, 1), date(2024, 12, 31)) == 1  # E, linked the day before
    assert ind.compute(p, date(2025, 1, 1), date(2025, 6, 30)) == 1  # A; D's complaint is in August


def test_a_withdrawn_consent_takes_her_out_of_the_complaint_count(cases):
    consent = _case(cases["A"]).consents[0]
    consent.withdrawn_on = date(2025, 6, 1)
    db.session.commit()
    p = product("women_with_complaint")
    assert ind.compute(p, *YEAR) == 1  # D only
    assert ind.compute(p, date(2025, 5, 1), date(2025, 5, 31)) == 1  # in May her consent was in force


def test_coverage_is_victims_identified_who_were_attended(cases):
    # identified in 2025: A B C D (E in 2024); attended by the year's end: A B C -> 75 %
    assert ind.compute(product("coverage"), *YEAR) == 75
    assert ind.compute(product("coverage", "women"), *YEAR) == Fraction(200, 3)  # A B of A B D
    assert ind.compute(product("coverage", "children"), *YEAR) == 100  # C
    assert ind.compute(product("coverage", "lgbtiq"), *YEAR) is None  # E was identified in 2024: no share
    # identified in January: D, never attended; by the end of February: D, A, C, B, of whom C was attended
    assert ind.compute(product("coverage"), date(2025, 1, 1), date(2025, 1, 31)) == 0
    assert ind.compute(product("coverage"), date(2025, 1, 1), date(2025, 2, 28)) == 25


def _referrals(c):
    sena, icbf = _entity("SENA"), _entity("ICBF2")
    a, b = _case(c["A"]), _case(c["B"])
    rows = [  # (case, to, sent, due, responded, status)
        (a, sena, date(2025, 3, 1), date(2025, 3, 10), date(2025, 3, 5), "accepted"),  # on time
        (a, sena, date(2025, 3, 1), date(2025, 3, 10), date(2025, 3, 15), "rejected"),  # late
        (a, sena, date(2025, 4, 1), date(2025, 4, 10), None, "sent"),  # overdue, unanswered
        (a, sena, date(2025, 12, 28), date(2026, 1, 5), None, "sent"),  # not due by the year's end
        (a, sena, date(2025, 5, 1), date(2025, 5, 10), None, "withdrawn"),  # taken back: owed nothing
        (b, icbf, date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 2), "done"),  # on time, the due day itself
    ]
    for case, to, sent, due, responded, status in rows:
        db.session.add(Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=to, service="reception",
                                status=status, due_on=due, responded_on=responded,
                                completed_on=responded if status == "done" else None,
                                sent_at=datetime(sent.year, sent.month, sent.day, 15, 30)))
    db.session.commit()


def test_referrals_answered_by_their_due_date(cases):
    _referrals(cases)
    assert ind.compute(product("referrals_on_time_share", provider="SENA"), *YEAR) == Fraction(100, 3)  # 1 of 3
    assert ind.compute(product("referrals_on_time_share"), *YEAR) == 50  # every receiver: 2 of 4
    assert ind.compute(product("referrals_on_time_share", "migrants"), *YEAR) == 100  # B's
    # at the end of March: the two of 1 March were answered, one on time; April's was not sent yet
    assert ind.compute(product("referrals_on_time_share"), date(2025, 1, 1), date(2025, 3, 31)) == 50
    # on 9 March neither was due nor the late one answered: only the one answered on the 5th owed an answer
    assert ind.compute(product("referrals_on_time_share"), date(2025, 1, 1), date(2025, 3, 9)) == 100
    assert ind.compute(product("referrals_on_time_share"), date(2024, 1, 1), date(2024, 12, 31)) is None


def test_the_old_referral_share_still_counts_those_sent_to_the_responsible_entity(cases):
    _referrals(cases)
    p = product("referrals_answered_share")
    assert ind.compute(p, *YEAR) == 20  # B's done of the five not withdrawn
    p.responsible_entity_id = _entity("SENA")
    db.session.commit()
    assert ind.params_of(p) == {"population": "all", "provider_entity": "SENA"}
    assert ind.compute(p, *YEAR) == 0  # none of SENA's four was done


def test_bogota_changes_nothing_in_cartagena_and_a_national_product_counts_both(cases):
    p = product("victims_with_step", "all", "income_generation")
    assert ind.compute(p, *YEAR) == 2
    p.objective.policy.territory_code = "CO"
    db.session.commit()
    assert ind.compute(p, *YEAR) == 3  # G too
    assert ind.compute(product("women_with_complaint"), *YEAR) == 3


# --- the rows interface the publication counts through --------------------------------------------------------


def _rows_functions():
    for key, formula in ind.FORMULAS.items():
        for part in ("rows", "numerator", "denominator"):
            if getattr(formula, part) is not None:
                yield key, part


@pytest.mark.parametrize(("key", "part"), list(_rows_functions()))
def test_every_formula_exposes_labelled_rows_inside_the_period(cases, key, part):
    _referrals(cases)
    params = {"population": "all", "step_kind": "job_training"} if key == "victims_with_step" else \
        {"population": "all", "provider_entity": "SENA"} if key == "victims_attended_by_provider" else {}
    rows = getattr(ind.FORMULAS[key], part)(params, *YEAR, "13001")
    assert [c.name for c in rows.selected_columns] == ["unit_id", "case_id", "counted_on"]
    found = db.session.execute(rows).all()
    assert all(YEAR[0] <= r.counted_on <= YEAR[1] for r in found)
    ctg_cases = {_case(cases[k]).id for k in "ABCDE"}
    assert {r.case_id for r in found} <= ctg_cases
    assert ind.count(rows) == len({r.unit_id for r in found})


def test_a_count_that_depends_on_the_periods_end_is_not_placeable(cases):
    """A's consent withdrawn on 1 June: she counts for product 3.5 in February, not in the year's rows."""
    consent = _case(cases["A"]).consents[0]
    consent.withdrawn_on = date(2025, 6, 1)
    db.session.commit()
    assert not ind.FORMULAS["women_linked"].placeable
    found = db.session.execute(ind.FORMULAS["women_linked"].rows({}, *YEAR, "13001")).all()
    february = (date(2025, 2, 1), date(2025, 2, 28))
    assert len([r for r in found if february[0] <= r.counted_on <= february[1]]) == 0
    assert ind.value("women_linked", {}, *february, "13001") == 1


def test_a_shares_numerator_is_part_of_its_denominator_month_by_month(cases):
    _referrals(cases)
    for key in ("coverage", "referrals_on_time_share", "referrals_answered_share", "immediate_within_term_share"):
        formula = ind.FORMULAS[key]
        num = set(db.session.execute(formula.numerator({}, *YEAR, "13001")).all())
        den = set(db.session.execute(formula.denominator({}, *YEAR, "13001")).all())
        assert num <= den, key


def test_months_of_a_years_rows_are_the_months_values(cases):
    """A placeable count placed in months by `counted_on` agrees with the count of each month."""
    placeable = [k for k, f in ind.FORMULAS.items() if f.placeable]
    assert placeable == ["victims_attended", "victims_with_step", "victims_attended_by_provider"]
    for key, params in (("victims_with_step", {"step_kind": "job_training"}), ("victims_attended", {}),
                        ("victims_attended_by_provider", {"provider_entity": "SENA"})):
        found = db.session.execute(ind.FORMULAS[key].rows(params, *YEAR, "13001")).all()
        for month in range(1, 13):
            first, last = date(2025, month, 1), date(2025, month, calendar.monthrange(2025, month)[1])
            placed = len({r.unit_id for r in found if first <= r.counted_on <= last})
            assert placed == ind.value(key, params, first, last, "13001"), (key, month)


# --- the parameters' one check ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("formula", "population", "step_kind", "provider", "field", "message"), [
    ("victims_with_step", "all", "cosmetologia", None, "step_kind",
     'No hay ningún tipo de acción de asistencia con el código "cosmetologia".'),
    ("victims_with_step", "all", None, None, "step_kind", "necesita el tipo de acción que cuenta"),
    ("victims_attended_by_provider", "all", None, "NOEXISTE", "provider_entity",
     'No hay ninguna entidad con el código "NOEXISTE".'),
    ("victims_attended_by_provider", "all", None, None, "provider_entity", "necesita la entidad prestadora"),
    ("women_linked", "all", "job_training", None, "step_kind", "no cuenta por tipo de acción"),
    ("coverage", "all", None, "SENA", "provider_entity", "no cuenta por entidad prestadora"),
    ("victims_attended", "martians", None, None, "population", "Elija una población de la lista."),
    ("manual", "women", None, None, "population", "no cuenta ninguna población"),
])
def test_bad_parameters_are_refused_in_spanish_and_nothing_is_saved(cases, formula, population, step_kind,
                                                                   provider, field, message):
    p = db.session.scalar(select(Product).where(Product.code == "3.5"))
    admin = db.session.get(User, _admin())
    data = {"name": p.name, "indicator": p.indicator, "formula": formula, "weight": "1", "population": population,
            "step_kind": step_kind or "", "provider_entity": provider or ""}
    with pytest.raises(Invalid) as refused:
        ind.update_product(admin, p.id, data, p.version)
    assert message in str(refused.value.field_errors[field])
    db.session.rollback()
    assert db.session.scalar(select(Product).where(Product.code == "3.5")).formula == "women_linked"


def _admin() -> int:
    return db.session.scalar(select(User.id).where(User.username == "admin.f"))


def test_the_admin_sets_the_parameters_and_leaving_one_out_keeps_it(cases):
    p = db.session.scalar(select(Product).where(Product.code == "3.5"))
    admin = db.session.get(User, _admin())
    data = {"name": p.name, "indicator": p.indicator, "formula": "victims_with_step", "weight": "1",
            "population": "women", "step_kind": " income_generation ", "provider_entity": "SDMUJER"}
    ind.update_product(admin, p.id, data, p.version)
    p = db.session.scalar(select(Product).where(Product.code == "3.5"))
    assert ind.params_of(p) == {"population": "women", "step_kind": "income_generation", "provider_entity": "SDMUJER"}
    assert ind.compute(p, *YEAR) == 2
    ind.update_product(admin, p.id, {"name": p.name, "indicator": p.indicator, "weight": "1"}, p.version)
    assert ind.stored_params(p) == {"population": "women", "step_kind": "income_generation",
                                    "provider_entity": "SDMUJER"}
    assert ind.product_dict(p)["formula_params"]["step_kind"] == "income_generation"
