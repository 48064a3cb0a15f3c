"""Benchmarks at scale: the app under gunicorn on loopback, against the data of bench/generate.py.

    .venv/bin/python bench/run.py [--requests 200] [--workers 2] [--mixed-seconds 20]

For each endpoint: p50 and p95 of the server time (the app's Server-Timing header) and of the round trip,
then a mixed load on 2 workers for the throughput. In the same run, the ratios that do not depend on the
machine: each endpoint against the floor (/healthz), case detail with encryption against the same with the
null cipher, a request with the access log against one without, the dashboard against the raw SQL count it
wraps. Prints a Markdown table for bench/README.md and writes bench/out/results.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(sample, workers: int, **env_overrides):
    port = free_port()
    env = {**os.environ, "CASEAPP_INSTANCE_PATH": sample["instance"], "CASEAPP_CONFIG": "development", "CASEAPP_SERVER_TIMING": "1",
           "DATABASE_URL": sample["database_url"], **env_overrides}
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--error-logfile", str(OUT / "gunicorn.log"),
           "--chdir", str(ROOT), "wsgi:app"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("gunicorn did not start; see bench/out/gunicorn.log")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


class Client:
    """A keep-alive HTTP client that reads the Server-Timing header."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.headers = headers or {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, headers=None):
        h = {**self.headers, **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=h)
        resp = self.conn.getresponse()
        payload = resp.read()
        wall = (time.perf_counter() - started) * 1000
        timing = resp.getheader("Server-Timing", "app;dur=nan")
        server = float(timing.split("dur=")[1])
        if resp.status >= 400:
            raise RuntimeError(f"{method} {path} -> {resp.status}: {payload[:300]!r}")
        return server, wall, payload


def percentiles(values):
    values = sorted(values)
    return {"p50": round(statistics.median(values), 2),
            "p95": round(values[min(len(values) - 1, int(len(values) * 0.95))], 2),
            "n": len(values)}


def web_cookie(sample, username: str) -> str:
    """A signed session cookie for a fresh server-side session of `username` (the login flow is not benchmarked)."""
    os.environ["CASEAPP_INSTANCE_PATH"] = sample["instance"]
    os.environ["DATABASE_URL"] = sample["database_url"]
    import config
    from caseapp import create_app
    from caseapp.extensions import db
    from caseapp.models.accounts import User
    from caseapp.services.accounts import sessions

    app = create_app(config.load("development"))
    with app.test_request_context():
        user = db.session.get(User, sample["users"][username]["id"])
        token = sessions.start(user, "127.0.0.1")
        db.session.commit()
        value = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def raw_count_ms(sample, repeat: int = 20) -> float:
    """The raw SQL behind product 3.5's yearly figure, timed in process."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sample["database_url"])
    sql = text("SELECT count(DISTINCT c.victim_id) FROM cases c JOIN victims v ON v.id = c.victim_id "
               "WHERE v.sex = 'female' AND c.linked_on >= :a AND c.linked_on < :b")
    times = []
    with engine.connect() as conn:
        for _ in range(repeat):
            t = time.perf_counter()
            conn.execute(sql, {"a": date(2025, 1, 1), "b": date(2026, 1, 1)}).scalar()
            times.append((time.perf_counter() - t) * 1000)
    engine.dispose()
    return statistics.median(times)


def endpoints(sample, cookies):
    rnd = random.Random(7)
    docs = sample["documents"]

    def token(user):
        return {"Authorization": f"Bearer {sample['users'][user]['token']}"}

    def sw_for(entity):
        return f"sw_{entity.lower()}"

    def search():
        d = rnd.choice(docs)
        return ("POST", "/api/v1/cases/search", {"document_type": d["document_type"], "document_number": d["document_number"]},
                token(sw_for(d["entity"])))

    def case_list():
        return ("GET", "/cases/", None, {"Cookie": cookies["sw_ctg"]})

    def detail(pool="cases"):
        entity, cookie = ("BNUL", cookies["sw_bnul"]) if pool == "null_cases" else ("CTG", cookies["sw_ctg"])
        while True:
            c = rnd.choice(sample[pool])
            if c["entity"] == entity:
                return ("GET", f"/cases/{c['code']}", None, {"Cookie": cookie})

    def register():
        n = rnd.randint(10**9, 2 * 10**9)
        return ("POST", "/api/v1/cases", {
            "given_names": "Bench", "family_names": f"Persona {n}", "document_type": "CC", "document_number": str(n),
            "birth_date": "1990-01-01", "phone": f"3{n % 10**9:09d}", "sex": "female", "nationality": "CO",
            "identified_on": "2026-10-01", "identification_source": "coat", "exploitation_purposes": ["sexual_exploitation"],
            "trafficking_scope": "internal", "consent_assistance": True, "consent_method": "written",
            "victim_status": "victim"}, token("sw_ctg"))

    def dashboard():
        return ("GET", "/indicators/", None, {"Cookie": cookies["coord"]})

    def console():
        c = rnd.choice(sample["cases"])
        return ("GET", f"/audit/?case={c['code']}", None, {"Cookie": cookies["auditor"]})

    def floor():
        return ("GET", "/healthz", None, {})

    return {"floor (/healthz)": floor, "search by document": search, "case list page": case_list,
            "case detail": detail, "registration": register, "coordinator dashboard": dashboard,
            "auditor console by case code": console, "_detail_null": lambda: detail("null_cases")}


def measure(port, make, n):
    client = Client(port)
    server, wall = [], []
    for i in range(n + 10):
        method, path, body, headers = make()
        s, w, _ = client.call(method, path, body, headers)
        if i >= 10:  # warm-up
            server.append(s)
            wall.append(w)
    return {"server": percentiles(server), "wall": percentiles(wall)}


def mixed(port, eps, seconds, threads=4):
    names = [k for k in eps if not k.startswith("_") and k != "floor (/healthz)"]
    done, errors = [0], [0]
    stop = time.time() + seconds
    lock = threading.Lock()

    def worker(seed):
        rnd = random.Random(seed)
        client = Client(port)
        while time.time() < stop:
            method, path, body, headers = eps[rnd.choice(names)]()
            try:
                client.call(method, path, body, headers)
                with lock:
                    done[0] += 1
            except Exception:
                with lock:
                    errors[0] += 1
                client = Client(port)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return {"requests_per_s": round(done[0] / (time.time() - started), 1), "errors": errors[0], "threads": threads}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--mixed-seconds", type=int, default=20)
    args = p.parse_args(argv)
    sample = json.loads((OUT / "sample.json").read_text())
    cookies = {u: web_cookie(sample, u) for u in ("sw_ctg", "sw_bnul", "coord", "auditor")}
    eps = endpoints(sample, cookies)
    results = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
               "data": sample.get("figures"), "endpoints": {}, "ratios": {}}
    with gunicorn(sample, args.workers) as port:
        for name, make in eps.items():
            if name.startswith("_"):
                continue
            results["endpoints"][name] = measure(port, make, args.requests)
            print(name, results["endpoints"][name], flush=True)
        results["mixed"] = mixed(port, eps, args.mixed_seconds)
        print("mixed", results["mixed"], flush=True)
    with gunicorn(sample, args.workers, CASEAPP_CIPHER="null") as port:
        aes = measure(port, eps["case detail"], args.requests)["server"]["p50"]
        null = measure(port, eps["_detail_null"], args.requests)["server"]["p50"]
    with gunicorn(sample, args.workers, CASEAPP_AUDIT_DISABLED="1") as port:
        no_log = measure(port, eps["case detail"], args.requests)["server"]["p50"]
    floor = results["endpoints"]["floor (/healthz)"]["server"]["p50"]
    for name, r in results["endpoints"].items():
        results["ratios"][f"{name} / floor"] = round(r["server"]["p50"] / floor, 1)
    results["ratios"]["detail: encryption / null cipher"] = round(aes / null, 2)
    results["ratios"]["detail: access log / none"] = round(results["endpoints"]["case detail"]["server"]["p50"] / no_log, 2)
    raw = raw_count_ms(sample)
    results["ratios"]["dashboard / raw SQL count"] = round(
        results["endpoints"]["coordinator dashboard"]["server"]["p50"] / raw, 1)
    results["raw_sql_count_ms"] = round(raw, 2)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    print("\n| endpoint | server p50 ms | server p95 ms | round trip p95 ms | × floor |\n|---|---:|---:|---:|---:|")
    for name, r in results["endpoints"].items():
        print(f"| {name} | {r['server']['p50']} | {r['server']['p95']} | {r['wall']['p95']} | "
              f"{results['ratios'][f'{name} / floor']} |")
    print(f"\nmixed load, {args.workers} gunicorn workers, {results['mixed']['threads']} clients: "
          f"{results['mixed']['requests_per_s']} requests/s ({results['mixed']['errors']} errors)")
    for k, v in results["ratios"].items():
        if "floor" not in k:
            print(f"- {k}: {v}×")
    print(f"- raw SQL count behind the dashboard: {results['raw_sql_count_ms']} ms")


if __name__ == "__main__":
    main()
