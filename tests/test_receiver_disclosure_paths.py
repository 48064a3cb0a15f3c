"""What a receiving entity learns about a referred case, on every path that shows it (found by an outside review:
each rule held on the page it was written for and not on another one).

- Where she is lodged (a lodging step, a shelter stay's step) shows only to a reader of her identity: the route page
  and the timeline held it, the agenda and "Mis casos" (web and API) did not (casework.lodging_steps).
- A case's safety flags travel with an open referral; once the referral ended, its former receiver learns no new
  flag on the inbox, the referral page or the API (authz.referral_carries_flags).
- The scan of a signed consent names the entities she agreed to share with, which a receiver is not told: it stays
  with the owning entity, whatever sections a referral shares (authz.readable_attachment_kinds).

Cases belong to Cartagena's SDIS (ana); SALUD (sam) receives a referral for a psychological assessment.
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep, StepKind
from caseapp.services import attachments, safety
from caseapp.services.casework import assignments
from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.test_assignments_access_ends import withdraw_consent
from tests.world import _referral, new_api_token

LODGING_ES = "Alojamiento"
PDF = b"%PDF-1.4 consentimiento para compartir con OTRA\n"


@pytest.fixture
def people(factory):
    factory.entity("OTRA")
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with factory.app.app_context():
        db.session.get(User, ana.id).display_name = "Ana Torres"
        db.session.commit()
    return {"ana": ana, "sam": factory.user("sam", roles=("social_worker",), entity="SALUD")}


def _headers(app, user) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {new_api_token(user.id)}"}


def _referred(app, people, sections="summary,psychosocial") -> tuple[str, int]:
    with app.test_request_context():
        code = make_case(people["ana"].id, status="in_immediate_assistance")
        referral_id = _referral(code, "SDIS", "SALUD", "accepted", people["ana"].id, sections=sections,
                                service="psychological_assessment")
    return code, referral_id


# --- where she is lodged -------------------------------------------------------------------------------------------


def _agenda_api(app, client, login_as, user, code):
    items = client.get("/api/v1/agenda", headers=_headers(app, user)).get_json()["items"]
    return " ".join(f"{i['case']}:{i['kind']}" for i in items if i["kind"] == "step")


LODGING_PATHS = {
    "route page": lambda app, client, login_as, user, code: (login_as(user), client.get(
        f"/route/cases/{code}").get_data(as_text=True))[1],
    "timeline": lambda app, client, login_as, user, code: (login_as(user), client.get(
        f"/cases/{code}/timeline").get_data(as_text=True))[1],
    "agenda page": lambda app, client, login_as, user, code: (login_as(user), client.get(
        "/route/agenda").get_data(as_text=True))[1],
    "Mis casos": lambda app, client, login_as, user, code: (login_as(user), client.get(
        "/my-cases").get_data(as_text=True))[1],
}


@pytest.fixture
def lodged(app, people):
    """A referred case (identity not shared) with a lodging step in progress, both social workers assigned."""
    code, _referral_id = _referred(app, people)
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        kind = db.session.scalar(select(StepKind).where(StepKind.code == "lodging"))
        db.session.add(AssistanceStep(case=case, phase="immediate", kind=kind, status="in_progress",
                                      planned_on=today() - timedelta(days=3), created_by_id=people["ana"].id))
        db.session.commit()
        assignments.assign(db.session.get(User, people["ana"].id), code, "sam", "social_worker")
    return code


@pytest.mark.parametrize("path", sorted(LODGING_PATHS))
def test_her_lodging_shows_only_to_a_reader_of_her_identity(app, client, login_as, people, lodged, path):
    shown = LODGING_PATHS[path](app, client, login_as, people["sam"], lodged)
    assert LODGING_ES not in shown
    assert LODGING_ES in LODGING_PATHS[path](app, client, login_as, people["ana"], lodged)  # the owner's does


def test_her_lodging_is_no_item_of_a_receivers_agenda_api(app, client, login_as, people, lodged):
    assert _agenda_api(app, client, login_as, people["sam"], lodged) == ""
    assert f"{lodged}:step" in _agenda_api(app, client, login_as, people["ana"], lodged)


# --- safety flags after a referral ended ---------------------------------------------------------------------------


def _api_detail(app, client, login_as, people, referral_id):
    return str(client.get(f"/api/v1/referrals/{referral_id}", headers=_headers(app, people["sam"])).get_json()
               ["safety_flags"])


def _api_inbox(app, client, login_as, people, referral_id):
    rows = client.get("/api/v1/referrals?direction=incoming", headers=_headers(app, people["sam"])).get_json()
    return str([r["safety_flags"] for r in rows if r["id"] == referral_id])


def _web_detail(app, client, login_as, people, referral_id):
    login_as(people["sam"])
    return client.get(f"/referrals/{referral_id}").get_data(as_text=True)


def _web_inbox(app, client, login_as, people, referral_id):
    login_as(people["sam"])
    return client.get("/referrals/?direction=incoming").get_data(as_text=True)


FLAG_PATHS = [_api_detail, _api_inbox, _web_detail, _web_inbox]
FLAG_MARKS = ("threats_received", "Amenazas recibidas", "Ana Torres")


def _set_flags(app, people, code):
    with app.test_request_context():
        ana = db.session.get(User, people["ana"].id)
        safety.set_flag(ana, code, kind="threats_received", reason="El tratante la amenazó ayer")
        safety.set_flag(ana, code, kind="contact_only_through", reason="Solo Ana", professional="ana")


@pytest.mark.parametrize("path", FLAG_PATHS, ids=lambda f: f.__name__.strip("_"))
def test_a_flag_set_after_access_ended_does_not_reach_the_former_receiver(app, client, login_as, people, path):
    code, referral_id = _referred(app, people)
    assert withdraw_consent(app, client, login_as, people, code, referral_id, "api").status_code == 200
    with app.app_context():
        assert db.session.get(Referral, referral_id).status == "ended"
    _set_flags(app, people, code)
    shown = path(app, client, login_as, people, referral_id)
    assert not any(mark in shown for mark in FLAG_MARKS), shown[:3000]
    assert client.get(f"/api/v1/cases/{code}", headers=_headers(app, people["sam"])).status_code == 404


@pytest.mark.parametrize("path", FLAG_PATHS, ids=lambda f: f.__name__.strip("_"))
def test_a_flag_travels_with_an_open_referral(app, client, login_as, people, path):
    """The control: while the referral is open (sent here: not yet accepted) its receiver sees every flag."""
    with app.test_request_context():
        code = make_case(people["ana"].id, status="in_immediate_assistance")
        referral_id = _referral(code, "SDIS", "SALUD", "sent", people["ana"].id)
    _set_flags(app, people, code)
    shown = path(app, client, login_as, people, referral_id)
    assert any(mark in shown for mark in FLAG_MARKS), shown[:3000]


# --- the scan of a signed consent ----------------------------------------------------------------------------------


def test_a_consent_scan_stays_with_the_owning_entity(app, client, people):
    code, _referral_id = _referred(app, people, sections="summary,identity,psychosocial")
    with app.test_request_context():
        _referral(code, "SDIS", "OTRA", "accepted", people["ana"].id)
        ana = db.session.get(User, people["ana"].id)
        consent = attachments.upload(ana, code, kind="consent", data=PDF,
                                     filename="consentimiento-compartir-con-OTRA.pdf").id
        identity = attachments.upload(ana, code, kind="identity_document", data=PDF, filename="cedula.pdf").id
    sam, owner = _headers(app, people["sam"]), _headers(app, people["ana"])
    listed = client.get(f"/api/v1/cases/{code}/attachments", headers=sam).get_json()
    assert "OTRA" not in str(listed) and [a["id"] for a in listed["attachments"]] == [identity], listed
    assert client.get(f"/api/v1/cases/{code}/attachments/{consent}", headers=sam).status_code == 404
    assert client.get(f"/api/v1/cases/{code}/attachments/{identity}", headers=sam).status_code == 200
    assert client.get(f"/api/v1/cases/{code}/attachments/{consent}", headers=owner).data == PDF
    assert client.post(f"/api/v1/cases/{code}/attachments", headers=sam, content_type="multipart/form-data",
                       data={"kind": "consent", "file": (io.BytesIO(PDF), "x.pdf")}).status_code in (403, 404)


# --- why a referral was withdrawn (outside review, 2026-12-04) -------------------------------------------------------

WITHDRAWAL = "Mariana Pérez, CC 52123456, teme que la red la encuentre por SALUD"


@pytest.mark.parametrize("status", ["sent", "accepted"])
def test_the_receiver_never_reads_why_a_referral_was_withdrawn(app, client, login_as, people, status):
    """Its notification leads the receiving entity to the referral page: it says the referral was withdrawn, and
    neither the sender's reason (which may name her) nor the reason for the referral; the sender reads both, and the
    receiver's own answer is kept, not written over."""
    from caseapp.services import referrals
    from caseapp.services.referrals import answers

    with app.test_request_context():
        code = make_case(people["ana"].id, status="in_immediate_assistance")
        rid = _referral(code, "SDIS", "SALUD", "sent", people["ana"].id, sections="summary",
                        service="psychological_assessment")
        if status == "accepted":
            answers.accept(db.session.get(User, people["sam"].id), rid, version=db.session.get(Referral, rid).version,
                           note="La recibimos el lunes")
        referrals.withdraw(db.session.get(User, people["ana"].id), rid, version=db.session.get(Referral, rid).version,
                           reason=WITHDRAWAL)
    login_as(people["sam"])
    page = client.get(f"/referrals/{rid}").get_data(as_text=True)
    assert "Retirada" in page or "retirada" in page.lower()
    assert "52123456" not in page and "Mariana" not in page
    login_as(people["ana"])
    page = client.get(f"/referrals/{rid}").get_data(as_text=True)
    assert "52123456" in page and "Motivo del retiro" in page
    if status == "accepted":
        assert "La recibimos el lunes" in page  # the receiver's answer, not lost under the withdrawal
