"""After registering victims through the service and the API, their identity is nowhere in clear:
not in the SQLite file nor its WAL, not in log output (SQL echo included), not in the access log."""
from __future__ import annotations

import logging
import sqlite3
import subprocess  # noqa: S404 - pg_dump with an argument list, no shell
from pathlib import Path

from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, User
from caseapp.models.audit import AuditEvent
from caseapp.services import registry as cases
from caseapp.timeutil import utcnow
from tests.conftest import PG_URL

SERVICE_VICTIM = {
    "given_names": "Wendy Johana", "family_names": "Zuluaga Ibargüen", "document_type": "CC",
    "document_number": "1017654321", "phone": "3148887766", "birth_date": "1996-07-21",
    "address": "Barrio Olaya Herrera manzana 4", "contact_person": "Hermana Yesenia",
    "narrative": "Captada en Pereira con oferta de empleo en Panamá.",
}
API_VICTIM = {
    "given_names": "Xiomara Lucía", "family_names": "Betancur Moreno", "document_type": "PPT",
    "document_number": "VE99887766", "phone": "3019990011", "birth_date": "2000-12-01",
    "address": "Vereda El Tesoro", "contact_person": "Vecina Ruth", "narrative": "Trabajo forzado en finca.",
}
CASE = {
    "sex": "female", "nationality": "CO", "identified_on": "2025-04-04", "identification_source": "coat",
    "exploitation_purposes": ["sexual_exploitation"], "trafficking_scope": "external", "consent_assistance": False,
    "destination_country": "MX",
    "declined_reasons": "Teme represalias de la red contra su hijo",
}


def needles(victim: dict) -> list[bytes]:
    values = [victim["given_names"], victim["family_names"], victim["document_number"], victim["phone"],
              victim["address"], victim["contact_person"], victim["narrative"]]
    values += victim["given_names"].split() + victim["family_names"].split()
    values += [crypto.normalise_text(victim["given_names"] + " " + victim["family_names"]), victim["birth_date"]]
    out = []
    for v in values:
        out += [v.encode("utf-8"), v.encode("utf-16-le"), v.upper().encode("utf-8")]
    return out


def _files(app) -> tuple[Path, Path]:
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    return path, path.with_name(path.name + "-wal")


def _raw_bytes(app) -> dict[str, bytes]:
    """What someone who copies the database gets: the SQLite file and its WAL, or a plain pg_dump of every row."""
    if PG_URL:
        from caseapp.services.ops import backup

        with app.app_context():
            url = backup._url()
            dump = subprocess.run(  # noqa: S603 - fixed argument list
                [backup._pg_tool("pg_dump"), "--format=plain", "--data-only"], env=backup._pg_env(url),
                capture_output=True, check=True,
            ).stdout
        return {"db": dump, "wal": b""}
    main, wal = _files(app)
    return {"db": main.read_bytes(), "wal": wal.read_bytes() if wal.exists() else b""}


def _checkpoint(app) -> None:
    if not PG_URL:
        conn = sqlite3.connect(_files(app)[0])
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.close()


def test_identity_nowhere_in_clear(app, client, factory, caplog):
    caplog.set_level(logging.DEBUG)  # everything, SQLAlchemy's statement and parameter logging included
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # restored after the test
    worker = factory.user("ana")
    raw_token = crypto.new_token()
    with app.test_request_context():
        db.session.add(ApiToken(user_id=worker.id, token_hash=crypto.hash_token(raw_token), created_at=utcnow()))
        db.session.commit()
        user = db.session.get(User, worker.id)
        code1 = cases.register_case(user, {**SERVICE_VICTIM, **CASE}).code
        found = cases.search_cases(user, document_type="CC", document_number=SERVICE_VICTIM["document_number"])
        assert [c.code for c in found] == [code1]
        cases.search_cases(user, name=SERVICE_VICTIM["given_names"] + " " + SERVICE_VICTIM["family_names"])
        cases.case_summary(user, cases.get_case(user, code1))
    headers = {"Authorization": f"Bearer {raw_token}"}
    r = client.post("/api/v1/cases", json={**API_VICTIM, **CASE}, headers=headers)
    assert r.status_code == 201
    code2 = r.json["code"]
    assert client.post("/api/v1/cases/search", json={"phone": API_VICTIM["phone"]}, headers=headers).json["items"]
    assert client.get(f"/api/v1/cases/{code2}", headers=headers).json["identity"]["given_names"] == "Xiomara Lucía"
    # A refused registration (oversized narrative) must not echo the values either.
    r = client.post("/api/v1/cases", json={**API_VICTIM, **CASE, "narrative": "x" * 5000}, headers=headers)
    assert r.status_code == 422 and "Xiomara" not in r.get_data(as_text=True)

    all_needles = needles(SERVICE_VICTIM) + needles(API_VICTIM) + [CASE["declined_reasons"].encode()]

    # 1. The database file and its WAL, before and after a checkpoint.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    before = _raw_bytes(app)
    assert before["db"]
    _checkpoint(app)
    after = _raw_bytes(app)
    for where, blob in {**before, **{k + "-after-checkpoint": v for k, v in after.items()}}.items():
        for needle in all_needles:
            assert needle not in blob, f"{needle!r} found in {where}"
    # Sanity: the file does hold the case codes, so the scan reads real content.
    assert code1.encode() in after["db"] + after["wal"]

    # 2. Every log record captured while registering, searching and reading.
    assert any("INSERT INTO victims" in r.getMessage() for r in caplog.records), "expected SQL statement logging"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for needle in all_needles:
        text = needle.decode("utf-8", errors="ignore")
        if needle.startswith(text.encode("utf-8")) and text:
            assert text not in logged, f"{text!r} found in the logs"

    # 3. The access log: every column of every row.
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent)).all()
        assert {"case.create", "case.search", "case.view"} <= {r.action for r in rows}
        dump = "\n".join(repr([getattr(r, c.key) for c in AuditEvent.__table__.columns]) for r in rows)
    for needle in all_needles:
        text = needle.decode("utf-8", errors="ignore")
        assert not text or text not in dump, f"{text!r} found in the access log"
    assert code1 in dump and code2 in dump
