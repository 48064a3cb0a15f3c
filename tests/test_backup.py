"""`flask backup create|restore`: a backup restored into a fresh instance holds every row, identical.

The fresh instance gets the keyring by a separate copy (keys are never inside a data backup); without it the
restored data is unreadable and the access-log chain cannot be verified.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import pytest
from sqlalchemy import select

import config
from caseapp import audit, create_app
from caseapp.extensions import db
from caseapp.models.cases import Case
from tests.cases_factory import make_case

NAMES = ["Mariana", "Yuliana", "Daniela"]


def _snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        out = {}
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order))]
        db.session.remove()
        return out


def _populate(app, factory):
    from caseapp.models.accounts import Entity
    from caseapp.models.referrals import Referral
    from caseapp.models.route import AssistanceStep, StepKind

    worker = factory.user("trabajo1", roles=("social_worker",), entity="SDIS")
    factory.user("abogada1", roles=("lawyer",), entity="FISC")
    with app.test_request_context():
        codes = [
            make_case(worker.id, given_names=name, document_number=f"5212345{i}", phone=f"300123456{i}",
                      identified_on=date(2025, 3, 10 + i))
            for i, name in enumerate(NAMES)
        ]
        kind = db.session.scalar(select(StepKind).order_by(StepKind.id))
        if kind is None:
            kind = StepKind(code="psychosocial_first", phase="immediate", label_es="Atención psicosocial",
                            label_en="Psychosocial care")
            db.session.add(kind)
        fisc = db.session.scalar(select(Entity).where(Entity.code == "FISC"))
        for code in codes:
            case = db.session.scalar(select(Case).where(Case.code == code))
            step = AssistanceStep(case=case, phase="immediate", kind=kind, status="done", planned_on=date(2025, 3, 11),
                                  done_on=date(2025, 3, 12), created_by_id=worker.id)
            db.session.add(step)
            db.session.flush()
            step.notes = f"Notas de {code}"
            referral = Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=fisc.id,
                                service=kind.code, shared_sections="summary", status="sent", sent_by_id=worker.id)
            db.session.add(referral)
            db.session.flush()
            referral.reason = "Denuncia"
            audit.record("case.view", case, actor="trabajo1")
        db.session.commit()
    return codes


@pytest.fixture
def second_instance(tmp_path, empty_database_url, monkeypatch):
    """A fresh instance folder and an empty database, for restoring into."""
    path = tmp_path / "restored-instance"
    path.mkdir()

    def make(with_keyring_from=None):
        if with_keyring_from is not None:
            shutil.copy(with_keyring_from / "keyring.json", path / "keyring.json")
        monkeypatch.setenv("CASEAPP_INSTANCE_PATH", str(path))
        return create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))

    yield make


def test_backup_restored_into_fresh_instance_is_identical(app, factory, runner, instance_path, tmp_path, second_instance):
    codes = _populate(app, factory)
    backup_file = tmp_path / "backups" / "ruta.backup"
    result = runner.invoke(args=["backup", "create", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert backup_file.is_file()
    assert oct(backup_file.stat().st_mode & 0o777) == "0o600"
    before = _snapshot(app)
    assert len(before["cases"]) == 3
    assert len(before["assistance_steps"]) == 3 and len(before["referrals"]) == 3
    with app.app_context():
        assert db.session.scalar(select(db.metadata.tables["audit_events"].c.action).order_by(
            db.metadata.tables["audit_events"].c.seq.desc()).limit(1)) == "backup.create"

    fresh = second_instance(with_keyring_from=instance_path)
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output

    after = _snapshot(fresh)
    for table, rows in before.items():
        if table == "audit_events":
            # The restored log is the original one, plus the restore's own row chained after it.
            assert after[table][: len(rows)] == rows
            assert len(after[table]) == len(rows) + 1
        else:
            assert after[table] == rows, f"table {table} differs after restore"

    with fresh.app_context():
        assert audit.verify().ok
        restored = {c.code: c for c in db.session.scalars(select(Case))}
        assert set(restored) == set(codes)
        assert sorted(c.victim.given_names for c in restored.values()) == sorted(NAMES)
        db.session.remove()
    result = fresh.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        db.engine.dispose()


def test_restore_refuses_a_database_in_use_unless_forced(app, factory, runner, tmp_path):
    _populate(app, factory)
    backup_file = tmp_path / "ruta.backup"
    assert runner.invoke(args=["backup", "create", str(backup_file)]).exit_code == 0
    before = _snapshot(app)

    result = runner.invoke(args=["backup", "restore", str(backup_file)])
    assert result.exit_code != 0
    assert "not empty" in result.output
    assert _snapshot(app) == before

    result = runner.invoke(args=["backup", "restore", "--force", str(backup_file)])
    assert result.exit_code == 0, result.output
    after = _snapshot(app)
    assert after["cases"] == before["cases"]
    with app.app_context():
        assert audit.verify().ok


def test_backup_refuses_to_overwrite_a_file(app, runner, tmp_path):
    target = tmp_path / "exists.backup"
    target.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", "create", str(target)])
    assert result.exit_code != 0
    assert target.read_bytes() == b"keep me"


def test_restore_rejects_a_file_that_is_not_a_backup(app, runner, tmp_path):
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a backup at all")
    result = runner.invoke(args=["backup", "restore", "--force", str(bogus)])
    assert result.exit_code != 0
    assert "not a Ruta backup" in result.output


def _backup_text(path) -> bytes:
    """The backup's contents as the bytes an attacker would read (a pg_dump archive is compressed: expand it)."""
    data = path.read_bytes()
    if data.startswith(b"PGDMP"):
        return subprocess.run(["pg_restore", "--file=-", str(path)], capture_output=True, check=True).stdout
    return data


def test_backup_without_the_keyring_reveals_no_identity(app, factory, runner, tmp_path, second_instance):
    _populate(app, factory)
    backup_file = tmp_path / "stolen.backup"
    assert runner.invoke(args=["backup", "create", str(backup_file)]).exit_code == 0
    content = _backup_text(backup_file)
    for secret in [*NAMES, "Pérez Gómez".encode().decode(), "52123450", "3001234560", "Notas de", "Denuncia"]:
        assert secret.encode() not in content

    # Restored with a different keyring (the thief's): no data key unwraps, and the log does not verify.
    stranger = second_instance(with_keyring_from=None)
    result = stranger.test_cli_runner().invoke(args=["backup", "restore", str(backup_file)])
    assert result.exit_code != 0
    assert "not in the keyring" in result.output
    with stranger.app_context():
        db.session.remove()
        db.engine.dispose()


def test_password_is_not_on_the_command_line(monkeypatch):
    from sqlalchemy.engine import make_url

    from caseapp.services.ops import backup

    env = backup._pg_env(make_url("postgresql+psycopg://ruta:s3cr%40t@db.example:5433/ruta?sslmode=require"))
    assert env["PGPASSWORD"] == "s3cr@t"
    assert env["PGHOST"] == "db.example" and env["PGPORT"] == "5433" and env["PGDATABASE"] == "ruta"
    assert env["PGSSLMODE"] == "require"
    assert os.environ.get("PGPASSWORD") != "s3cr@t"
