"""In-app notifications: who is told of a referral sent, answered or ended (by web and by API, the same), due dates
from cron told once, the header's counter, and a reader who lost access learning nothing new."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.models.notifications import Notification
from caseapp.models.referrals import Referral
from caseapp.services import notifications, referrals
from caseapp.services.route import due as route_due
from caseapp.timeutil import today, utcnow
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import new_api_token

BODY = {"to_entity": "OIM", "service": "psychological_assessment", "reason": "Valoración",
        "sections": ["summary", "psychosocial"]}


@pytest.fixture
def people(factory):
    return {
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "colega": factory.user("colega", roles=("social_worker",), entity="SDIS"),  # same entity, not on the case
        "beto": factory.user("beto", roles=("social_worker",), entity="OIM"),
        "bea": factory.user("bea", roles=("lawyer",), entity="OIM"),
        "oim_coord": factory.user("oimcoord", roles=("coordinator",), entity="OIM"),
        "carla": factory.user("carla", roles=("social_worker", "lawyer"), entity="FGN"),
    }


def _case(app, people, **kw) -> str:
    with app.test_request_context():
        code = make_case(people["ana"].id, **kw)
        case = db.session.scalar(select(Case).where(Case.code == code))
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=case.identified_on,
                                     method="written", taken_by_id=people["ana"].id, recorded_at=utcnow()))
        db.session.commit()
        return code


def _rows(app, test_user) -> list[Notification]:
    with app.app_context():
        rows = list(db.session.scalars(select(Notification).where(Notification.user_id == test_user.id)
                                       .order_by(Notification.id)))
        db.session.expunge_all()
        return rows


def _kinds(app, people) -> dict[str, list[str]]:
    return {name: [n.kind for n in _rows(app, u)] for name, u in people.items()}


def _send_web(app, client, login_as, people, code) -> int:
    login_as(people["ana"])
    token = csrf_token(client, f"/referrals/cases/{code}/new")
    r = client.post(f"/referrals/cases/{code}/new", data={
        "ref-csrf_token": token, "csrf_token": token, "ref-to_entity": "OIM",
        "ref-service": "psychological_assessment", "ref-reason": "Valoración",
        "ref-sections": ["summary", "psychosocial"]})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with app.app_context():
        return db.session.scalar(select(Referral.id).order_by(Referral.id.desc()).limit(1))


def _send_api(app, client, login_as, people, code) -> int:
    with app.app_context():
        token = new_api_token(people["ana"].id)
    r = client.post("/api/v1/referrals", json={**BODY, "case": code}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.json
    return r.json["id"]


SEND = {"web": _send_web, "api": _send_api}


def _api(app, client, user):
    with app.app_context():
        token = new_api_token(user.id)
    return lambda path, **kw: client.get(path, headers={"Authorization": f"Bearer {token}"}, **kw)


@pytest.mark.parametrize("path", ["web", "api"])
def test_a_referral_sent_tells_the_receiving_professionals_and_nobody_else(app, client, login_as, people, path):
    code = _case(app, people)
    SEND[path](app, client, login_as, people, code)
    assert _kinds(app, people) == {"ana": [], "colega": [], "beto": ["referral_new"], "bea": ["referral_new"],
                                   "oim_coord": [], "carla": []}
    body = _api(app, client, people["beto"])("/api/v1/notifications").json
    assert body["unread"] == 1
    assert [(i["kind"], i["case"], i["read"]) for i in body["items"]] == [("referral_new", code, False)]
    assert code in body["items"][0]["text"]


def _answer_web(app, client, login_as, people, rid, action, note):
    login_as(people["beto"])
    token = csrf_token(client, f"/referrals/{rid}")
    with app.app_context():
        version = db.session.get(Referral, rid).version
    r = client.post(f"/referrals/{rid}/{action}", data={f"{action}-csrf_token": token, "csrf_token": token,
                                                        f"{action}-version": version, f"{action}-note": note})
    assert r.status_code == 302, r.status_code


def _answer_api(app, client, login_as, people, rid, action, note):
    with app.app_context():
        token = new_api_token(people["beto"].id)
        version = db.session.get(Referral, rid).version
    body = {"version": version, **({"reason": note} if action == "reject" else {"note": note})}
    r = client.post(f"/api/v1/referrals/{rid}/{action}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.json


@pytest.mark.parametrize("path", ["web", "api"])
@pytest.mark.parametrize("action", ["accept", "reject"])
def test_an_answer_tells_the_sender(app, client, login_as, people, path, action):
    code = _case(app, people)
    rid = _send_api(app, client, login_as, people, code)
    {"web": _answer_web, "api": _answer_api}[path](app, client, login_as, people, rid, action, "Sin cupo")
    kinds = _kinds(app, people)
    assert kinds["ana"] == [f"referral_{action}ed"]
    assert kinds["colega"] == [] and kinds["carla"] == [] and kinds["beto"] == ["referral_new"]


def _withdraw_consent_web(app, client, login_as, people, code, consent):
    login_as(people["ana"])
    token = csrf_token(client, f"/cases/{code}")
    r = client.post(f"/cases/{code}/consents/withdraw", data={"csrf_token": token, "consent_id": consent.id,
                                                              "version": consent.version})
    assert r.status_code == 302


def _withdraw_consent_api(app, client, login_as, people, code, consent):
    with app.app_context():
        token = new_api_token(people["ana"].id)
    r = client.post(f"/api/v1/cases/{code}/consents/{consent.id}/withdraw", json={"version": consent.version},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.json


@pytest.mark.parametrize("path", ["web", "api"])
def test_a_withdrawn_consent_tells_the_entity_that_lost_access(app, client, login_as, people, path):
    code = _case(app, people)
    rid = _send_api(app, client, login_as, people, code)
    _answer_api(app, client, login_as, people, rid, "accept", "")
    with app.app_context():
        consent = db.session.scalar(select(Consent).where(Consent.kind == "sharing"))
        db.session.expunge(consent)
    {"web": _withdraw_consent_web, "api": _withdraw_consent_api}[path](app, client, login_as, people, code, consent)
    kinds = _kinds(app, people)
    assert kinds["beto"] == ["referral_new", "access_ended"] and kinds["bea"] == ["referral_new", "access_ended"]
    assert kinds["carla"] == [] and kinds["colega"] == []
    # Opening it leads to the referral, which now says only that access ended: not back into the case.
    login_as(people["beto"])
    ended = _rows(app, people["beto"])[-1]
    r = client.get(f"/notifications/{ended.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/referrals/{rid}")
    assert client.get(f"/route/cases/{code}").status_code == 404


def test_a_sender_withdrawing_tells_the_receiver(app, client, login_as, people):
    code = _case(app, people)
    rid = _send_api(app, client, login_as, people, code)
    with app.test_request_context():
        ana = db.session.get(User, people["ana"].id)
        referrals.withdraw(ana, rid, version=db.session.get(Referral, rid).version)
    assert _kinds(app, people)["beto"] == ["referral_new", "access_ended"]


def test_a_reader_who_lost_access_learns_nothing_new(app, client, login_as, people):
    """Beto moves to another entity: his old notification no longer names the case, nor opens anything."""
    code = _case(app, people)
    _send_api(app, client, login_as, people, code)
    with app.app_context():
        user = db.session.get(User, people["beto"].id)
        user.entity_id = db.session.scalar(select(Entity.id).where(Entity.code == "FGN"))
        db.session.commit()
    body = _api(app, client, people["beto"])("/api/v1/notifications").json
    assert body["items"][0]["case"] is None and code not in json.dumps(body)
    login_as(people["beto"])
    page = client.get("/notifications/").get_data(as_text=True)
    assert code not in page and "Novedad sobre un caso que ya no puede ver." in page
    note = _rows(app, people["beto"])[0]
    r = client.get(f"/notifications/{note.id}", follow_redirects=True)
    assert code not in r.get_data(as_text=True) and "Ya no tiene acceso" in r.get_data(as_text=True)


def test_another_users_notification_does_not_exist_for_her(app, client, login_as, people):
    code = _case(app, people)
    _send_api(app, client, login_as, people, code)
    theirs = _rows(app, people["beto"])[0]
    login_as(people["carla"])
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    token = csrf_token(client, "/notifications/")
    assert client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        t = new_api_token(people["carla"].id)
    r = client.post(f"/api/v1/notifications/{theirs.id}/read", headers={"Authorization": f"Bearer {t}"})
    assert r.status_code == 404 and r.json["error"] == "not_found"
    assert _rows(app, people["beto"])[0].read_at is None
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 400  # no CSRF token: refused


def test_the_header_counts_unread_and_marking_read_lowers_it(app, client, login_as, people):
    code = _case(app, people)
    _send_api(app, client, login_as, people, code)
    login_as(people["beto"])
    home = client.get("/").get_data(as_text=True)
    assert 'id="unread-count">1<' in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"Nueva remisión del caso {code} a su entidad." in page
    token = csrf_token(client, "/notifications/")
    note = _rows(app, people["beto"])[0]
    client.post(f"/notifications/{note.id}/read", data={"csrf_token": token})
    assert 'id="unread-count"' not in client.get("/").get_data(as_text=True)
    assert _rows(app, people["bea"])[0].read_at is None  # hers is hers


def test_opening_from_the_list_marks_read_and_a_get_changes_nothing(app, client, login_as, people):
    """The list opens a notification with a POST that marks it read; a GET of the same address (a link or an image
    on another site) opens it and leaves it unread, and a POST without the page's CSRF token is refused."""
    code = _case(app, people)
    rid = _send_api(app, client, login_as, people, code)
    login_as(people["beto"])
    note = _rows(app, people["beto"])[0]
    page = client.get("/notifications/").get_data(as_text=True)
    assert f'<form method="post" action="/notifications/{note.id}"' in page
    assert f'href="/notifications/{note.id}"' not in page  # no GET link that would have to change state
    r = client.get(f"/notifications/{note.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/referrals/{rid}")
    assert _rows(app, people["beto"])[0].read_at is None
    assert client.post(f"/notifications/{note.id}").status_code == 400
    assert _rows(app, people["beto"])[0].read_at is None
    r = client.post(f"/notifications/{note.id}", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/referrals/{rid}")
    assert _rows(app, people["beto"])[0].read_at is not None
    assert 'id="unread-count"' not in client.get("/").get_data(as_text=True)
    with app.app_context():
        opened = db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "notification.open")).all()
    assert opened == ["allowed", "allowed"]  # each open is a read in the access log, GET or POST


def test_mark_all_read(app, client, login_as, people):
    for n in range(3):
        _send_api(app, client, login_as, people, _case(app, people, document_number=f"7000{n}"))
    login_as(people["bea"])
    assert 'id="unread-count">3<' in client.get("/").get_data(as_text=True)
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert all(n.read_at is not None for n in _rows(app, people["bea"]))
    assert _rows(app, people["beto"])[0].read_at is None


def test_the_counter_costs_no_statement_whatever_the_number_unread(app, client, login_as, people, count_queries):
    login_as(people["beto"])

    def cost() -> int:
        client.get("/auth/account")
        with count_queries() as count:
            assert client.get("/auth/account").status_code == 200
        return count()

    none = cost()
    for n in range(2):
        _send_api(app, client, login_as, people, _case(app, people, document_number=f"7100{n}"))
    login_as(people["beto"])
    two = cost()
    for n in range(2, 12):
        _send_api(app, client, login_as, people, _case(app, people, document_number=f"7100{n}"))
    login_as(people["beto"])
    assert cost() == two == none
    with count_queries() as count:
        assert 'id="unread-count">12<' in client.get("/auth/account").get_data(as_text=True)
    counted = [s for s in count.statements if "notifications" in s]
    # counted by the statement that finds her session: no statement of its own
    assert len(counted) == 1 and "user_sessions" in counted[0], counted
    with app.test_request_context():
        beto = db.session.get(User, people["beto"].id)
        with count_queries() as count:
            assert notifications.unread_count(beto) == 12
            assert count() == 1


# --- due dates, from cron ---------------------------------------------------------------------------------


def _immediate_due_in(app, people, days: int) -> str:
    """A case in immediate assistance whose phase falls due `days` days from today."""
    with app.app_context():
        rule = route_due.rule_in_force(today())
        intake = today() - timedelta(days=rule.immediate_days) + timedelta(days=days)
    return _case(app, people, status="in_immediate_assistance", identified_on=intake, intake_on=intake)


def test_due_dates_are_told_once_to_the_cases_professionals(app, runner, people, clock):
    clock.set("2026-06-10 07:00")
    soon = _immediate_due_in(app, people, 2)
    later = _immediate_due_in(app, people, 4)
    for _run in range(2):  # the second run sends nothing twice
        r = runner.invoke(args=["notifications", "due"])
        assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"notified": 0}
    kinds = _kinds(app, people)
    assert kinds["ana"] == ["due_soon"] and kinds["colega"] == kinds["beto"] == kinds["carla"] == []
    with app.app_context():
        row = db.session.scalar(select(Notification).where(Notification.user_id == people["ana"].id))
        assert row.case.code == soon and row.due_on == date(2026, 6, 12) and row.item == "immediate"
    clock.advance(days=3)  # soon is overdue, later is due in one day
    runner.invoke(args=["notifications", "due"])
    runner.invoke(args=["notifications", "due"])
    with app.app_context():
        told = sorted((n.case.code, n.kind) for n in db.session.scalars(
            select(Notification).where(Notification.user_id == people["ana"].id)))
    assert told == sorted([(soon, "due_soon"), (soon, "overdue"), (later, "due_soon")])


def test_recipients_for_case_are_the_owning_entitys_professionals_on_it(ctx, people):
    code = make_case(people["ana"].id)
    case = db.session.scalar(select(Case).where(Case.code == code))
    assert [u.username for u in notifications.recipients_for_case(case)] == ["ana"]
    db.session.get(User, people["ana"].id).active = False
    db.session.commit()
    assert notifications.recipients_for_case(case) == []  # a professional who left is not told


def test_the_api_needs_a_case_role(app, client, people):
    r = _api(app, client, people["oim_coord"])("/api/v1/notifications")
    assert r.status_code == 403
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_mandatory_child_referral_tells_the_child_protection_authority(app, factory, people):
    icbf_entity = factory.entity("ICBF", name="Instituto Colombiano de Bienestar Familiar", kind="child_protection")
    assert icbf_entity is not None
    icbf = factory.user("ines", roles=("social_worker",), entity="ICBF")
    with app.test_request_context():
        code = make_case(people["ana"].id, is_child=True, birth_date="2012-01-01", age_group="12-17")
        referrals.send_child_referral(db.session.get(User, people["ana"].id), code)
    assert [n.kind for n in _rows(app, icbf)] == ["referral_new"]
    assert _kinds(app, people)["beto"] == []
