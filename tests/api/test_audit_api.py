"""GET /api/v1/audit: auditors only, keyset pagination with an opaque cursor, JSON errors, in the OpenAPI file."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from caseapp import audit, crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken
from caseapp.models.audit import AuditEvent
from caseapp.timeutil import utcnow


@pytest.fixture
def tokens(app, factory):
    people = {
        "aud": factory.user("aud", roles=("auditor",), entity="PROC"),
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "coord": factory.user("coord", roles=("coordinator",), entity="SDIS"),
        "root": factory.user("root", roles=("admin",), entity="SDIS"),
    }
    out = {}
    with app.app_context():
        for name, user in people.items():
            token = crypto.new_token()
            db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(token), created_at=utcnow()))
            out[name] = {"Authorization": f"Bearer {token}"}
        db.session.commit()
    with app.test_request_context():
        for _ in range(7):
            audit.record("case.view", object_type="case", object_ref="SDIS-2025-00001", actor="ana")
        audit.record("case.view", object_type="case", object_ref="SDIS-2025-00002", actor="ana")
        audit.record("case.view", object_type="case", object_ref="SDIS-2025-00001", actor="leo", outcome="denied")
        db.session.commit()
    return out


def test_auditor_reads_the_log_filtered_by_case(app, client, tokens):
    r = client.get("/api/v1/audit?case=SDIS-2025-00001", headers=tokens["aud"])
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) >= {"items", "next_cursor"} and body["next_cursor"] is None
    assert len(body["items"]) == 8
    assert {i["object_ref"] for i in body["items"]} == {"SDIS-2025-00001"}
    seqs = [i["seq"] for i in body["items"]]
    assert seqs == sorted(seqs, reverse=True)
    first = body["items"][0]
    assert first["user"] == "leo" and first["outcome"] == "denied" and first["at"].endswith("Z")
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.api")).one()
        assert row.actor == "aud" and row.object_ref == "SDIS-2025-00001"


def test_keyset_pages_with_an_opaque_cursor(client, tokens):
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/audit?user=ana&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=tokens["aud"]).get_json()
        seen += [i["seq"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 8 and len(set(seen)) == 8 and seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("query", ["outcome=denied", "action=case.view&outcome=denied", "user=leo"])
def test_other_filters(client, tokens, query):
    items = client.get(f"/api/v1/audit?{query}", headers=tokens["aud"]).get_json()["items"]
    assert [(i["user"], i["outcome"]) for i in items] == [("leo", "denied")]


def test_date_filters(client, tokens):
    assert client.get("/api/v1/audit?until=2000-01-01", headers=tokens["aud"]).get_json()["items"] == []
    items = client.get("/api/v1/audit?since=2000-01-01T00:00Z&limit=200", headers=tokens["aud"]).get_json()["items"]
    assert len(items) >= 9


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=500", "limit"), ("limit=x", "limit"), ("since=ayer", "since"),
    ("cursor=not-a-cursor", "cursor"), ("outcome=ok", "outcome"), ("case=a%27%20OR%201=1", "case"),
])
def test_bad_parameters_are_422_with_the_field(client, tokens, query, field):
    r = client.get(f"/api/v1/audit?{query}", headers=tokens["aud"])
    assert r.status_code == 422
    assert field in r.get_json()["fields"]


@pytest.mark.parametrize("who", ["ana", "coord", "root"])
def test_everyone_else_gets_403_and_the_denial_is_logged(app, client, tokens, who):
    for query in ("", "?case=SDIS-2025-00001", "?limit=x"):
        r = client.get(f"/api/v1/audit{query}", headers=tokens[who])
        assert r.status_code == 403
        assert r.get_json()["error"] == "forbidden" and "items" not in r.get_json()
    with app.app_context():
        denied = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor == who, AuditEvent.outcome == "denied")).all()
        assert len(denied) == 3


def test_without_a_token_401(client, tokens):
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/api/v1/audit", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/audit"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"case", "user", "since", "until", "action", "outcome",
                                                     "cursor", "limit"}
    assert {"200", "401", "403", "422"} <= set(op["responses"])
    assert "AuditPage" in doc["components"]["schemas"]
