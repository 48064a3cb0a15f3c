"""Several app servers on one PostgreSQL: two gunicorn instances (2 workers of 4 threads each: the production configuration,
one shared instance folder with the keyring and the secret key) take interleaved registrations, edits, referrals,
steps and reads from several threads at once. Afterwards the access-log chain verifies (also against an anchor
taken half-way), every accepted edit is there and no stale one was applied, every case, step and referral exists
exactly once (the same registration sent to both servers at once makes one case), and sign-in failures on one server
slow the next sign-in on the other (the throttle lives in the database).

Always PostgreSQL: on the suite's PostgreSQL pass the test's own database; on the SQLite pass a throwaway cluster
started here with scripts/pg_cluster.sh (as .ci/run does), so the test runs, never skips, on both passes of CI.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

import config
from caseapp import create_app
from caseapp.extensions import db
from tests.conftest import PG_URL, _drop_database, _migrate
from tests.world import new_api_token

ROOT = Path(config.ROOT)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
WAIT = re.compile(r"Espere (\d+) segundos")
CASES = 12  # registered by 4 threads, besides the double submits
DOUBLE_SUBMITS = 4


# --- a PostgreSQL server on both passes of the suite ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def throwaway_postgresql():
    """A PostgreSQL cluster for this module alone, when the suite itself runs on SQLite."""
    if not any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which("initdb"):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing: .ci/run installs Debian's postgresql package")
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    folder = tempfile.mkdtemp(prefix="ruta-multi-pg-")  # under /tmp: the cluster's owner must reach it
    script = ROOT / "scripts" / "pg_cluster.sh"
    started = subprocess.run([str(script), "start", folder], env={**os.environ, "PGPORT": str(_free_port())},  # noqa: S603
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(script), "stop", folder], capture_output=True, timeout=120)  # noqa: S603
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(database_url, request, instance_path):
    """The test's database, always on PostgreSQL: the suite's own on its PostgreSQL pass, otherwise a new database
    in the throwaway cluster (overrides the suite's fixture, whose SQLite copy is then left unused)."""
    if PG_URL:
        yield database_url
        return
    server = request.getfixturevalue("throwaway_postgresql")
    name = f"ruta_multi_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    _migrate(create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=url)))
    yield url
    with admin.connect() as conn:
        _drop_database(conn, name)
    admin.dispose()


# --- two servers ----------------------------------------------------------------------------------------------


class Server:
    """gunicorn with the production configuration (gthread: 4 requests at once a worker), in its own process group."""

    def __init__(self, instance: Path, database_url: str, log: Path):
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASEAPP_", "RUTA_", "SECRET_KEY"))}
        env.update(CASEAPP_CONFIG="production", CASEAPP_INSTANCE_PATH=str(instance), DATABASE_URL=database_url,
                   RUTA_BIND=f"127.0.0.1:{self.port}", RUTA_PROXY_HOPS="0", CASEAPP_LOG_LEVEL="warning")
        self.log = log
        self.proc = subprocess.Popen(  # noqa: S603 - the test's own interpreter and config
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--workers", "2", "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited early:\n{self.log.read_text(errors='replace')[-3000:]}"
            try:
                if call(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("server did not become healthy")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def call(port: int, method: str, path: str, *, json_body=None, form=None, headers=None, cookies=None):
    """One HTTP request; returns (status, headers, body text). Cookies by hand: production marks them Secure."""
    h = dict(headers or {})
    body = None
    if json_body is not None:
        body, h["Content-Type"] = json.dumps(json_body), "application/json"
    elif form is not None:
        body, h["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        text_ = resp.read().decode(errors="replace")
        if cookies is not None:
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        cookies[morsel.key] = morsel.value
        return resp.status, resp, text_
    finally:
        conn.close()


class Api:
    def __init__(self, token: str):
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, port, method, path, body=None, **headers):
        status, _resp, text_ = call(port, method, "/api/v1" + path, json_body=body, headers={**self.headers, **headers})
        return status, (json.loads(text_) if text_.strip().startswith(("{", "[")) else text_)


def login_password(port: int, username: str, password: str, cookies: dict) -> tuple[int, str]:
    """The password step of the web sign-in; (status, page or redirect target)."""
    status, _r, page = call(port, "GET", "/auth/login", cookies=cookies)
    assert status == 200, page[:300]
    m = CSRF.search(page)
    token = m.group(1) or m.group(2)
    status, resp, page = call(port, "POST", "/auth/login", cookies=cookies,
                              form={"csrf_token": token, "username": username, "password": password})
    return status, resp.getheader("Location") if status == 302 else page


def registration(n: int) -> dict:
    return {"given_names": f"Persona{n}", "family_names": "Multi Servidor", "document_type": "CC",
            "document_number": f"7{n:08d}", "sex": "female", "identified_on": "2025-03-10",
            "identification_source": "coat", "trafficking_scope": "internal",
            "exploitation_purposes": ["sexual_exploitation"], "consent_assistance": True,
            "consent_data_processing": True, "consent_method": "written"}


# --- the test -------------------------------------------------------------------------------------------------


@pytest.mark.real_clock
def test_two_servers_on_one_postgresql(app, factory, runner, instance_path, database_url, tmp_path):
    assert database_url.startswith("postgresql")
    factory.entity("SDIS")
    factory.entity("OIM", kind="international")
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    bea = factory.user("bea", roles=("social_worker",), entity="SDIS")
    oli = factory.user("oli", roles=("social_worker",), entity="OIM")
    tina = factory.user("tina", roles=("social_worker",), entity="SDIS")
    una = factory.user("una", roles=("social_worker",), entity="SDIS")
    with app.app_context():
        sw = {u.username: Api(new_api_token(u.id)) for u in (ana, bea, oli)}
        db.session.remove()
        db.engine.dispose()
    assert (instance_path / "secret_key").exists()  # the shared instance: secret key and keyring for both servers

    servers = [Server(instance_path, database_url, tmp_path / f"server{i}.log") for i in (1, 2)]
    try:
        for s in servers:
            s.wait_healthy()
        one, two = (s.port for s in servers)
        _workload(app, runner, sw, one, two, instance_path)
        _throttle_is_shared(one, two, tina, una)
    finally:
        for s in servers:
            s.stop()
    for s in servers:
        log = s.log.read_text(errors="replace")
        assert "Traceback" not in log and '"level": "error"' not in log.lower(), log[-3000:]


def _workload(app, runner, sw, one, two, instance_path):
    ports = (one, two)
    ana, bea, oli = sw["ana"], sw["bea"], sw["oli"]

    # Registrations from 4 threads, alternating servers; and the same request (same Idempotency-Key) sent to both
    # servers at once, as a double click behind a load balancer would.
    def register(n):
        status, body = (ana if n % 2 else bea)(ports[n % 2], "POST", "/cases", registration(n))
        assert status == 201, body
        return body["code"]

    def double_submit(n):
        key = f"double-{n}-{uuid.uuid4().hex}"
        barrier = threading.Barrier(2)

        def send(port):
            barrier.wait()
            return ana(port, "POST", "/cases", registration(1000 + n), **{"Idempotency-Key": key})

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(send, ports))
        assert sorted(s for s, _ in answers) == [200, 201], answers
        assert answers[0][1]["code"] == answers[1][1]["code"], answers
        return answers[0][1]["code"]

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(register, range(CASES)))
        doubles = list(pool.map(double_submit, range(DOUBLE_SUBMITS)))
    assert len(set(codes + doubles)) == CASES + DOUBLE_SUBMITS
    anchor = runner.invoke(args=["audit", "anchor", "--to", str(instance_path / "anchors")])
    assert anchor.exit_code == 0, anchor.output
    anchor_file = next((instance_path / "anchors").iterdir())

    # Per case, interleaved over both servers and 4 threads: a consent, a race of two edits from the same copy, a
    # fresh edit, a stale edit, two steps, a referral answered twice at once, and reads.
    def work(i_code):
        i, code = i_code
        a, b = ports[i % 2], ports[(i + 1) % 2]
        out = {"code": code}
        status, body = ana(a, "POST", f"/cases/{code}/consents", {"kind": "sharing", "entity": "OIM"})
        assert status == 201, body
        version = ana(b, "GET", f"/cases/{code}")[1]["version"]
        barrier = threading.Barrier(2)

        def edit(port_value):
            port, value = port_value
            barrier.wait()
            return ana(port, "PATCH", f"/cases/{code}", {"version": version, "address": value})

        with ThreadPoolExecutor(2) as pool:
            race = list(pool.map(edit, [(a, f"Calle {i} primera"), (b, f"Calle {i} segunda")]))
        statuses = sorted(s for s, _ in race)
        assert statuses == [200, 409], race
        loser = next(body for s, body in race if s == 409)
        assert loser["rule"] == "stale_version", loser
        winner = next(body for s, body in race if s == 200)
        out["address"] = winner["identity"]["address"]
        status, body = bea(b, "PATCH", f"/cases/{code}", {"version": winner["version"], "phone": f"310{i:07d}"})
        assert status == 200, body
        out["phone"] = f"310{i:07d}"
        status, body = ana(a, "PATCH", f"/cases/{code}", {"version": version, "address": "Direccion vieja"})
        assert status == 409 and body["rule"] == "stale_version", body
        out["steps"] = []
        for port, kind, day in ((a, "reception", "2025-03-11"), (b, "accompaniment", "2025-03-12")):
            status, body = (ana if port == a else bea)(port, "POST", f"/cases/{code}/steps",
                                                     {"kind": kind, "status": "done", "done_on": day})
            assert status == 201, body
            out["steps"].append(body["id"])
        # the same step sent to both servers at once with one Idempotency-Key: written once, the other told so
        step_key, barrier3 = f"step-{i}-{uuid.uuid4().hex}", threading.Barrier(2)

        def step_twice(port):
            barrier3.wait()
            return ana(port, "POST", f"/cases/{code}/steps", {"kind": "transport", "status": "done",
                                                              "done_on": "2025-03-12"}, **{"Idempotency-Key": step_key})

        with ThreadPoolExecutor(2) as pool:
            both = list(pool.map(step_twice, (a, b)))
        assert sorted(s for s, _ in both) == [201, 409], both
        assert next(body for s, body in both if s == 409)["rule"] == "already_submitted", both
        out["steps"].append(next(body for s, body in both if s == 201)["id"])
        status, body = ana(b, "POST", "/referrals", {
            "case": code, "to_entity": "OIM", "service": "psychological_assessment", "reason": "Valoración",
            "sections": ["summary", "psychosocial"]})
        assert status == 201, body
        rid = out["referral"] = body["id"]
        rversion = oli(a, "GET", f"/referrals/{rid}")[1]["version"]
        barrier2 = threading.Barrier(2)

        def accept(port):
            barrier2.wait()
            return oli(port, "POST", f"/referrals/{rid}/accept", {"version": rversion})

        with ThreadPoolExecutor(2) as pool:
            answers = sorted(s for s, _ in pool.map(accept, ports))
        assert answers == [200, 409], answers
        for port in ports:  # reads on both servers see the same case
            status, body = ana(port, "GET", f"/cases/{code}")
            assert status == 200 and body["identity"]["address"] == out["address"], body
            assert body["identity"]["phone"] == out["phone"], body
            status, steps = oli(port, "GET", f"/cases/{code}/steps")
            assert status == 200 and sorted(s["id"] for s in steps) == sorted(out["steps"]), steps
        status, found = bea(a, "POST", "/cases/search", {"document_type": "CC", "document_number": f"7{i:08d}"})
        assert status == 200 and code in [c["code"] for c in found["items"]], found
        return out

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(work, enumerate(codes)))

    # What the database holds afterwards, read the way a restarted server would.
    verified = runner.invoke(args=["audit", "verify", "--anchor", str(anchor_file)])
    assert verified.exit_code == 0, verified.output
    from caseapp.models.audit import AuditEvent
    from caseapp.models.cases import Case
    from caseapp.models.referrals import Referral
    from caseapp.models.route import AssistanceStep
    from caseapp.models.victims import Victim

    with app.app_context():
        all_codes = Counter(db.session.scalars(select(Case.code)))
        assert all_codes == Counter(codes + doubles), "a case is missing or was made twice"
        assert db.session.scalar(select(func.count()).select_from(Victim)) == len(all_codes)
        created = Counter(db.session.scalars(select(AuditEvent.object_ref).where(AuditEvent.action == "case.create")))
        assert created == all_codes, "each registration has exactly one access-log row"
        steps = sorted(db.session.scalars(select(AssistanceStep.id)))
        assert steps == sorted(s for d in done for s in d["steps"]), "a step is missing or was made twice"
        referrals = {r.id: r.status for r in db.session.scalars(select(Referral).where(Referral.mandatory.is_(False)))}
        assert referrals == {d["referral"]: "accepted" for d in done}
        for d in done:
            case = db.session.scalar(select(Case).where(Case.code == d["code"]))
            assert case.victim.address == d["address"], "the winning edit was lost"
            assert case.victim.phone == d["phone"], "a fresh edit was lost"
        db.session.remove()
        db.engine.dispose()


def _throttle_is_shared(one, two, tina, una):
    """Wrong passwords on server 1 make server 2 refuse the right one for a while (throttle.py, in the database)."""
    cookies: dict = {}
    wait = 0
    while wait < 8:  # fail until the delay leaves a safe margin on a slow machine
        status, page = login_password(one, tina.username, "wrong password " + "x" * 8, cookies)
        assert status == 200, page
        found = WAIT.search(page)
        wait = int(found.group(1)) if found else 0
        if found and wait < 8:
            time.sleep(wait + 0.2)  # a refusal while waiting counts nothing: wait it out, then fail again
    started = time.monotonic()
    status, page = login_password(two, tina.username, tina.password, {})
    assert time.monotonic() - started < wait - 1, "too slow to tell"
    assert status == 200 and WAIT.search(page), "server 2 let her in: the throttle is not shared"
    # Another account from the same place goes through on server 2, and its half-done sign-in finishes on server 1.
    cookies = {}
    status, target = login_password(two, una.username, una.password, cookies)
    assert status == 302 and target.endswith("/auth/verify"), target
    status, _r, page = call(one, "GET", "/auth/verify", cookies=cookies)
    m = CSRF.search(page)
    status, resp, page = call(one, "POST", "/auth/verify", cookies=cookies,
                              form={"csrf_token": m.group(1) or m.group(2), "code": una.totp()})
    assert status == 302, page[:500]
    status, _r, page = call(two, "GET", "/cases/", cookies=cookies)
    assert status == 200 and "SDIS-2025-" in page
