"""Case assignments: who works a case, on every path that changes it (web, API, registration), the agenda a lawyer
gets once assigned, the cases left with nobody, and the bulk move of a leaving professional's cases.

Cases play Cartagena's SDIS; OTRA is an unrelated entity; SALUD receives a referral for a legal service.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.assignments import CaseAssignment
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from caseapp.models.route import AssistanceStep, LegalEvent, ProtectionMeasure, StepKind
from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import _referral, flashes, new_api_token

PATHS = ("web", "api")


@pytest.fixture
def people(factory):
    return {
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "bea": factory.user("bea", roles=("social_worker",), entity="SDIS"),
        "lina": factory.user("lina", roles=("lawyer",), entity="SDIS"),
        "ines": factory.user("ines", roles=("lawyer",), entity="SDIS", active=False),
        "coco": factory.user("coco", roles=("coordinator",), entity="SDIS"),
        "root": factory.user("root", roles=("admin",), entity="SDIS"),
        "olga": factory.user("olga", roles=("lawyer",), entity="OTRA"),
        "omar": factory.user("omar", roles=("social_worker",), entity="OTRA"),
        "sara": factory.user("sara", roles=("lawyer",), entity="SALUD"),
    }


@pytest.fixture
def case_code(app, people):
    with app.test_request_context():
        return make_case(people["ana"].id)


def _open(app, code) -> set[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(select(User.username, CaseAssignment.role).join(
            CaseAssignment, CaseAssignment.user_id == User.id).join(Case, Case.id == CaseAssignment.case_id).where(
            Case.code == code, CaseAssignment.ended_at.is_(None))).all()
        return {tuple(r) for r in rows}


class Paths:
    """Assign and unassign through the web form or the API, answering (status, rule-or-message)."""

    def __init__(self, app, client, login_as):
        self.app, self.client, self.login_as = app, client, login_as
        self.tokens = {}

    def _token(self, user):
        if user.id not in self.tokens:
            with self.app.test_request_context():
                self.tokens[user.id] = new_api_token(user.id)
        return {"Authorization": f"Bearer {self.tokens[user.id]}"}

    def assign(self, path, actor, code, username, role):
        if path == "api":
            r = self.client.post(f"/api/v1/cases/{code}/assignments", headers=self._token(actor),
                                 json={"username": username, "role": role})
            return r.status_code, (r.get_json() or {}).get("rule")
        self.login_as(actor)
        page = self.client.get(f"/cases/{code}/assignments")
        if page.status_code != 200:
            return page.status_code, None
        r = self.client.post(f"/cases/{code}/assignments", data={
            "csrf_token": csrf_token(self.client, f"/cases/{code}/assignments"), "username": username, "role": role})
        return (201 if r.status_code == 302 else r.status_code), r.get_data(as_text=True)

    def unassign(self, path, actor, code, username, role, replacement=None):
        if path == "api":
            body = {"username": username, "role": role}
            if replacement:
                body["replacement"] = replacement
            r = self.client.delete(f"/api/v1/cases/{code}/assignments", headers=self._token(actor), json=body)
            return r.status_code, (r.get_json() or {}).get("rule")
        self.login_as(actor)
        with self.app.app_context():
            row_id = db.session.scalar(select(CaseAssignment.id).join(User, User.id == CaseAssignment.user_id)
                                       .join(Case, Case.id == CaseAssignment.case_id).where(
                Case.code == code, User.username == username, CaseAssignment.role == role)
                .order_by(CaseAssignment.id.desc()))
        token = csrf_token(self.client, f"/cases/{code}/assignments")
        prefix = f"end{row_id}-"
        r = self.client.post(f"/cases/{code}/assignments/end", data={
            "csrf_token": token, "row": str(row_id), prefix + "username": username, prefix + "role": role,
            prefix + "replacement": replacement or ""})
        messages = " ".join(m for _c, m in flashes(self.client))
        ok = r.status_code == 302 and "error" not in {c for c, _m in flashes(self.client)}
        return (200 if ok else 409), messages


@pytest.fixture
def paths(app, client, login_as):
    return Paths(app, client, login_as)


# --- the rule, on every path --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_lawyer_assigned_to_a_case_then_has_an_agenda(app, client, login_as, people, case_code, paths, path):
    """Finding: a lawyer (who cannot register cases) had an agenda that was always empty."""
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == case_code))
        db.session.add(LegalEvent(case=case, kind="hearing", on=today() + timedelta(days=2)))
        db.session.add(ProtectionMeasure(case=case, kind="witness_protection", status="requested",
                                         requested_on=today() - timedelta(days=3)))
        db.session.commit()
    headers = paths._token(people["lina"])
    assert client.get("/api/v1/agenda", headers=headers).get_json() == {"items": []}

    status, _rule = paths.assign(path, people["ana"], case_code, "lina", "lawyer")
    assert status == 201
    assert ("lina", "lawyer") in _open(app, case_code)
    items = client.get("/api/v1/agenda", headers=headers).get_json()["items"]
    assert {(i["case"], i["kind"]) for i in items} == {(case_code, "hearing"), (case_code, "measure")}
    assert all(set(i) == {"case", "kind", "due_on", "overdue"} for i in items)
    login_as(people["lina"])
    page = client.get("/route/agenda").get_data(as_text=True)
    assert case_code in page
    mine = client.get("/my-cases").get_data(as_text=True)
    assert case_code in mine


def test_the_next_hearing_an_outcome_sets_is_on_the_lawyers_agenda(app, client, people, case_code, paths):
    """A hearing held last week whose outcome set the next one in three days: the agenda shows the next one."""
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == case_code))
        db.session.add(LegalEvent(case=case, kind="hearing", on=today() - timedelta(days=7),
                                  next_on=today() + timedelta(days=3)))
        db.session.add(LegalEvent(case=case, kind="hearing", on=today() - timedelta(days=30)))  # held, none next
        db.session.commit()
    assert paths.assign("api", people["ana"], case_code, "lina", "lawyer")[0] == 201
    items = client.get("/api/v1/agenda", headers=paths._token(people["lina"])).get_json()["items"]
    assert [(i["kind"], i["due_on"]) for i in items] == [("hearing", (today() + timedelta(days=3)).isoformat())]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("who,role,rule", [
    ("olga", "lawyer", "assignee_entity"),      # a lawyer of an unrelated entity
    ("coco", "social_worker", "assignee_role"),  # a coordinator
    ("ines", "lawyer", "assignee_inactive"),     # a deactivated lawyer
    ("lina", "social_worker", "assignee_role"),  # a lawyer as the social worker
    ("nadie", "lawyer", "assignee_entity"),   # nobody has that name: the same answer
    ("lina", "judge", "assignment_role"),
])
def test_who_may_be_assigned(app, people, case_code, paths, path, who, role, rule):
    status, said = paths.assign(path, people["ana"], case_code, who, role)
    assert status == 422
    if path == "api":
        assert said == rule
    assert _open(app, case_code) == {("ana", "social_worker")}


@pytest.mark.parametrize("path", PATHS)
def test_another_entitys_case_is_not_found(app, people, case_code, paths, path):
    status, _said = paths.assign(path, people["omar"], case_code, "omar", "social_worker")
    assert status == 404
    assert _open(app, case_code) == {("ana", "social_worker")}


@pytest.mark.parametrize("path", PATHS)
def test_a_coordinator_or_an_auditor_cannot_assign(app, factory, people, case_code, paths, path):
    auditor = factory.user("aldo", roles=("auditor",), entity="SDIS")
    for actor in (people["coco"], auditor):
        status, _said = paths.assign(path, actor, case_code, "lina", "lawyer")
        assert status in (403, 404)
    assert _open(app, case_code) == {("ana", "social_worker")}


@pytest.mark.parametrize("path", PATHS)
def test_a_professional_not_assigned_to_a_staffed_case_cannot_assign(app, people, case_code, paths, path):
    status, _said = paths.assign(path, people["bea"], case_code, "bea", "social_worker")
    assert status == 403
    assert _open(app, case_code) == {("ana", "social_worker")}


@pytest.mark.parametrize("path", PATHS)
def test_a_double_submit_assigns_once(app, people, case_code, paths, path):
    assert paths.assign(path, people["ana"], case_code, "lina", "lawyer")[0] == 201
    status, said = paths.assign(path, people["ana"], case_code, "lina", "lawyer")
    assert status == 409
    if path == "api":
        assert said == "already_assigned"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseAssignment).where(
            CaseAssignment.role == "lawyer")) == 1


@pytest.mark.parametrize("path", PATHS)
def test_the_last_social_worker_stays_unless_replaced(app, people, case_code, paths, path):
    status, said = paths.unassign(path, people["ana"], case_code, "ana", "social_worker")
    assert status == 409
    assert "last_social_worker" in said or "al menos una" in said
    assert _open(app, case_code) == {("ana", "social_worker")}
    status, _said = paths.unassign(path, people["ana"], case_code, "ana", "social_worker", replacement="bea")
    assert status == 200
    assert _open(app, case_code) == {("bea", "social_worker")}
    with app.app_context():  # the history is kept: the ended row is there, closed
        ended = db.session.scalar(select(CaseAssignment).join(User, User.id == CaseAssignment.user_id).where(
            User.username == "ana"))
        assert ended.ended_at is not None and ended.ended_by_id == people["ana"].id


@pytest.mark.parametrize("path", PATHS)
def test_a_stale_unassign_changes_nothing(app, people, case_code, paths, path):
    paths.assign("api", people["ana"], case_code, "lina", "lawyer")
    assert paths.unassign(path, people["ana"], case_code, "lina", "lawyer")[0] == 200
    status, said = paths.unassign(path, people["ana"], case_code, "lina", "lawyer")  # the same form again
    assert status == 409
    if path == "api":
        assert said == "not_assigned"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseAssignment).where(
            CaseAssignment.role == "lawyer")) == 1


def test_every_change_is_in_the_access_log(app, people, case_code, paths):
    paths.assign("api", people["ana"], case_code, "lina", "lawyer")
    paths.unassign("api", people["ana"], case_code, "lina", "lawyer")
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_ref == case_code, AuditEvent.action.in_(("case.assign", "case.unassign")))))
    assert actions.count("case.assign") == 1 and actions.count("case.unassign") == 1


def test_a_receiving_entitys_lawyer_may_be_assigned_only_through_an_accepted_legal_referral(
        app, people, case_code, paths):
    assert paths.assign("api", people["ana"], case_code, "sara", "lawyer") == (422, "assignee_entity")
    with app.test_request_context():
        _referral(case_code, "SDIS", "SALUD", "sent", people["ana"].id, sections="summary,legal",
                  service="legal_orientation")
    assert paths.assign("api", people["ana"], case_code, "sara", "lawyer") == (422, "assignee_entity")
    with app.test_request_context():
        _referral(case_code, "SDIS", "SALUD", "accepted", people["ana"].id, sections="summary,legal",
                  service="legal_orientation")
    assert paths.assign("api", people["ana"], case_code, "sara", "lawyer")[0] == 201


# --- registration -------------------------------------------------------------------------------------------


def _registration(**extra) -> dict:
    return {"given_names": "Nueva", "family_names": "Persona", "document_type": "CC", "document_number": "61000001",
            "birth_date": "1990-01-01", "phone": "3100000001", "sex": "female", "nationality": "CO",
            "identified_on": "2025-03-10", "identification_source": "coat",
            "exploitation_purposes": ["sexual_exploitation"], "trafficking_scope": "internal",
            "consent_assistance": True, "consent_method": "written", "victim_status": "victim", **extra}


def _register(app, client, login_as, paths, path, actor, lawyer):
    """Register a case on `path` naming `lawyer`; (status, new case code or None)."""
    if path == "api":
        answer = client.post("/api/v1/cases", headers=paths._token(actor), json=_registration(lawyer=lawyer))
        return answer.status_code, (answer.get_json() or {}).get("code")
    from tests.web.test_cases_web import registration

    login_as(actor)
    answer = client.post("/cases/new", data=registration(client, lawyer=lawyer))
    if answer.status_code != 302:
        return answer.status_code, None
    return 201, answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


@pytest.mark.parametrize("path", PATHS)
def test_registration_assigns_the_social_worker_and_the_lawyer_named(app, client, login_as, people, paths, path):
    status, code = _register(app, client, login_as, paths, path, people["ana"], "lina")
    assert status == 201
    assert _open(app, code) == {("ana", "social_worker"), ("lina", "lawyer")}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("lawyer", ["olga", "ines", "bea", "nadie"])
def test_registration_refuses_a_lawyer_who_may_not_take_the_case(app, client, login_as, people, paths, path,
                                                                 lawyer):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Case))
    status, _code = _register(app, client, login_as, paths, path, people["ana"], lawyer)
    assert status == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == before


def test_the_registration_form_offers_the_entitys_lawyers(app, client, login_as, people):
    login_as(people["ana"])
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'value="lina"' in page and 'value="olga"' not in page and 'value="ines"' not in page


# --- nobody left, and moving a leaving professional's cases ---------------------------------------------------


def test_a_deactivated_professionals_cases_show_as_unassigned_and_can_be_taken(app, client, login_as, people,
                                                                                case_code, paths):
    with app.app_context():
        db.session.get(User, people["ana"].id).active = False
        db.session.commit()
    login_as(people["bea"])
    page = client.get("/my-cases").get_data(as_text=True)
    assert case_code in page and "sin profesional asignado" in page.lower()
    assert paths.assign("web", people["bea"], case_code, "bea", "social_worker")[0] == 201
    page = client.get("/my-cases").get_data(as_text=True)
    assert "Casos sin profesional asignado" not in page


def test_the_admin_moves_all_open_cases_of_a_leaving_professional(app, client, login_as, people):
    with app.test_request_context():
        codes = [make_case(people["ana"].id, document_number=f"5210000{i}") for i in range(3)]
        closed = make_case(people["ana"].id, document_number="52100009", status="closed")
    login_as(people["root"])
    token = csrf_token(client, "/assignments/reassign")
    r = client.post("/assignments/reassign", data={"csrf_token": token, "from_username": "ana",
                                                   "to_username": "bea", "role": "social_worker"})
    assert r.status_code == 302
    for code in codes:
        assert _open(app, code) == {("bea", "social_worker")}
    assert _open(app, closed) == {("ana", "social_worker")}  # a closed case keeps its history as it was
    with app.app_context():
        moved = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "case.reassign"))
    assert moved == 2 * len(codes)  # the new assignment and the ended one, per case


def test_only_an_admin_moves_cases_in_bulk(app, client, login_as, people):
    login_as(people["ana"])
    assert client.get("/assignments/reassign").status_code == 403


# --- costs ---------------------------------------------------------------------------------------------------


def _counters(html: str) -> dict[str, int]:
    import re

    return {label: int(value.replace(".", "")) for value, label in re.findall(
        r'<p class="counter-value">([\d.]+)</p><p>(?:<a [^>]*>)?([^<]+)', html)}


def test_my_cases_counts_her_own_items_and_her_entitys_waiting_referrals_apart(app, client, login_as, people,
                                                                                case_code):
    """The counters a social worker reads in the morning: what is due this week and overdue on her cases, and, apart,
    the referrals her entity has to answer (not added to her own overdue items: 2 waiting referrals, one overdue,
    must not read as 2 more overdue items of hers)."""
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == case_code))
        kind = db.session.scalar(select(StepKind).where(StepKind.code == "psychological_assessment"))
        for days in (-3, 2):
            db.session.add(AssistanceStep(case=case, phase="immediate", kind=kind, status="planned",
                                          planned_on=today() + timedelta(days=days), created_by_id=people["ana"].id))
        db.session.commit()
        for _i in range(2):  # waiting for SDIS's answer, due 2025-04-01: overdue
            _referral(make_case(people["omar"].id), "OTRA", "SDIS", "sent", people["omar"].id)
    login_as(people["ana"])
    counters = _counters(client.get("/my-cases").get_data(as_text=True))
    assert counters == {"Vence esta semana": 1, "Vencidos": 1, "Remisiones pendientes de respuesta": 2}, counters


@pytest.mark.parametrize("url,ceiling", [("/my-cases", 18), ("/api/v1/agenda", 14)])  # the page: +1 flags, +1 counter
def test_my_cases_and_the_agenda_cost_the_same_with_n_or_3n_cases(app, client, login_as, people, count_queries,
                                                                   paths, url, ceiling):
    from tests.web.test_page_costs import measure, same_cost

    made = iter(range(1000))

    def cases(n):
        with app.test_request_context():
            for _ in range(n):
                i = next(made)
                code = make_case(people["ana"].id, document_number=f"5300{i:04d}", status="in_immediate_assistance",
                                 intake_on=today() - timedelta(days=i % 20))
                case = db.session.scalar(select(Case).where(Case.code == code))
                db.session.add(CaseAssignment(case=case, user_id=people["lina"].id, role="lawyer"))
                db.session.add(LegalEvent(case=case, kind="hearing", on=today() + timedelta(days=1)))
                db.session.add(ProtectionMeasure(case=case, kind="other", status="requested", requested_on=today()))
            db.session.commit()

    cases(3)
    headers = None
    if url.startswith("/api"):
        headers = paths._token(people["ana"])
    else:
        login_as(people["ana"])
    same_cost(lambda: measure(client, count_queries, "get", url, headers=headers), lambda: cases(6), ceiling)


def test_the_agenda_page_shows_the_entitys_waiting_referrals_apart_and_the_most_urgent_only(
        app, client, login_as, people, monkeypatch):
    """An entity's backlog of referrals to answer is a count and its most urgent rows on the agenda page (the
    inbox lists them all), never mixed into her own overdue items; the API still lists every one."""
    from caseapp.services import followup

    monkeypatch.setattr(followup, "REFERRALS_SHOWN", 2)
    with app.test_request_context():
        codes = [make_case(people["omar"].id, document_number=f"7000{i}") for i in range(3)]
        for code in codes:
            _referral(code, "OTRA", "SDIS", "sent", people["omar"].id)
    login_as(people["ana"])
    page = client.get("/route/agenda").get_data(as_text=True)
    overdue = page[page.index('id="ov-h"'):page.index('id="up-h"')]
    waiting = page[page.index('id="ref-h"'):]
    assert not any(code in overdue for code in codes)
    assert "Esperan respuesta: 3" in waiting and "abajo, las 2 más urgentes" in waiting
    assert sum(code in waiting for code in codes) == 2
    items = client.get("/api/v1/agenda", headers=Paths(app, client, login_as)._token(people["ana"])).get_json()
    assert sorted(i["case"] for i in items["items"] if i["kind"] == "referral") == sorted(codes)


def test_the_case_pages_professionals_are_the_open_assignments(app, people, case_code):
    """The case page lists its professionals from columns (assignments.professionals), not objects: the same
    people, order and roles as the open assignments, and "deactivated" exactly when User.is_active is false (her
    account or her entity switched off), for every combination. Its "may she assign?" comes from the same
    statement's staffing column, and answers as authz.can(case.assign) does through its own statement, for every
    user and combination (staffed by her, by others only, by nobody active)."""
    from itertools import product

    from caseapp import authz
    from caseapp.models.accounts import Entity
    from caseapp.services.casework.assignments import open_assignments, panel, professionals

    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == case_code))
        for who, role in (("lina", "lawyer"), ("omar", "social_worker"), ("ines", "lawyer")):
            db.session.add(CaseAssignment(case_id=case.id, user_id=people[who].id, role=role,
                                          assigned_at=case.created_at, assigned_by_id=people["ana"].id))
        db.session.get(User, people["lina"].id).display_name = ""  # shown by her username
        ana, lina = (db.session.get(User, people[who].id) for who in ("ana", "lina"))
        users = [db.session.get(User, u.id) for u in people.values()]
        entities = {code: db.session.scalar(select(Entity).where(Entity.code == code)) for code in ("SDIS", "OTRA")}
        seen, answers = set(), set()
        for ana_active, lina_active, sdis_active, otra_active in product((True, False), repeat=4):
            ana.active, lina.active = ana_active, lina_active
            entities["SDIS"].active, entities["OTRA"].active = sdis_active, otra_active
            db.session.flush()
            expected = [(a.user.display_name or a.user.username, a.role, a.user.is_active)
                        for a in open_assignments(case)]
            listed = [(p.name, p.role, p.active) for p in professionals(case)]
            assert listed == expected and len(listed) == 4
            seen.update(active for _n, _r, active in listed)
            for user in users:
                answer = authz.can(user, "case.assign", case)
                assert panel(user, case)["may_assign"] == answer, (user.username, ana_active, lina_active)
                answers.add((user.username, answer))
        assert seen == {True, False}
        # bea may assign only while nobody of SDIS active is on the case; ana only while she is herself
        assert {("bea", True), ("bea", False), ("ana", True), ("ana", False), ("omar", False)} <= answers
        db.session.rollback()


def test_the_case_page_lists_its_professionals_as_the_service_does(app, client, login_as, people, case_code):
    """The case page reads its professionals as a column of the case's own statement (Case.professionals_shown,
    with the case page's loader options); a case loaded otherwise reads them on their own. Both list the same
    people in the same order: social workers first, then by assignment."""
    import re

    from caseapp.services.casework.assignments import professionals

    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == case_code))
        for who, role in (("lina", "lawyer"), ("bea", "social_worker"), ("ines", "lawyer")):
            db.session.add(CaseAssignment(case_id=case.id, user_id=people[who].id, role=role,
                                          assigned_at=case.created_at, assigned_by_id=people["ana"].id))
        db.session.commit()
        listed = [p.name for p in professionals(db.session.scalar(select(Case).where(Case.code == case_code)))]
    assert listed == ["Ana", "Bea", "Lina", "Ines"]
    login_as(people["ana"])
    html = client.get(f"/cases/{case_code}").get_data(as_text=True)
    panel = re.search(r'id="professionals-title".*?</section>', html, re.S).group(0)
    assert re.findall(r"<li>(\w+) — ", panel) == listed
    assert "desactivad" in panel.split("Ines")[1]  # her account is inactive: marked


@pytest.mark.parametrize("scenario", ["ana_staffs", "ana_deactivated", "receiver_only", "ana_ended"])
def test_the_case_pages_assign_link_shows_exactly_where_the_assignments_page_opens(app, client, login_as, people,
                                                                                   case_code, scenario):
    """The link comes from the professionals' statement (assignments.panel), the page from load_case_for(...,
    "case.assign"): the same rule on both paths, for the owner's professionals, a receiving entity's lawyer assigned
    through an accepted referral; a coordinator gets neither. (From the outside review of stop 37.)"""
    with app.test_request_context():
        _referral(case_code, "SDIS", "SALUD", "accepted", people["ana"].id, sections="summary,legal",
                  service="legal_orientation")
        case = db.session.scalar(select(Case).where(Case.code == case_code))
        (own,) = db.session.scalars(select(CaseAssignment).where(CaseAssignment.case_id == case.id))
        if scenario in ("receiver_only", "ana_ended"):
            own.ended_at, own.ended_by_id = case.created_at, people["ana"].id
        if scenario == "receiver_only":
            db.session.add(CaseAssignment(case_id=case.id, user_id=people["sara"].id, role="lawyer",
                                          assigned_at=case.created_at, assigned_by_id=people["ana"].id))
        if scenario == "ana_deactivated":
            db.session.get(User, people["ana"].id).active = False
        db.session.commit()
    linked = set()
    for name in ("ana", "bea", "lina", "coco", "sara"):
        if scenario == "ana_deactivated" and name == "ana":
            continue  # she cannot sign in
        login_as(people[name])
        page = client.get(f"/cases/{case_code}")  # the receiving entity's lawyer reads it through the referral
        if name == "coco":  # a coordinator sees counts, never a case: no page, no link, no assignments page
            assert page.status_code == 403 and client.get(f"/cases/{case_code}/assignments").status_code == 403
            continue
        assert page.status_code == 200, (name, scenario)
        link = f'href="/cases/{case_code}/assignments"' in page.get_data(as_text=True)
        assert link == (client.get(f"/cases/{case_code}/assignments").status_code == 200), (name, scenario)
        if link:
            linked.add(name)
    assert linked == {"ana_staffs": {"ana"}, "ana_deactivated": {"bea", "lina"}, "receiver_only": {"ana", "bea", "lina"},
                      "ana_ended": {"ana", "bea", "lina"}}[scenario]


def test_the_case_page_marks_a_deactivated_professional(app, client, login_as, people, case_code):
    with app.app_context():
        db.session.get(User, people["ana"].id).active = False
        db.session.commit()
    login_as(people["bea"])
    page = client.get(f"/cases/{case_code}").get_data(as_text=True)
    panel = page[page.index('id="professionals-title"'):]
    panel = panel[:panel.index("</section>")]
    assert "desactivada" in panel and "sin profesional asignado" in panel
