"""Erasure by crypto-shredding: CLI with confirmation, request/approval, what stays and what is gone."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from caseapp import crypto
from caseapp.errors import Conflict, Forbidden
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from caseapp.services import registry as cases
from caseapp.services.registry import erasure

DATA = {
    "given_names": "Dayana", "family_names": "Hurtado Caicedo", "document_type": "PPT",
    "document_number": "V-28444555", "birth_date": "1999-09-09", "phone": "3157778899", "sex": "female",
    "nationality": "VE", "migrant_status": "regular_migrant", "identified_on": "2025-02-14",
    "identification_source": "migracion", "exploitation_purposes": ["sexual_exploitation"],
    "trafficking_scope": "external", "consent_assistance": True, "narrative": "Ofrecimiento de trabajo falso.",
    "destination_country": "CO",
}


def _register(app, worker_id, **kw) -> str:
    with app.test_request_context():
        return cases.register_case(db.session.get(User, worker_id), {**DATA, **kw}).code


def _case(code) -> Case:
    return db.session.scalar(select(Case).where(Case.code == code))


def _db_bytes(app) -> bytes | None:
    """The SQLite file and its WAL (None on PostgreSQL)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        return None
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def setup(app, factory):
    worker = factory.user("ana")
    return worker, _register(app, worker.id)


def test_cli_asks_for_the_code_again(app, runner, setup):
    _worker, code = setup
    result = runner.invoke(args=["victims", "erase", code], input="SDIS-2025-99999\n")
    assert result.exit_code != 0 and "nothing was erased" in result.output
    with app.app_context():
        assert _case(code).victim.given_names == "Dayana"
    result = runner.invoke(args=["victims", "erase", code], input=code + "\n")
    assert result.exit_code == 0, result.output
    assert "Dayana" not in result.output
    with app.test_request_context():
        case = _case(code)
        assert case.victim.erased and case.victim.given_names == crypto.ERASED
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.erase"))
        assert (event.actor, event.object_ref) == ("cli", code)


def test_cli_yes_and_unknown_case(app, runner, setup):
    _worker, code = setup
    assert runner.invoke(args=["victims", "erase", "NOPE-2025-00001", "--yes"]).exit_code != 0
    assert runner.invoke(args=["victims", "erase", code, "--yes"]).exit_code == 0
    again = runner.invoke(args=["victims", "erase", code, "--yes"])
    assert again.exit_code != 0  # already erased: refused, not repeated silently


def test_erased_identity_unreadable_stats_and_history_stay(app, runner, factory, setup):
    worker, code = setup
    with app.app_context():
        wrapped = _case(code).victim.data_key.wrapped
    raw = _db_bytes(app)
    assert raw is None or wrapped in raw
    assert runner.invoke(args=["victims", "erase", code, "--yes"]).exit_code == 0
    with app.test_request_context():
        user = db.session.get(User, worker.id)
        case = cases.get_case(user, code)  # the case stays readable
        summary = cases.case_summary(user, case)
        assert summary["erased"] is True
        assert all(v is None for v in summary["identity"].values())
        assert summary["linked_on"] == "2025-02-14" and summary["statistics"]["nationality"] == "VE"
        assert summary["statistics"]["age_group"] == "24-26"
        linked = db.session.scalar(select(func.count()).select_from(Case).where(Case.linked_on.is_not(None)))
        assert linked == 1
        # No longer found by identity, no longer a duplicate.
        assert cases.search_cases(user, document_type="PPT", document_number="V-28444555") == []
        assert cases.search_cases(user, code=code)[0].code == code
        assert cases.find_duplicates(user, DATA) == []
        with pytest.raises(Conflict):
            cases.update_case(user, code, {"given_names": "Otra"}, version=case.version)
        db.session.rollback()
        # Statistical fields remain editable, also from a whole edit form whose erased fields come back blank.
        blank_identity = {k: "" for k in cases.IDENTITY_FIELDS}
        case = cases.update_case(user, code, {**blank_identity, "ethnic_group": "afrocolombian"}, version=case.version)
        assert case.victim.ethnic_group == "afrocolombian"
    # The wrapped key is gone from the database file and its WAL (secure_delete + checkpoint).
    raw = _db_bytes(app)
    assert raw is None or wrapped not in raw


def test_request_approve_and_reject(app, factory):
    worker = factory.user("ana")
    admin = factory.user("root", roles=("admin",))
    other = factory.user("otra", entity="ICBF")
    code = _register(app, worker.id)
    code2 = _register(app, worker.id, document_number="V-1", given_names="Segunda")
    with app.test_request_context():
        w, a, o = (db.session.get(User, u.id) for u in (worker, admin, other))
        with pytest.raises(Forbidden):
            erasure.approve_erasure(w, 1)
        with pytest.raises(Exception) as denied:
            erasure.request_erasure(o, code, "victim_request")
        assert type(denied.value).__name__ == "NotFound"
        db.session.rollback()
        req = erasure.request_erasure(w, code, "victim_request")
        with pytest.raises(Conflict):
            erasure.request_erasure(w, code, "victim_request")
        db.session.rollback()
        assert [r.id for r in erasure.pending_requests(a)] == [req.id]
        erasure.approve_erasure(a, req.id)
        assert _case(code).victim.erased
        with pytest.raises(Conflict):
            erasure.approve_erasure(a, req.id)
        db.session.rollback()
        req2 = erasure.request_erasure(w, code2, "registered_in_error")
        erasure.reject_erasure(a, req2.id)
        assert not _case(code2).victim.erased and _case(code2).victim.given_names == "Segunda"
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_ref == code)))
        assert {"case.erase.request", "case.erase", "case.erase.approve"} <= set(actions)
