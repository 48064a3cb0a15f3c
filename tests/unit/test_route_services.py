"""The assistance route through its services: phases, due dates from the rule table, extensions, life plan, closure."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from caseapp.models.route import DueRule, StepKind
from caseapp.services import casework as steps
from caseapp.services import followup, route
from caseapp.services.route import due
from tests.cases_factory import make_case


def _user(uid):
    return db.session.get(User, uid)


@pytest.fixture
def sw(factory):
    return factory.user("trabajadora", roles=("social_worker",), entity="SDIS")


def test_catalogue_and_rule_are_seeded(ctx):
    kinds = {k.code: k for k in db.session.scalars(select(StepKind))}
    assert {"reception", "transport", "lodging", "legal_orientation", "documentation", "return_repatriation",
            "security", "medical_assessment", "psychological_assessment", "material_assistance",
            "accompaniment"} <= {c for c, k in kinds.items() if k.phase == "immediate"}
    assert {"psychosocial_followup", "legal_accompaniment", "education", "job_training", "job_placement",
            "income_generation", "seed_capital", "rent_subsidy", "food_voucher", "reintegration",
            "health_mental_health"} <= {c for c, k in kinds.items() if k.phase == "mediate"}
    assert kinds["legal_orientation"].section == "legal"
    rule = db.session.scalars(select(DueRule)).one()
    assert (rule.immediate_days, rule.immediate_extension_days, rule.mediate_months,
            rule.mediate_extension_months, rule.max_extensions) == (5, 5, 6, 3, 1)
    assert rule.legal_source == "Decreto 1066 de 2015, art. 2.2.2.2.37 (compila el Decreto 1069 de 2014)"
    assert rule.effective_to is None


@pytest.mark.parametrize("start, days, expected", [
    (date(2024, 2, 26), 5, date(2024, 3, 2)),    # leap year: 27, 28, 29 Feb, 1, 2 Mar
    (date(2023, 2, 26), 5, date(2023, 3, 3)),    # common year
    (date(2024, 12, 29), 5, date(2025, 1, 3)),   # year end
    (date(2024, 2, 26), 10, date(2024, 3, 7)),   # with the 5-day extension
])
def test_add_days(start, days, expected):
    assert due.add_days(start, days) == expected


@pytest.mark.parametrize("start, months, expected", [
    (date(2023, 8, 31), 6, date(2024, 2, 29)),   # clamps to the leap day
    (date(2022, 8, 31), 6, date(2023, 2, 28)),
    (date(2024, 8, 30), 6, date(2025, 2, 28)),
    (date(2024, 3, 31), 9, date(2024, 12, 31)),  # 6 + 3-month extension
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
])
def test_add_months(start, months, expected):
    assert due.add_months(start, months) == expected


def test_due_dates_follow_the_rule_table(ctx, sw):
    code = make_case(sw.id, identified_on=date(2023, 8, 1), intake_on=date(2024, 2, 26),
                     status="in_immediate_assistance")
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert route.due_dates(case) == {"immediate_due_on": date(2024, 3, 2), "mediate_due_on": None}
    case.immediate_closed_on = date(2023, 8, 31)
    assert route.due_dates(case)["mediate_due_on"] == date(2024, 2, 29)
    # An admin records a new rule for intakes from 2024-02-01 (e.g. the 2026 amendment): 8 days, 4 months.
    old = db.session.scalars(select(DueRule)).one()
    old.effective_to = date(2024, 1, 31)
    db.session.add(DueRule(effective_from=date(2024, 2, 1), immediate_days=8, immediate_extension_days=4,
                           mediate_months=4, mediate_extension_months=2, legal_source="Nueva regla"))
    db.session.commit()
    assert route.due_dates(case) == {"immediate_due_on": date(2024, 3, 5), "mediate_due_on": date(2023, 12, 31)}
    case.intake_on = date(2024, 1, 31)  # before the new rule: the old one applies
    assert route.due_dates(case)["immediate_due_on"] == date(2024, 2, 5)
    case.intake_on = None
    assert route.due_dates(case) == {"immediate_due_on": None, "mediate_due_on": None}
    db.session.rollback()


def test_route_end_to_end(ctx, sw, factory):
    lawyer = factory.user("abogada", roles=("lawyer",), entity="SDIS")
    code = make_case(sw.id, identified_on=date(2024, 2, 20))
    u = _user(sw.id)
    # Mediate steps before the phase opens are refused.
    with pytest.raises(Conflict):
        steps.add_step(u, code, kind="education", status="done", done_on="2024-02-27")
    steps.add_step(u, code, kind="reception", status="done", done_on="2024-02-26", notes="Llega acompañada")
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert case.status == "in_immediate_assistance" and case.intake_on == date(2024, 2, 26)
    steps.add_step(u, code, kind="lodging", status="done", done_on="2024-02-26")
    steps.add_step(u, code, kind="medical_assessment", status="planned", planned_on="2024-02-28")
    assert route.due_dates(case)["immediate_due_on"] == date(2024, 3, 2)
    # Extension with reason and who decided; the limit comes from the rule; only one.
    with pytest.raises(Invalid) as err:
        route.extend_phase(u, code, version=case.version, phase="immediate", amount=6, reason="x", decided_by="y")
    assert "amount" in err.value.field_errors
    with pytest.raises(Invalid) as err:
        route.extend_phase(u, code, version=case.version, phase="immediate", amount=3, reason="", decided_by="")
    assert {"reason", "decided_by"} <= set(err.value.field_errors)
    route.extend_phase(u, code, version=case.version, phase="immediate", amount=3, decided_on="2024-03-01",
                       reason="Espera de documentos", decided_by="Secretaría técnica del comité", reported=True)
    assert route.due_dates(case)["immediate_due_on"] == date(2024, 3, 5)
    with pytest.raises(Conflict):
        route.extend_phase(u, code, version=case.version, phase="immediate", amount=1, reason="otra", decided_by="x")
    # The lawyers' steps are theirs (legal accompaniment); legal orientation in the immediate phase is recorded by
    # whichever of them gives it (seed 003), and the step form offers each only what she may record.
    with pytest.raises(Exception) as err:
        steps.add_step(u, code, kind="legal_accompaniment", status="done", done_on="2024-02-27")
    assert err.type.__name__ == "Forbidden"
    steps.add_step(u, code, kind="legal_orientation", status="done", done_on="2024-02-27")
    steps.add_step(_user(lawyer.id), code, kind="legal_orientation", status="done", done_on="2024-02-27")
    offered = {k.code for k in steps.kinds_for(u, case)}
    assert "legal_orientation" in offered and "reception" in offered and "legal_accompaniment" not in offered
    assert {k.code for k in steps.kinds_for(_user(lawyer.id), case)} == {"legal_orientation", "legal_accompaniment"}
    # Mediate needs the complaint and the acta única.
    with pytest.raises(Invalid) as err:
        route.close_immediate(u, code, version=case.version, closed_on="2024-03-04")
    assert {"complaint_on", "acta_on"} <= set(err.value.field_errors)
    route.close_immediate(u, code, version=case.version, closed_on="2024-03-04", complaint_on="2024-02-28",
                          acta_on="2024-03-04", acta_summary="Objetivos: salud, empleo")
    assert case.status == "in_mediate_assistance"
    assert route.due_dates(case)["mediate_due_on"] == date(2024, 9, 4)
    steps.add_step(u, code, kind="job_training", status="in_progress")
    steps.add_step(u, code, kind="psychosocial_followup", status="done", done_on="2024-03-10")
    route.extend_phase(u, code, version=case.version, phase="mediate", amount=3, reason="Proceso judicial",
                       decided_by="Comité distrital")
    assert route.due_dates(case)["mediate_due_on"] == date(2024, 12, 4)
    goal = steps.add_goal(u, code, area="employment", description="Conseguir empleo formal",
                          agreed_on="2024-03-04", target_on="2024-08-30")
    steps.review_goal(u, goal.id, version=goal.version, status="achieved", review_note="Contratada")
    with pytest.raises(Invalid):
        route.close_case(u, code, reason="whatever", closed_on=None, note=None, version=case.version)
    route.close_case(u, code, reason="goals_met", closed_on=date(2024, 9, 1), note="Cierre", version=case.version)
    assert case.status == "closed" and case.closure_reason == "goals_met"
    with pytest.raises(Conflict):
        steps.add_step(u, code, kind="education", status="done", done_on="2024-09-02")
    route.reopen_case(u, code, reason="needs_assistance_again", note="Nueva necesidad", reopened_on=None,
                      version=case.version)
    assert case.status == "in_mediate_assistance" and case.closed_on is None
    view = followup.overview(u, code)
    assert len(view.closures) == 1 and view.closures[0].reason == "goals_met" and view.closures[0].reopened_on
    assert {s.kind.code for s in view.steps} >= {"reception", "lodging", "job_training", "legal_orientation"}
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_ref == code))]
    for expected in ("case.phase.immediate", "case.step.add", "case.phase.extend", "case.phase.mediate",
                     "case.life_plan.add", "case.close", "case.reopen", "case.route.view"):
        assert expected in actions


def test_stale_version_and_bad_input(ctx, sw):
    code = make_case(sw.id, identified_on=date(2024, 2, 20))
    u = _user(sw.id)
    steps.add_step(u, code, kind="reception", status="done", done_on="2024-02-26")
    case = db.session.scalar(select(Case).where(Case.code == code))
    with pytest.raises(Conflict):
        route.close_immediate(u, code, version=case.version - 1, complaint_on="2024-02-26", acta_on="2024-02-27")
    with pytest.raises(Invalid) as err:
        steps.add_step(u, code, kind="nope", status="done", done_on="2024-02-26")
    assert "kind" in err.value.field_errors
    with pytest.raises(Invalid) as err:
        steps.add_step(u, code, kind="transport", status="done", done_on="26/02/2024")
    assert "done_on" in err.value.field_errors
    with pytest.raises(Invalid) as err:
        steps.add_step(u, code, kind="transport", status="done", done_on="2999-01-01")
    assert "done_on" in err.value.field_errors
    with pytest.raises(Invalid) as err:
        steps.add_step(u, code, kind="transport", status="not_provided")
    assert "not_provided_reason" in err.value.field_errors


def test_no_assistance_consent_no_steps(ctx, sw):
    code = make_case(sw.id, consent_assistance=False)
    with pytest.raises(Conflict):
        steps.add_step(_user(sw.id), code, kind="reception", status="done", done_on="2025-03-10")


def test_other_entity_cannot_touch_the_route(ctx, sw, factory):
    other = factory.user("otra", roles=("social_worker",), entity="OIM")
    code = make_case(sw.id)
    for call in (lambda: followup.overview(_user(other.id), code),
                 lambda: steps.add_step(_user(other.id), code, kind="reception", status="done", done_on="2025-03-10")):
        with pytest.raises(NotFound):
            call()


def test_agenda_shows_due_and_overdue_of_my_cases(ctx, sw, factory):
    other = factory.user("colega", roles=("social_worker",), entity="SDIS")
    mine = make_case(sw.id, identified_on=date(2024, 1, 2))
    theirs = make_case(other.id, identified_on=date(2024, 1, 2))
    u = _user(sw.id)
    steps.add_step(u, mine, kind="reception", status="done", done_on="2024-01-03")
    steps.add_step(_user(other.id), theirs, kind="reception", status="done", done_on="2024-01-03")
    result = followup.agenda(u, on=date(2024, 1, 5))
    assert [(i.case_code, i.due_on) for i in result["upcoming"]] == [(mine, date(2024, 1, 8))]
    later = followup.agenda(u, on=date(2024, 1, 10))
    assert [(i.case_code, i.overdue) for i in later["overdue"]] == [(mine, True)]


def test_monthly_table_list_has_no_names(ctx, sw, factory):
    from caseapp.services import casework as legal

    lawyer = factory.user("abogada", roles=("lawyer",), entity="SDIS")
    code = make_case(sw.id, identified_on=date(2024, 1, 2))
    steps.add_step(_user(sw.id), code, kind="reception", status="done", done_on="2024-01-03")
    steps.add_step(_user(sw.id), code, kind="medical_assessment", status="planned", planned_on="2024-01-04")
    legal.save_proceeding(_user(lawyer.id), code, version=0, complaint_filed_on="2024-01-03", stage="inquiry",
                          receiving_office="Fiscalía Seccional", criminal_case_number="110016000050202400001")
    rows = followup.table_list(_user(lawyer.id), 2024, 1, export="csv")
    assert rows[0]["case"] == code and rows[0]["stage"] == "Indagación"
    assert "Valoración médica" in rows[0]["pending_actions"]
    data = followup.table_csv(rows).decode("utf-8")
    assert code in data and "Mariana" not in data and "52123456" not in data and "110016000050202400001" not in data
    xlsx = followup.table_xlsx(rows, "2024-01")
    assert xlsx[:2] == b"PK"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.table_list")).object_ref == "2024-01"
    with pytest.raises(Invalid):
        followup.table_list(_user(lawyer.id), 2024, 13)
