"""The pages this work touched issue a number of SQL statements that does not grow with the rows they show."""
from __future__ import annotations

from datetime import date

import pytest

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import accounts, casework, referrals, registry
from tests.cases_factory import make_case
from tests.world import AUDIT_APPEND_STATEMENTS, new_api_token

IDENTIFIED = date(2025, 3, 10)


@pytest.fixture
def people(factory):
    return {"ana": factory.user("ana", roles=("social_worker", "lawyer"), entity="SDIS"),
            "beto": factory.user("beto", roles=("social_worker",), entity="OIM")}


def _case_with(app, people, n: int) -> str:
    """A case with n steps, n notes and n life-plan goals, referred n times to OIM (accepted)."""
    with app.test_request_context():
        ana, beto = db.session.get(User, people["ana"].id), db.session.get(User, people["beto"].id)
        code = make_case(ana.id, identified_on=IDENTIFIED, status="in_immediate_assistance", intake_on=IDENTIFIED,
                         document_number=f"5200{n:04d}")
        registry.give_consent(ana, code, "sharing", method="written", given_on="2025-03-10", entity_code="OIM")
        for i in range(n):
            casework.add_step(ana, code, kind="reception", status="done", done_on="2025-03-11", notes=f"Nota {i}")
            casework.add_note(ana, code, "psychosocial", body=f"Seguimiento {i}", written_on="2025-03-11")
            casework.add_goal(ana, code, area="education", description=f"Meta {i}", agreed_on="2025-03-11")
            ref = referrals.send(ana, code, to_entity="OIM", service="psychological_assessment", reason="Valoración",
                                 sections=["summary", "psychosocial"], due_on="2099-01-01")
            referrals.accept(beto, ref.id, version=ref.version)
        return code


def _statements(client, count_queries, url, headers=None) -> int:
    client.get(url, headers=headers)  # warm the caches a first visit fills
    with count_queries() as count:
        assert client.get(url, headers=headers).status_code == 200
    return count()


# The case page: 5 (its consents joined to the case; its purposes, the entities its consent form lists to share
# with, and its professionals - the open assignments with their users, and whether each keeps the case staffed: may
# the reader assign is decided from them - columns of it, no statement of their own; one transaction, its page drawn
# before its access-log row), +1 for its attached documents (their list and the size limit the upload form states,
# in one: attachments.case_block), +1 for its timeline panel (services.followup.timeline: every record of the
# sections the reader sees in one statement, steps and referrals through their rules' conditions; it was one
# statement a source, 11, then 4). The header's count of unread notifications is a column of the statement that
# finds her session.
@pytest.mark.parametrize("page,ceiling", [("/route/cases/{code}", 28), ("/cases/{code}", 7)])
def test_a_case_page_costs_the_same_with_one_row_or_eight(app, client, login_as, people, count_queries, page,
                                                          ceiling):
    login_as(people["ana"])
    one, eight = (_statements(client, count_queries, page.format(code=_case_with(app, people, n))) for n in (1, 8))
    assert eight == one, (one, eight)
    assert one <= ceiling + AUDIT_APPEND_STATEMENTS, one  # the route page shows a dozen sections, each one statement


@pytest.mark.parametrize("url", ["/cases/{code}", "/api/v1/cases/{code}"])
def test_a_receiving_entitys_case_page_costs_what_the_owners_does(app, client, login_as, people, count_queries, url):
    """What her entity's referrals share of the case is asked about twenty times a page (its forms, its attachments'
    kinds, its timeline): read once a transaction (authz._shared_with), it was a statement each (19 in all). At most
    one statement more than the owner's reader: that one."""
    code = _case_with(app, people, 2)
    costs = []
    for reader in ("ana", "beto"):
        login_as(people[reader])
        headers = None
        if url.startswith("/api/"):
            with app.app_context():
                headers = {"Authorization": f"Bearer {new_api_token(people[reader].id)}"}
        costs.append(_statements(client, count_queries, url.format(code=code), headers))
    assert costs[1] <= costs[0] + 1, costs


@pytest.mark.parametrize("url", ["/cases/", "/api/v1/cases"])
def test_a_receiving_entitys_case_list_costs_the_same_with_one_referred_case_or_four(app, client, login_as, people,
                                                                                     count_queries, url):
    """Whether she may read each referred victim's name is asked for the whole list in one statement
    (authz.identity_readable): asked once a row, it cost two statements a referred case."""
    login_as(people["beto"])
    headers = None
    if url.startswith("/api/"):
        with app.app_context():
            headers = {"Authorization": f"Bearer {new_api_token(people['beto'].id)}"}
    _case_with(app, people, 1)
    one = _statements(client, count_queries, url, headers)
    for n in (2, 3, 4):
        _case_with(app, people, n)
    assert _statements(client, count_queries, url, headers) == one


def test_the_referrals_inbox_costs_the_same_with_one_or_eight(app, client, login_as, people, count_queries):
    login_as(people["beto"])
    _case_with(app, people, 1)
    one = _statements(client, count_queries, "/referrals/")
    _case_with(app, people, 7)
    assert _statements(client, count_queries, "/referrals/") == one


def test_the_shelters_page_costs_one_log_row_per_case_shown_and_nothing_more(app, client, login_as, people,
                                                                              count_queries):
    login_as(people["ana"])
    with app.test_request_context():
        casework.save_shelter(accounts.CLI, code="CASA-1", name="Casa Violeta", city="Bogotá",
                              operator_entity="SDIS", capacity=20)
    counts = []
    for n in (1, 4):
        with app.test_request_context():
            ana = db.session.get(User, people["ana"].id)
            shelter = casework.list_shelters(ana)[0].shelter
            for i in range(n - (1 if counts else 0)):
                code = make_case(ana.id, identified_on=IDENTIFIED, status="in_immediate_assistance",
                                 intake_on=IDENTIFIED, document_number=f"53{n}{i:04d}")
                casework.place(ana, code, shelter_id=shelter.id, admitted_on="2025-03-11")
        counts.append(_statements(client, count_queries, "/route/shelters"))
    # each case shown is one access-log row (on PostgreSQL its chain lock, then its head read and its insert):
    # nothing else grows with the rows
    with app.test_request_context():
        from caseapp import audit

        with count_queries() as one_row:
            audit.record("shelter.stays.view", object_type="case", object_ref=code, actor="ana")
        db.session.rollback()
    per_row = [s for s in one_row.statements if not s.startswith("BEGIN")]  # the page's transaction is already open
    assert counts[1] - counts[0] == 3 * len(per_row), (counts, per_row)


@pytest.mark.parametrize("url", ["/notifications/", "/api/v1/notifications"])
def test_the_notifications_list_costs_the_same_with_one_row_or_eight(app, client, login_as, people, count_queries,
                                                                      url):
    """Each notification's case and referral come with the list (services.notifications.reading), never one
    statement a row: the list is where a receiving entity's professional finds what was sent to her."""
    login_as(people["beto"])
    with app.app_context():
        token = {"Authorization": f"Bearer {new_api_token(people['beto'].id)}"}
    headers = token if url.startswith("/api/") else None
    _case_with(app, people, 1)
    one = _statements(client, count_queries, url, headers)
    _case_with(app, people, 7)
    shown = client.get("/api/v1/notifications", headers=token).get_json()
    rows = shown["items"] if isinstance(shown, dict) else shown
    assert len(rows) >= 8  # the referrals each told her (and their acceptance), all listed
    assert _statements(client, count_queries, url, headers) == one


def _as_ana(app, login_as, people, url) -> dict | None:
    """Ana signed in for `url`: the headers of a bearer token for the API, a browser session for a page."""
    if url.startswith("/api/"):
        with app.app_context():
            return {"Authorization": f"Bearer {new_api_token(people['ana'].id)}"}
    login_as(people["ana"])
    return None


def _transactions(app, client, url, headers=None) -> tuple[int, int]:
    """(transactions begun, access-log rows of her case written) by a second visit of `url`; a connection in
    autocommit begins none."""
    from sqlalchemy import event, func, select

    from caseapp.models.audit import AuditEvent, AuditPending

    client.get(url, headers=headers)
    with app.app_context():
        engine = db.engine

    def rows() -> int:
        with app.app_context():
            return sum(db.session.scalar(select(func.count()).select_from(model).where(model.action == "case.view"))
                       for model in (AuditEvent, AuditPending))

    begun = []

    def begin(conn):
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            begun.append(conn)

    before = rows()
    event.listen(engine, "begin", begin)
    try:
        assert client.get(url, headers=headers).status_code == 200
    finally:
        event.remove(engine, "begin", begin)
    return len(begun), rows() - before


@pytest.mark.parametrize("url", ["/cases/{code}", "/api/v1/cases/{code}"])
def test_a_case_is_read_drawn_and_logged_in_one_transaction(app, client, login_as, people, url):
    """Her page (or the API's body) is drawn before the access-log row of its read is written (registry.get_case's
    `draw`), so the reads that draw it (timeline, professionals, attachments, due dates) share the transaction that
    loads her case and logs the read. Drawn after the row's commit, they opened a second one: on PostgreSQL its
    BEGIN, and the check and the rollback at its end, three round trips on every visit."""
    code = _case_with(app, people, 2)
    headers = _as_ana(app, login_as, people, url)
    assert _transactions(app, client, url.format(code=code), headers) == (1, 1)


@pytest.mark.parametrize("url", ["/cases/{code}", "/api/v1/cases/{code}"])
def test_nothing_of_her_leaves_when_her_read_cannot_be_logged(app, client, login_as, people, url, monkeypatch):
    """The page is drawn before its log row is written, and answered only once the row is committed: a commit that
    fails answers the error page, with nothing the page had drawn of her (her document number, her case's timeline)."""
    from sqlalchemy.exc import OperationalError

    from caseapp.services.registry import reading

    code = _case_with(app, people, 1)
    headers = _as_ana(app, login_as, people, url)
    drawn = client.get(url.format(code=code), headers=headers)
    assert drawn.status_code == 200 and b"52000001" in drawn.data  # her document number, shown when logged

    def lost_commit():
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(reading, "commit_read", lost_commit)
    refused = client.get(url.format(code=code), headers=headers)
    assert refused.status_code == 500
    assert b"52000001" not in refused.data and code.encode() not in refused.data


@pytest.mark.parametrize("url", ["/cases/{code}", "/api/v1/cases/{code}"])
def test_a_page_that_fails_to_draw_shows_nothing_and_the_log_names_the_case(app, client, login_as, people, url,
                                                                           monkeypatch):
    """Her page is drawn before its read is logged: when drawing it fails, nothing of her is answered, and the log
    still names the case the user opened (outcome "error"), as it did when the row was written first."""
    from sqlalchemy import select

    from caseapp.models.audit import AuditEvent
    from caseapp.services.registry import reading

    code = _case_with(app, people, 1)
    headers = _as_ana(app, login_as, people, url)
    real = reading.get_case

    def failing_draw(actor, code, draw=None, read=reading.CASE_READ):
        def draw_then_fail(case):
            drawn = draw(case)
            assert b"52000001" in (drawn if isinstance(drawn, str) else str(drawn)).encode()
            raise RuntimeError("the drawing failed")
        return real(actor, code, draw=draw_then_fail if draw is not None else None, read=read)

    monkeypatch.setattr(reading, "get_case", failing_draw)
    monkeypatch.setattr(registry, "get_case", failing_draw)
    refused = client.get(url.format(code=code), headers=headers)
    assert refused.status_code == 500
    assert b"52000001" not in refused.data and code.encode() not in refused.data
    with app.app_context():
        views = db.session.execute(select(AuditEvent.object_ref, AuditEvent.outcome)
                                   .where(AuditEvent.action == "case.view")
                                   .order_by(AuditEvent.seq.desc()).limit(1)).all()
    assert views == [(code, "error")]
