"""The access log is append-only and erasure never reaches it, so it holds codes and bounded fields only.

A reason for a status change is a catalogue code (unknown: 422 with its rule, in Spanish); what is said about her goes
in a note encrypted under her key. Hostile text sent through every path that writes a detail (the lifecycle, the
legal follow-up, searches, the login form, forged headers) never reaches any column of any access-log row.
"""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import String, Text, select

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from caseapp.models.route import CaseClosure
from tests.cases_factory import make_case
from tests.world import new_api_token

NAME = "Julio Andrés Mosquera Palacios"
HOSTILE = f"La buscó su tratante {NAME}, vive en el barrio Olaya " + "x" * 200_000
# Every text column of the log and how record() bounds it; a new column fails here until it is bounded too.
BOUNDED_COLUMNS = {"actor", "actor_entity", "roles", "action", "object_type", "object_ref", "outcome", "ip",
                   "request_id", "detail", "prev_mac", "mac"}


def test_every_text_column_of_the_log_is_bounded_by_record():
    text_columns = {c.name for c in AuditEvent.__table__.columns if isinstance(c.type, (String, Text))}
    assert text_columns == BOUNDED_COLUMNS


@pytest.mark.parametrize("value", [HOSTILE, NAME, "Calle 10 # 4-23", "a\nb", "x" * 65, {"nested": {"deep": NAME}}])
def test_record_keeps_codes_and_drops_sentences(ctx, value):
    row = audit.record("case.view", object_type="case", object_ref=value if isinstance(value, str) else "C-1",
                       actor=value if isinstance(value, str) else "cli",
                       detail={"reason": value, "codes": ["SDIS-2025-00001", value], NAME: 1})
    assert row.detail and NAME not in row.detail and "Olaya" not in row.detail and "x" * 65 not in row.detail
    detail = json.loads(row.detail)
    assert detail["codes"][0] == "SDIS-2025-00001"
    assert detail["reason"] == audit.OMITTED or isinstance(detail["reason"], dict)
    if isinstance(value, str):
        assert row.object_ref == audit.OMITTED and row.actor == audit.OMITTED
    with pytest.raises(ValueError):
        audit.record("case view by " + NAME)


@pytest.fixture
def closed_case(app, factory):
    sw = factory.user("ana", roles=("social_worker",))
    lawyer = factory.user("luz", roles=("lawyer",))
    with app.test_request_context():
        code = make_case(sw.id, identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))
        headers = {k: {"Authorization": f"Bearer {new_api_token(u.id)}"} for k, u in (("sw", sw), ("law", lawyer))}
    return code, headers, sw


def _version(client, code, h):
    return client.get(f"/api/v1/cases/{code}", headers=h).json["version"]


def _status(client, code, h, **body):
    return client.post(f"/api/v1/cases/{code}/status", headers=h, json={**body, "version": _version(client, code, h)})


def test_a_reason_is_a_code_and_the_note_is_encrypted(app, client, closed_case):
    code, h, _sw = closed_case
    r = _status(client, code, h["sw"], status="closed", reason=HOSTILE)
    assert r.status_code == 422 and r.json["rule"] == "closure_reason_required"
    r = _status(client, code, h["sw"], status="closed", reason="lost_contact", note=NAME, on="2025-04-01")
    assert r.status_code == 200, r.json
    for path, body in ((f"/api/v1/cases/{code}/status", {"status": "reopened", "reason": HOSTILE}),
                       (f"/api/v1/cases/{code}/status", {"status": "reopened", "reason": ["new_risk"]}),
                       (f"/api/v1/cases/{code}/reopen", {"reason": NAME})):
        r = client.post(path, headers=h["sw"], json={**body, "version": _version(client, code, h["sw"])})
        assert r.status_code == 422 and r.json["rule"] == "reopen_reason_required", r.json
        assert "Elija de la lista" in r.json["message"]
    r = _status(client, code, h["sw"], status="reopened", reason="new_risk", note=f"Amenaza de {NAME}")
    assert r.status_code == 200 and r.json["status"] == "in_immediate_assistance"
    closures = client.get(f"/api/v1/cases/{code}/route", headers=h["sw"]).json["closures"]
    assert [(c["reason"], c["reopen_reason"]) for c in closures] == [("lost_contact", "new_risk")]
    assert NAME not in str(closures)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        closure = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case.id))
        assert closure.reopen_code == "new_risk" and closure.reopen_reason == f"Amenaza de {NAME}"
        assert closure.note == NAME and NAME.encode() not in (closure.reopen_reason_enc + closure.note_enc)
        logged = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "case.reopen")).all()
        assert [json.loads(d)["reason"] for d in logged] == ["new_risk"]


def test_hostile_text_on_every_logging_path_never_reaches_the_log(app, client, closed_case, login_as):
    code, h, sw = closed_case
    forged = {"X-Forwarded-For": NAME, "X-Request-Id": HOSTILE[:300]}
    sent = [
        ("post", f"/api/v1/cases/{code}/status", h["sw"], {"status": "closed", "reason": HOSTILE, "note": HOSTILE}),
        ("post", f"/api/v1/cases/{code}/extensions", h["sw"], {
            "phase": "immediate", "amount": 1, "reason": HOSTILE, "decided_by": HOSTILE[:200]}),
        ("put", f"/api/v1/cases/{code}/legal", h["law"], {"receiving_office": HOSTILE, "stage": "inquiry",
                                                          "representation": "none", "version": 0}),
        ("post", f"/api/v1/cases/{code}/legal-events", h["law"], {"kind": "hearing", "on": "2025-03-14",
                                                                  "title": HOSTILE, "outcome": HOSTILE}),
        ("post", f"/api/v1/cases/{code}/legal-events", h["law"], {"kind": HOSTILE, "on": "2025-03-14"}),
        ("post", "/api/v1/cases/search", h["sw"], {"name": NAME}),
        ("post", "/api/v1/cases/search", h["sw"], {"code": NAME}),
        ("post", f"/api/v1/cases/{code}/status", h["sw"], {"status": HOSTILE}),
        ("get", f"/api/v1/cases/{NAME}", h["sw"], None),
        ("get", "/api/v1/cases", {"Authorization": f"Bearer {NAME}"}, None),
    ]
    for method, path, headers, body in sent:
        if body is not None and "version" not in body and "search" not in path:
            body = {**body, "version": _version(client, code, h["sw"])}
        getattr(client, method)(path, headers={**headers, **forged}, json=body)
    client.post("/auth/login", data={"username": NAME, "password": HOSTILE[:500]}, headers=forged)
    login_as(sw)
    client.get(f"/cases/{code}", headers=forged)
    client.get("/audit/", query_string={"user": NAME, "case": NAME}, headers=forged)
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent)).all()
        assert len(rows) >= 10
        for row in rows:
            for column in BOUNDED_COLUMNS:
                value = getattr(row, column) or ""
                assert "Mosquera" not in value and "Olaya" not in value and "xxxx" * 17 not in value, (column, row.action)
            assert row.ip in (None, "127.0.0.1", audit.OMITTED)
            if row.detail:
                assert len(row.detail) < 16_000
    with app.app_context():
        assert audit.verify().ok
