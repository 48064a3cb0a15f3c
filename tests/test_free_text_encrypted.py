"""Free text of a case's tables is encrypted under the victim's data key, so erasing her identity erases it too.

One test walks every model: a text column of a case's tables (a table of cases or victims, or one that points at
them) is either a short code, encrypted (`*_enc`), or on the allowlist below with its reason. The others write a
legal event's title, the office that received the complaint and who decided an extension through the API, then
copy the database and erase her with `flask victims erase`.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, String, Text, select

import caseapp.models  # noqa: F401 - every model, for the metadata walk
from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.route import LegalEvent, LegalProceeding, PhaseExtension
from tests.cases_factory import make_case
from tests.world import new_api_token

# A text column this short holds a code (status, kind, uid, case code), never a sentence about her.
CODE_LENGTH = 40
# Longer text columns of a case's tables that are not free text, each with its reason.
ALLOWED = {
    ("cases", "control_methods"): "comma-separated codes, each checked against CONTROL_METHODS",
    ("cases", "registration_key"): "a keyed hash of the client's idempotency key (64 hex characters)",
    ("identification_screenings", "acts"): "comma-separated Palermo act codes, checked against the catalogue",
    ("identification_screenings", "means"): "comma-separated Palermo means codes, checked against the catalogue",
    ("referrals", "shared_sections"): "comma-separated section codes, checked against REFERRAL_SECTIONS",
}
CASE_ROOTS = ("cases", "victims")

TITLE = "AUDIENCIA de imputación contra Dayana Hurtado Caicedo"
OFFICE = "Fiscalía 12 Seccional de Tumaco, despacho de la doctora Yolanda Quiñones"
DECIDED_BY = "Comité presidido por Julio Andrés Mosquera"


def _case_tables():
    for table in db.metadata.sorted_tables:
        if table.name in CASE_ROOTS or any(fk.column.table.name in CASE_ROOTS for fk in table.foreign_keys):
            yield table


def test_every_free_text_column_of_a_case_is_encrypted_or_allowed():
    unexplained = []
    for table in _case_tables():
        names = {c.name for c in table.columns}
        for column in table.columns:
            if column.foreign_keys or not isinstance(column.type, (String, Text)):
                continue
            length = getattr(column.type, "length", None)
            if length is not None and length <= CODE_LENGTH:
                continue
            if (table.name, column.name) not in ALLOWED:
                unexplained.append(f"{table.name}.{column.name}")
        # Every *_enc column really is ciphertext (binary), never text.
        for name in names:
            if name.endswith("_enc"):
                assert isinstance(table.columns[name].type, LargeBinary), f"{table.name}.{name}"
    assert unexplained == [], "free text in clear in a case's tables (encrypt it or explain it in ALLOWED)"
    # The allowlist stays short and every entry still names a real column.
    assert len(ALLOWED) <= 6
    tables = {t.name: t for t in db.metadata.sorted_tables}
    assert all(c in tables[t].columns for t, c in ALLOWED)


def test_the_three_columns_named_by_the_issue_are_gone_in_clear():
    for model, name in ((LegalEvent, "title"), (LegalProceeding, "receiving_office"), (PhaseExtension, "decided_by")):
        columns = model.__table__.columns
        assert name not in columns and f"{name}_enc" in columns


@pytest.fixture
def written(app, factory):
    """A case whose legal follow-up and extension were written through the API by its lawyer and social worker."""
    sw = factory.user("ana", roles=("social_worker",))
    lawyer = factory.user("luz", roles=("lawyer",))
    with app.test_request_context():
        code = make_case(sw.id, given_names="Dayana", family_names="Hurtado Caicedo",
                         identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))
        h_sw = {"Authorization": f"Bearer {new_api_token(sw.id)}"}
        h_law = {"Authorization": f"Bearer {new_api_token(lawyer.id)}"}
    return code, h_sw, h_law


def _write(client, code, h_sw, h_law):
    r = client.put(f"/api/v1/cases/{code}/legal", headers=h_law, json={
        "complaint_filed_on": "2025-03-12", "receiving_office": OFFICE, "stage": "inquiry", "representation": "none", "version": 0})
    assert r.status_code == 200, r.json
    r = client.post(f"/api/v1/cases/{code}/legal-events", headers=h_law,
                    json={"kind": "hearing", "on": "2025-03-14", "title": TITLE})
    assert r.status_code == 201, r.json
    version = client.get(f"/api/v1/cases/{code}", headers=h_sw).json["version"]
    r = client.post(f"/api/v1/cases/{code}/extensions", headers=h_sw, json={
        "phase": "immediate", "amount": 2, "reason": "Espera de documentos", "decided_by": DECIDED_BY,
        "decided_on": "2025-03-15", "version": version})
    assert r.status_code == 201, r.json
    return r


def _db_bytes(app) -> bytes | None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        return None
    path = Path(uri.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _needles() -> list[bytes]:
    out = []
    for text in (TITLE, OFFICE, DECIDED_BY, "Hurtado Caicedo", "Yolanda", "Mosquera"):
        out += [text.encode("utf-8"), text.encode("utf-16-le")]
    return out


def test_written_text_is_readable_by_her_team_and_never_in_clear(app, client, written):
    code, h_sw, h_law = written
    r = _write(client, code, h_sw, h_law)
    assert r.json["decided_by"] == DECIDED_BY
    legal = client.get(f"/api/v1/cases/{code}/legal", headers=h_law).json
    assert legal["proceeding"]["receiving_office"] == OFFICE
    assert client.get(f"/api/v1/cases/{code}/legal-events", headers=h_law).json["events"][0]["title"] == TITLE
    raw = _db_bytes(app)
    if raw is not None:
        assert not [n for n in _needles() if n in raw]


def _erase_by_cli(app, runner, factory, code, h_sw, client):
    result = runner.invoke(args=["victims", "erase", code, "--yes"])
    assert result.exit_code == 0, result.output


def _erase_by_approved_request(app, runner, factory, code, h_sw, client):
    from caseapp.models.accounts import User
    from caseapp.services import registry

    r = client.post(f"/api/v1/cases/{code}/erasure-requests", headers=h_sw, json={"reason": "victim_request"})
    assert r.status_code == 201, r.json
    admin = factory.user("admin1", roles=("admin",))
    with app.test_request_context():
        registry.approve_erasure(db.session.get(User, admin.id), r.json["id"])


@pytest.mark.parametrize("erase", [_erase_by_cli, _erase_by_approved_request], ids=lambda f: f.__name__[7:])
def test_erasure_leaves_title_office_and_who_decided_unreadable(app, client, runner, factory, written, erase):
    code, h_sw, h_law = written
    _write(client, code, h_sw, h_law)
    erase(app, runner, factory, code, h_sw, client)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        proc = db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == case.id))
        event = db.session.scalar(select(LegalEvent).where(LegalEvent.case_id == case.id))
        ext = db.session.scalar(select(PhaseExtension).where(PhaseExtension.case_id == case.id))
        # The ciphertext is still there, but nobody can read it any more.
        assert proc.receiving_office_enc and event.title_enc and ext.decided_by_enc
        assert (proc.receiving_office, event.title, ext.decided_by) == ("", "", "")
    events = client.get(f"/api/v1/cases/{code}/legal-events", headers=h_law).json["events"]
    assert TITLE not in str(events)
    raw = _db_bytes(app)
    if raw is not None:
        assert not [n for n in _needles() if n in raw]


def test_migration_0008_encrypts_existing_text_and_its_downgrade_restores_it(empty_database_url, instance_path):
    """Rows written before 0008 keep their text, now encrypted; an erased victim's clear text is dropped."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    import config
    from caseapp import create_app
    from caseapp.models.accounts import Entity, User

    # 15-bit indexes, the width before 0008: the downgrade refuses any other (old code could not search them).
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url, PLANNED_VICTIMS=100_000))
    with app.test_request_context():
        upgrade()
        entity = Entity(code="SDIS", name="Entidad SDIS", kind="government")
        user = User(username="ana", display_name="Ana", entity=entity, active=True)
        user.set_roles(("social_worker",))
        db.session.add_all([entity, user])
        db.session.commit()
        codes = [make_case(user.id, document_number=n, status="in_immediate_assistance",
                           intake_on=date(2025, 3, 10)) for n in ("52123456", "52999999")]
        for i, code in enumerate(codes):
            case = db.session.scalar(select(Case).where(Case.code == code))
            event = LegalEvent(case=case, kind="hearing", on=date(2025, 3, 14))
            proc = LegalProceeding(case=case)
            ext = PhaseExtension(case=case, phase="immediate", decided_on=date(2025, 3, 15),
                                 recorded_at=datetime(2025, 3, 15, 12))
            db.session.add_all([event, proc, ext])
            event.title, proc.receiving_office, ext.decided_by = f"{TITLE} {i}", OFFICE, DECIDED_BY
        db.session.commit()
        db.session.remove()

        downgrade(revision="0006")
        with db.engine.connect() as conn:
            assert sorted(conn.execute(text("SELECT title FROM legal_events")).scalars()) == [f"{TITLE} 0",
                                                                                            f"{TITLE} 1"]
            # The second victim is erased while the text is in clear (as `victims erase` did before 0008).
            conn.execute(text("UPDATE data_keys SET wrapped = NULL WHERE id = (SELECT v.data_key_id FROM victims v "
                              "JOIN cases c ON c.victim_id = v.id WHERE c.code = :code)"), {"code": codes[1]})
            conn.commit()

        upgrade()
        with db.engine.connect() as conn:
            blobs = conn.execute(text("SELECT title_enc FROM legal_events")).scalars().all()
            assert all(TITLE.encode() not in (b or b"") for b in blobs)
        first = db.session.scalar(select(Case).where(Case.code == codes[0]))
        event = db.session.scalar(select(LegalEvent).where(LegalEvent.case_id == first.id))
        proc = db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == first.id))
        ext = db.session.scalar(select(PhaseExtension).where(PhaseExtension.case_id == first.id))
        assert (event.title, proc.receiving_office, ext.decided_by) == (f"{TITLE} 0", OFFICE, DECIDED_BY)
        erased = db.session.scalar(select(Case).where(Case.code == codes[1]))
        assert db.session.scalar(select(LegalEvent.title_enc).where(LegalEvent.case_id == erased.id)) is None
        db.session.remove()
        db.engine.dispose()
