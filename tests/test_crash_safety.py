"""Crash safety: SIGKILL the real server (gunicorn, production config) in the middle of registrations.

Afterwards the database must be consistent: SQLite's integrity check passes, every registration the server
acknowledged is there, no case is half-written (each has its victim, her data key and its access-log row), and
the access-log hash chain is intact.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import config
from caseapp import audit, create_app
from caseapp.extensions import db

ROOT = Path(config.ROOT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{proc.stderr.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:  # noqa: S310 - loopback test server
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def _payload(n: int) -> dict:
    return {
        "given_names": f"Persona{n}",
        "family_names": "Prueba Sintética",
        "document_type": "CC",
        "document_number": f"9{n:08d}",
        "sex": "female",
        "identified_on": "2025-03-10",
        "identification_source": "coat",
        "trafficking_scope": "internal",
        "exploitation_purposes": ["sexual_exploitation"],
        "consent_assistance": True,
        "consent_data_processing": True,
        "consent_method": "written",
        "confirm_duplicate": True,
    }


def _post(base: str, token: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(  # noqa: S310 - loopback test server
        base + "/api/v1/cases", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as r:  # noqa: S310 - loopback test server
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.real_clock
def test_sigkill_during_registrations_leaves_a_consistent_database(app, factory, runner, instance_path, database_url):
    factory.user("crash", roles=("social_worker",), entity="SDIS")
    assert runner.invoke(args=["keys", "init"]).exit_code == 0
    result = runner.invoke(args=["users", "token", "crash"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASEAPP_", "RUTA_"))}
    env.update(
        CASEAPP_CONFIG="production", CASEAPP_INSTANCE_PATH=str(instance_path), DATABASE_URL=database_url,
        SECRET_KEY="crash-safety-" + "s" * 40, RUTA_BIND=f"127.0.0.1:{port}", RUTA_WORKERS="2", RUTA_THREADS="4",
        RUTA_PROXY_HOPS="0", CASEAPP_LOG_LEVEL="warning",
    )
    server = subprocess.Popen(  # noqa: S603 - the test's own interpreter and config
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    acknowledged: list[str] = []
    interrupted: list[int] = []
    failures: list[tuple[int, dict]] = []
    stop = threading.Event()
    counter = iter(range(1, 100000))
    lock = threading.Lock()

    def register():
        while not stop.is_set():
            with lock:
                n = next(counter)
            try:
                status, body = _post(base, token, _payload(n))
            except (OSError, http.client.HTTPException):  # a reset, or an answer cut short (IncompleteRead)
                interrupted.append(n)  # the server died under us: that is the point
                return
            if status == 201:
                with lock:
                    acknowledged.append(body["code"])
            elif not stop.is_set():
                failures.append((status, body))
                return

    try:
        _wait_healthy(base, server)
        threads = [threading.Thread(target=register, daemon=True) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 25 and time.monotonic() < deadline and not failures:
            time.sleep(0.01)
        os.killpg(server.pid, signal.SIGKILL)  # master and workers, mid-request
        server.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    assert not failures, f"registrations were refused before the crash: {failures[:3]}"
    assert len(acknowledged) >= 25, "the server was killed before it acknowledged enough registrations"
    assert interrupted, "no registration was in flight when the server was killed"

    if database_url.startswith("sqlite"):
        import sqlite3

        path = database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()

    # Reopen the database the way a restarted server would.
    os.environ["CASEAPP_INSTANCE_PATH"] = str(instance_path)
    reopened = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=database_url))
    from caseapp.models.audit import AuditEvent
    from caseapp.models.cases import Case
    from caseapp.models.keys import DataKey
    from caseapp.models.victims import Victim

    with reopened.app_context():
        # A row appended by a request killed after its commit but before its seal waits in the queue (PostgreSQL
        # seals after the commit): the next sealer - any request's commit, the console, cron - seals it.
        audit.seal_all()
        codes = set(db.session.scalars(select(Case.code)))
        assert set(acknowledged) <= codes, "an acknowledged registration was lost"
        orphans = db.session.scalar(
            select(func.count()).select_from(Case).outerjoin(Victim, Case.victim_id == Victim.id)
            .where(Victim.id.is_(None))
        )
        assert orphans == 0
        for case in db.session.scalars(select(Case)):
            assert case.victim is not None
            key = db.session.get(DataKey, case.victim.data_key_id)
            assert key is not None and key.wrapped is not None, f"case {case.code} has no usable data key"
            assert case.victim.given_names.startswith("Persona"), "identity must decrypt with its data key"
            logged = db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.object_ref == case.code)
            )
            assert logged >= 1, f"case {case.code} has no access-log row"
        dangling_victims = db.session.scalar(
            select(func.count()).select_from(Victim).where(~Victim.id.in_(select(Case.victim_id)))
        )
        assert dangling_victims == 0, "a victim without her case was left behind"
        result = audit.verify()
        assert result.ok, f"access-log chain broken at {result.broken_seq}: {result.problem}"
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _restore_instance_env(monkeypatch):
    # The test points CASEAPP_INSTANCE_PATH at its instance for the reopened app; monkeypatch puts it back.
    monkeypatch.setenv("CASEAPP_INSTANCE_PATH", os.environ.get("CASEAPP_INSTANCE_PATH", ""))
