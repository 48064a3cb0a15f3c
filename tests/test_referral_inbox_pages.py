"""The referrals inbox a page at a time: an entity receives thousands of referrals, and a list cut at a fixed length
hid every referral past it, those still waiting for an answer included. The web shows pages with their count; the
API's body stays an array, with the count in X-Total-Count and the next page in a Link header."""
from __future__ import annotations

import importlib
from datetime import date

import pytest
from sqlalchemy import select, update

from caseapp.extensions import db
from caseapp.models.referrals import Referral
from tests.cases_factory import make_case
from tests.world import _referral, new_api_token

PAGE = 2


@pytest.fixture
def sent(app, factory, monkeypatch):
    """Five referrals from SDIS to SALUD due on five days, the one due last still waiting for an answer."""
    monkeypatch.setattr(importlib.import_module("caseapp.services.referrals.inbox"), "INBOX_PAGE", PAGE)
    monkeypatch.setattr(importlib.import_module("caseapp.api.referrals"), "API_PAGE", PAGE)
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    sam = factory.user("sam", roles=("social_worker",), entity="SALUD")
    with app.test_request_context():
        codes = [make_case(ana.id, document_number=f"9100{i}") for i in range(5)]
        ids = [_referral(code, "SDIS", "SALUD", "accepted" if i < 4 else "sent", ana.id) for i, code in enumerate(codes)]
        for i, ref_id in enumerate(ids):
            db.session.execute(update(Referral).where(Referral.id == ref_id).values(due_on=date(2025, 4, 1 + i)))
        db.session.commit()
    return {"ana": ana, "sam": sam, "codes": codes, "ids": ids}


def test_the_inbox_shows_every_referral_a_page_at_a_time(client, login_as, sent):
    login_as(sent["sam"])
    seen, page, html = [], 1, ""
    while True:
        html = client.get(f"/referrals/?direction=incoming&page={page}").get_data(as_text=True)
        seen.append([c for c in sent["codes"] if c in html])
        if 'rel="next"' not in html:
            break
        page += 1
    assert seen == [sent["codes"][:2], sent["codes"][2:4], sent["codes"][4:]]  # the earliest due first
    assert "Remisiones 5 a 5 de 5" in html  # the one still waiting, on the last page
    for query in ("page=99", "page=99999999999999999", "page=-1", "page=dos"):  # past the last: the last
        html = client.get(f"/referrals/?direction=incoming&{query}").get_data(as_text=True)
        last = query.startswith("page=99")
        assert [c for c in sent["codes"] if c in html] == (sent["codes"][4:] if last else sent["codes"][:2]), query


def test_the_api_list_keeps_its_array_and_links_the_next_page(app, client, sent):
    with app.test_request_context():
        headers = {"Authorization": f"Bearer {new_api_token(sent['sam'].id)}"}
    got, url = [], "/api/v1/referrals?direction=incoming"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and isinstance(response.json, list)
        assert response.headers["X-Total-Count"] == "5"
        got += [r["id"] for r in response.json]
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert got == sent["ids"]
    waiting = client.get("/api/v1/referrals?direction=incoming&status=sent", headers=headers)
    assert [r["id"] for r in waiting.json] == sent["ids"][4:] and "Link" not in waiting.headers


def test_another_entitys_inbox_shows_none_of_them(app, client, login_as, factory, sent):
    login_as(factory.user("olga", roles=("social_worker",), entity="OTRA"))
    html = client.get("/referrals/?direction=incoming&page=2").get_data(as_text=True)
    assert not any(c in html for c in sent["codes"])
    with app.test_request_context():  # they are there, in SALUD's inbox
        assert len(db.session.scalars(select(Referral.id).where(Referral.id.in_(sent["ids"]))).all()) == 5


def _walk(client, headers, url, between=None) -> list[int]:
    """Follow the API's Link headers from `url`, calling `between()` after the first page."""
    got = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        got += [r["id"] for r in response.json]
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
        if between is not None:
            between()
            between = None
    return got


def test_a_client_walking_the_waiting_referrals_misses_none_answered_meanwhile(app, client, sent):
    """All five wait for an answer; after the client read the first page, a colleague accepts its first referral.
    Counted by position, the next page would start one row later and skip a referral still waiting."""
    with app.test_request_context():
        db.session.execute(update(Referral).where(Referral.id.in_(sent["ids"])).values(status="sent"))
        db.session.commit()
        headers = {"Authorization": f"Bearer {new_api_token(sent['sam'].id)}"}

    def colleague_accepts_the_first():
        with app.test_request_context():
            db.session.execute(update(Referral).where(Referral.id == sent["ids"][0]).values(status="accepted"))
            db.session.commit()

    got = _walk(client, headers, "/api/v1/referrals?direction=incoming&status=sent", colleague_accepts_the_first)
    assert got == sent["ids"]


def test_referrals_with_no_due_date_are_reached_too(app, client, sent):
    with app.test_request_context():
        db.session.execute(update(Referral).where(Referral.id.in_(sent["ids"][1:3])).values(due_on=None))
        db.session.commit()
        headers = {"Authorization": f"Bearer {new_api_token(sent['sam'].id)}"}
    got = _walk(client, headers, "/api/v1/referrals?direction=incoming")
    assert sorted(got) == sorted(sent["ids"]) and len(got) == 5


@pytest.mark.parametrize("cursor", ["x", "2025-13-01.3", "2025-04-01.", "-.0", "2025-04-01.3.4", "-" * 400 + ".1"])
def test_a_cursor_the_list_did_not_give_is_refused_in_spanish(app, client, sent, cursor):
    with app.test_request_context():
        headers = {"Authorization": f"Bearer {new_api_token(sent['sam'].id)}"}
    response = client.get("/api/v1/referrals", query_string={"after": cursor}, headers=headers)
    assert response.status_code == 422 and "cursor" in response.get_data(as_text=True), response.get_data(as_text=True)
