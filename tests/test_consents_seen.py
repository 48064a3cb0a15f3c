"""Which consents a reader sees is one rule (authz.consents_seen_by), on every path that shows them: the case page,
the API's case, the timeline (web and API) and the printable summary (web and API). A receiving entity shared only
the summary sees her consents to assistance and to share with itself, never that she agreed to share with a third
entity; the owning entity sees them all."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from caseapp.extensions import db
from caseapp.models.accounts import User
from tests.cases_factory import make_case
from tests.world import _referral, new_api_token

THIRD = "FUND"  # the entity she agreed to share with, which the receiver (OIM) must not learn of
SHARED_WITH_THIRD = f"Compartir con otra entidad ({THIRD})"
SHARED_WITH_RECEIVER = "Compartir con otra entidad (OIM)"


@pytest.fixture
def world(app, factory):
    factory.entity("OIM", kind="ngo")
    factory.entity(THIRD, kind="ngo")
    people = {"owner": factory.user("ana", roles=("social_worker",), entity="SDIS"),
              "receiver": factory.user("beto", roles=("social_worker",), entity="OIM")}
    with app.test_request_context():
        ana = db.session.get(User, people["owner"].id)
        code = make_case(ana.id, identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))
        # each referral rests on her consent to share with its entity (tests.world._referral records it)
        _referral(code, "SDIS", "OIM", "accepted", ana.id, sections="summary")
        _referral(code, "SDIS", THIRD, "sent", ana.id, sections="summary")
    return {"code": code, "people": people}


def _text(response) -> str:
    if response.mimetype == "application/pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return response.get_data(as_text=True)


def _read(app, login_as, person, path: str, code: str) -> tuple[str, str]:
    """(what `person` reads of the case's consents on `path`, the text the sharing consent to OIM reads as there)."""
    if path.startswith("web "):
        response = login_as(person, app.test_client()).get(path[4:].format(code=code))
    else:
        with app.app_context():
            token = new_api_token(person.id)
        response = app.test_client().get("/api/v1" + path[4:].format(code=code),
                                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, (path, response.status_code)
    if path == "api /cases/{code}":  # the case's consents[]: by entity code
        return " ".join(f"sharing:{c['entity']}" for c in response.get_json()["consents"]), "sharing:OIM"
    return _text(response), SHARED_WITH_RECEIVER


PATHS = ["web /cases/{code}", "api /cases/{code}", "web /cases/{code}/timeline", "api /cases/{code}/timeline",
         "web /cases/{code}/summary.pdf", "api /cases/{code}/summary.pdf"]


@pytest.mark.parametrize("path", PATHS)
def test_a_receiver_shared_the_summary_does_not_learn_whom_else_she_agreed_to_share_with(app, login_as, world,
                                                                                         path):
    text, own = _read(app, login_as, world["people"]["receiver"], path, world["code"])
    assert own in text  # her consent to share with the receiver itself is its to see
    assert THIRD not in text


@pytest.mark.parametrize("path", PATHS)
def test_the_owner_sees_every_consent(app, login_as, world, path):
    text, own = _read(app, login_as, world["people"]["owner"], path, world["code"])
    third = "sharing:" + THIRD if path == "api /cases/{code}" else SHARED_WITH_THIRD
    assert own in text and third in text
