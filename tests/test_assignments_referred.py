"""Assignments across entities: a receiving entity's professional on a referred case sees on her agenda only what
the referral shares; she does not keep the case staffed for its owner; and the assign form tells nothing of the
users of entities that do not work the case.

Cases play Cartagena's SDIS; SALUD receives a referral for a psychological assessment sharing the summary and the
psychosocial section (not the legal one); OTRA is an unrelated entity.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, LegalEvent, StepKind
from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.test_assignments import PATHS, Paths, _open
from tests.world import _referral, new_api_token

HEARING, LEGAL_STEP, PSY_STEP = "Audiencia", "Orientación jurídica", "Valoración médica"


@pytest.fixture
def people(factory):
    return {
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "bea": factory.user("bea", roles=("social_worker",), entity="SDIS"),
        "lina": factory.user("lina", roles=("lawyer",), entity="SDIS"),
        "ines": factory.user("ines", roles=("lawyer",), entity="SDIS", active=False),
        "sam": factory.user("sam", roles=("social_worker",), entity="SALUD"),
        "sol": factory.user("sol", roles=("social_worker",), entity="SALUD", active=False),
        "sara": factory.user("sara", roles=("lawyer",), entity="SALUD"),
        "olga": factory.user("olga", roles=("lawyer",), entity="OTRA", active=False),
        "omar": factory.user("omar", roles=("coordinator",), entity="OTRA"),
    }


@pytest.fixture
def case_code(app, people):
    """A case of SDIS referred to SALUD (accepted, sharing summary and psychosocial), with a hearing, a legal step
    and a psychosocial step in the next days."""
    with app.test_request_context():
        code = make_case(people["ana"].id)
        _referral(code, "SDIS", "SALUD", "accepted", people["ana"].id, sections="summary,psychosocial",
                  service="psychological_assessment")
        case = db.session.scalar(select(Case).where(Case.code == code))
        kinds = {k.code: k for k in db.session.scalars(select(StepKind))}
        for kind in ("legal_orientation", "medical_assessment"):
            db.session.add(AssistanceStep(case=case, phase="immediate", kind=kinds[kind], status="planned",
                                          planned_on=today() + timedelta(days=2), created_by_id=people["ana"].id))
        db.session.add(LegalEvent(case=case, kind="hearing", on=today() + timedelta(days=3)))
        db.session.commit()
        return code


@pytest.fixture
def paths(app, client, login_as):
    return Paths(app, client, login_as)


def _agenda(app, client, login_as, paths, path, user) -> set[str]:
    """What the user's agenda names on `path`: the item kinds (API), or which of the three labels the agenda and
    "Mis casos" pages show (web)."""
    if path == "api":
        items = client.get("/api/v1/agenda", headers=paths._token(user)).get_json()["items"]
        return {i["kind"] for i in items}
    login_as(user)
    pages = client.get("/route/agenda").get_data(as_text=True) + client.get("/my-cases").get_data(as_text=True)
    return {kind for kind, label in (("hearing", HEARING), ("legal_due", LEGAL_STEP), ("step", PSY_STEP))
            if label in pages}


# --- the agenda shows only what the referral shares ---------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_receiving_social_worker_gets_no_legal_items_the_referral_does_not_share(
        app, client, login_as, people, case_code, paths, path):
    assert paths.assign("api", people["ana"], case_code, "sam", "social_worker")[0] == 201
    assert _agenda(app, client, login_as, paths, path, people["sam"]) == {"step"}
    login_as(people["sam"])
    assert client.get(f"/cases/{case_code}/legal").status_code in (403, 404)  # the same rule as her agenda
    # The owner's social worker, on the same case, gets all three.
    assert _agenda(app, client, login_as, paths, path, people["ana"]) == {"hearing", "legal_due", "step"}


# --- a receiving entity's professional does not keep the case staffed ---------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_case_whose_owner_professionals_left_is_picked_up_though_a_receiver_is_assigned(
        app, client, login_as, people, case_code, paths, path):
    assert paths.assign(path, people["ana"], case_code, "sam", "social_worker")[0] == 201
    with app.app_context():
        db.session.get(User, people["ana"].id).active = False
        db.session.commit()
    login_as(people["bea"])
    page = client.get("/my-cases").get_data(as_text=True)
    assert "Casos sin profesional asignado" in page and case_code in page
    assert paths.assign(path, people["bea"], case_code, "bea", "social_worker")[0] == 201
    assert ("bea", "social_worker") in _open(app, case_code)
    login_as(people["bea"])
    assert "Casos sin profesional asignado" not in client.get("/my-cases").get_data(as_text=True)


@pytest.mark.parametrize("path", PATHS)
def test_a_receiver_assigned_does_not_lock_out_the_owners_professionals(app, people, case_code, paths, path):
    """Ana (active) and Sam are assigned: Bea, not assigned, still may not act (Ana works the case)."""
    assert paths.assign("api", people["ana"], case_code, "sam", "social_worker")[0] == 201
    assert paths.assign(path, people["bea"], case_code, "bea", "social_worker")[0] == 403


# --- the assign form does not tell who exists elsewhere -----------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("who,role,rule", [
    ("nadie", "lawyer", "assignee_entity"),          # nobody has that name
    ("olga", "lawyer", "assignee_entity"),           # an inactive lawyer of an unrelated entity
    ("omar", "social_worker", "assignee_entity"),    # a coordinator of an unrelated entity
    ("sara", "lawyer", "assignee_entity"),           # a lawyer of SALUD: its referral is for a social worker's service
    ("sol", "social_worker", "assignee_inactive"),   # SALUD works the case: the finer reasons are given
    ("ines", "lawyer", "assignee_inactive"),
    ("lina", "social_worker", "assignee_role"),
])
def test_the_assign_form_answers_alike_for_users_of_entities_that_do_not_work_the_case(
        app, people, case_code, paths, path, who, role, rule):
    status, said = paths.assign(path, people["ana"], case_code, who, role)
    assert status == 422
    if path == "api":
        assert said == rule
    else:
        assert ("entidad que no atiende" in said) == (rule == "assignee_entity")
    assert _open(app, case_code) == {("ana", "social_worker")}


def test_unassigning_a_name_nobody_has_answers_as_for_someone_not_assigned(app, people, case_code, paths):
    """API only: the web form ends a row of the case's list, a name is never typed there."""
    assert paths.unassign("api", people["ana"], case_code, "nadie", "lawyer") == (409, "not_assigned")
    assert paths.unassign("api", people["ana"], case_code, "olga", "lawyer") == (409, "not_assigned")


def test_no_answer_names_a_user_of_another_entity(app, client, people, case_code):
    """The API body for a deactivated user of an unrelated entity is the one for a name nobody has, but the name."""
    with app.test_request_context():
        headers = {"Authorization": f"Bearer {new_api_token(people['ana'].id)}"}
    bodies = [client.post(f"/api/v1/cases/{case_code}/assignments", headers=headers,
                          json={"username": who, "role": "lawyer"}).get_json() for who in ("olga", "nadie")]
    assert str(bodies[0]).replace("olga", "X") == str(bodies[1]).replace("nadie", "X")
    with app.app_context():
        assert db.session.scalar(select(Referral.status).join(Case).where(Case.code == case_code)) == "accepted"


@pytest.mark.parametrize("url", ["/my-cases", "/route/agenda", "/api/v1/agenda"])
def test_a_receivers_agenda_costs_the_same_with_one_referred_case_or_three(app, client, login_as, people, paths,
                                                                          count_queries, url):
    """Sam (SALUD) works referred cases of SDIS: what each referral shares is read for all her cases at once. Asked
    case by case, every referred case cost one statement more on her agenda and her "Mis casos"."""
    from caseapp.models.assignments import CaseAssignment
    from tests.web.test_page_costs import measure, same_cost

    made, codes = iter(range(100)), []

    def referred(n):
        with app.test_request_context():
            for _ in range(n):
                code = make_case(people["ana"].id, document_number=f"6100{next(made):04d}")
                _referral(code, "SDIS", "SALUD", "accepted", people["ana"].id, sections="summary,psychosocial")
                codes.append(code)
                case = db.session.scalar(select(Case).where(Case.code == code))
                db.session.add(CaseAssignment(case=case, user_id=people["sam"].id, role="social_worker"))
                db.session.add(AssistanceStep(case=case, phase="immediate", status="planned",
                                              kind=db.session.scalar(select(StepKind).where(
                                                  StepKind.code == "medical_assessment")),
                                              planned_on=today() + timedelta(days=1), created_by_id=people["ana"].id))
            db.session.commit()

    referred(1)
    headers = paths._token(people["sam"]) if url.startswith("/api") else None
    if headers is None:
        login_as(people["sam"])
    assert codes[0] in client.get(url, headers=headers).get_data(as_text=True)  # her step (agenda), her case
    same_cost(lambda: measure(client, count_queries, "get", url, headers=headers), lambda: referred(2), 20)
