"""Two rules the database holds, not only the services' read-then-insert (migration 0020): one open assignment per
user and role on a case, one criminal proceeding per case. With the services' own check bypassed — what two requests
at the same moment see — the second write is still refused, with the same 409 the check gives."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.assignments import CaseAssignment
from caseapp.models.route import LegalProceeding
from caseapp.services.casework import assignments, proceedings
from tests.cases_factory import make_case
from tests.test_assignments import PATHS, Paths
from tests.world import new_api_token


@pytest.fixture
def people(factory):
    return {"ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
            "lina": factory.user("lina", roles=("lawyer",), entity="SDIS")}


@pytest.fixture
def case_code(app, people):
    with app.test_request_context():
        return make_case(people["ana"].id)


@pytest.mark.parametrize("path", PATHS)
def test_a_second_open_assignment_is_refused_even_past_the_check(app, client, login_as, people, case_code,
                                                                 monkeypatch, path):
    monkeypatch.setattr(assignments, "_open_row", lambda *_args: None)  # both requests read "not assigned yet"
    paths = Paths(app, client, login_as)
    assert paths.assign(path, people["ana"], case_code, "lina", "lawyer")[0] == 201
    status, said = paths.assign(path, people["ana"], case_code, "lina", "lawyer")
    assert status == 409
    assert said == "already_assigned" if path == "api" else "ya está asignad" in said
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseAssignment).where(
            CaseAssignment.role == "lawyer")) == 1


def test_a_second_criminal_proceeding_is_refused_even_past_the_check(app, client, people, case_code, monkeypatch):
    monkeypatch.setattr(proceedings, "criminal_of", lambda _case: None)  # both requests read "none yet"
    with app.test_request_context():
        headers = {"Authorization": f"Bearer {new_api_token(people['lina'].id)}"}
    url = f"/api/v1/cases/{case_code}/proceedings"
    assert client.post(url, headers=headers, json={"kind": "criminal"}).status_code == 201
    second = client.post(url, headers=headers, json={"kind": "criminal"})
    assert (second.status_code, second.get_json()["rule"]) == (409, "criminal_proceeding_exists")
    assert client.post(url, headers=headers, json={"kind": "migratory"}).status_code == 201  # other kinds: several
    with app.app_context():
        kinds = sorted(db.session.scalars(select(LegalProceeding.kind)))
    assert kinds == ["criminal", "migratory"]
