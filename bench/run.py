"""Benchmarks at scale: the app under gunicorn on loopback, against the data of bench/generate.py.

    .venv/bin/python bench/run.py [--sample bench/out/sample.json] [--database-url URL] [--requests 200]
        [--workers 2] [--mixed-seconds 20] [--mixed-workers 1 2 4] [--only search,detail,console] [--appends]

First, when the dashboard is measured, the publications a reader may be shown are counted if missing or out of date
(cron's `flask stats publish --stale`), so that no background build runs inside the measured server. For each
endpoint: p50 and p95 of the server time (the app's Server-Timing header) and of the round trip, and its p50 as a
multiple of the floor (/healthz) measured in the same run. Then the mixed load (the endpoints in equal
shares, 4 clients) with 1, 2 and 4 gunicorn workers, each beside the floor's own mixed load (/healthz alone, the same
clients, the same workers): the share is the throughput the app keeps of what the server itself can answer. Then the
ratios that do not depend on the machine (encryption, access log, dashboard against its raw SQL count) and, with
--appends, the access log's appends per second (bench/audit_appends.py with the same database). Prints Markdown
tables and writes bench/out/results-sqlite.json or results-postgresql.json; bench/table.py puts the two side by side.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
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

from bench import payloads  # noqa: E402

# The rows: short name for --only, the label in the results, the goal as a multiple of the floor.
ENDPOINTS = {
    "floor": ("floor (/healthz)", None),
    "search": ("search by document", 8),
    "list": ("case list page", 15),
    "detail": ("case detail", 8),
    "registration": ("registration", 15),
    "dashboard": ("coordinator dashboard", 15),
    "console": ("auditor console by case code", 8),
}
MIXED_GOAL = 4  # the mixed load keeps at least 1/4 of the floor's own requests per second
CLIENTS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_command(port: int, workers: int) -> list[str]:
    # gunicorn also reads ./gunicorn.conf.py (production's: run.py starts it in the checkout); its worker recycling every ~2,000 requests would put
    # worker restarts inside the mixed loads, so it is switched off here. Its 4 threads a worker are set back to 1:
    # gunicorn runs a "sync" worker with more than one thread as gthread, and until stop 37 every run here did so.
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync", "--threads", "1",
            "--max-requests", "0", "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
            "--error-logfile", str(OUT / "gunicorn.log"), "--chdir", str(ROOT), "wsgi:app"]


@contextmanager
def gunicorn(sample, workers: int, **env_overrides):
    port = free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CASEAPP_INSTANCE_PATH": sample["instance"], "CASEAPP_CONFIG": "development", "CASEAPP_SERVER_TIMING": "1",
           "DATABASE_URL": sample["database_url"], **env_overrides}
    cmd = gunicorn_command(port, workers)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited; see bench/out/gunicorn.log")
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


def bench_app(sample):
    """The app in this process, on the sample's instance and database (its cookies, the publication step)."""
    os.environ["CASEAPP_INSTANCE_PATH"] = sample["instance"]
    os.environ["DATABASE_URL"] = sample["database_url"]
    import config
    from caseapp import create_app

    return create_app(config.load("development"))


def web_cookie(sample, username: str) -> str:
    """The session cookie a browser holds for `username` once signed in (browser_cookie)."""
    return browser_cookie(bench_app(sample), sample["users"][username]["id"])


# How this client (http.client) comes to the server: from 127.0.0.1, with no User-Agent header.
CLIENT_ENVIRON = {"REMOTE_ADDR": "127.0.0.1"}


def browser_cookie(app, user_id: int) -> str:
    """The session cookie of a browser signed in as the user, the browser being this benchmark's client (the login
    flow's two factors are not benchmarked): a server-side session, and the cookie's session as the sign-in itself
    leaves it for this client (web.auth's `_sign_in`), then sent with one page, whose answer the browser keeps (the
    CSRF token that the pages' forms sign). The cookie first signed here, sent with every request, used to make every page add
    a token and sign and set the cookie again (about 5 % of the mixed load's CPU), which no browser that keeps its
    cookies does; and it lacked the sign-in's client identifier, so Flask-Login's protection tripped at every
    request."""
    from flask import session

    from caseapp.extensions import db
    from caseapp.models.accounts import User
    from caseapp.services.accounts import sessions
    from caseapp.web.auth.routes import _sign_in

    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context(environ_base=CLIENT_ENVIRON):
        user = db.session.get(User, user_id)
        sessions.start(user, CLIENT_ENVIRON["REMOTE_ADDR"])
        db.session.commit()
        _sign_in(user, {})
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    browser = app.test_client()
    browser.environ_base = dict(CLIENT_ENVIRON)
    browser.set_cookie(name, value)
    if browser.get("/").status_code != 200 or browser.get_cookie(name) is None:
        raise RuntimeError("a benchmark user's session cookie does not open the home page")
    return f"{name}={browser.get_cookie(name).value}"


def publish_stale_in(app) -> list[str]:
    """Count the publications a reader may be shown that are missing or out of date (every year, the dashboard's
    plan years included), as cron's `flask stats publish --stale` does in production, before any server starts. A
    missing one would otherwise be counted by a background build inside the measured workers (minutes of CPU at this
    scale, on the GIL every request needs), and never stored, since each phase stops its server: every run would
    measure the build. Returns the figures of those it counted, one JSON line each."""
    from caseapp.cli.stats import publish_all

    counted: list[str] = []
    with app.app_context():
        publish_all(None, stale=True, echo=counted.append)
    return counted


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
        return ("POST", "/api/v1/cases", payloads.registration(rnd), token("sw_ctg"))

    def dashboard():
        return ("GET", "/indicators/", None, {"Cookie": cookies["coord"]})

    def console():
        c = rnd.choice(sample["cases"])
        return ("GET", f"/audit/?case={c['code']}", None, {"Cookie": cookies["auditor"]})

    def floor():
        return ("GET", "/healthz", None, {})

    return {"floor": floor, "search": search, "list": case_list, "detail": detail, "registration": register,
            "dashboard": dashboard, "console": console, "_detail_null": lambda: detail("null_cases")}


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


def mixed(port, makers, seconds, threads=CLIENTS):
    """Requests per second of `threads` keep-alive clients each sending requests drawn from `makers` for `seconds`."""
    done, errors = [0], [0]
    stop = time.time() + seconds
    lock = threading.Lock()

    def worker(seed):
        rnd = random.Random(seed)
        client = Client(port)
        while time.time() < stop:
            method, path, body, headers = rnd.choice(makers)()
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


def mixed_pair(port, eps, chosen, seconds) -> dict:
    """The mixed load of the chosen endpoints and, on the same server and clients, the floor's own."""
    load = mixed(port, [eps[k] for k in chosen if k != "floor"], seconds)
    floor = mixed(port, [eps["floor"]], seconds)
    share = load["requests_per_s"] / floor["requests_per_s"] if floor["requests_per_s"] else 0.0
    return {"mixed": load, "floor": floor, "share": round(share, 4),
            "one_in": round(1 / share, 1) if share else None, "goal_met": share >= 1 / MIXED_GOAL}


def appends_per_second(url: str, instance: str, seconds: int) -> dict:
    """Engineer A's bench/audit_appends.py on the same database, as a subprocess; skipped when it is not there."""
    script = ROOT / "bench" / "audit_appends.py"
    if not script.exists():
        return {"skipped": "bench/audit_appends.py does not exist in this checkout"}
    env = {**os.environ, "DATABASE_URL": url, "CASEAPP_INSTANCE_PATH": instance}
    cmd = [sys.executable, str(script), "--database-url", url, "--writers", "1", "4", "16", "--seconds", str(seconds)]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)  # noqa: S603
    out = {"exit_code": done.returncode, "output": done.stdout.strip()[-4000:]}
    if done.returncode:
        out["error"] = done.stderr.strip()[-2000:]
        return out
    figures = parse_appends(done.stdout)
    if figures is not None:
        out["figures"] = figures
    return out


def parse_appends(stdout: str):
    """Appends per second from bench/audit_appends.py's output: JSON (the whole output or its last JSON line), or
    plain lines such as "4 writers: 1234.5 appends/s" ({writers: appends per second}); None when neither."""
    for text in (stdout, *reversed(stdout.strip().splitlines())):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, (dict, list)):
            return value
    # bench/audit_appends.py's table: | writers | appends | appends/s | seal after (s) | chain |
    found = re.findall(r"^\|\s*(\d+)\s*\|\s*\d+\s*\|\s*([\d,]+(?:\.\d+)?)\s*\|", stdout, flags=re.M)
    found = found or re.findall(r"(\d+)\s*writers?\D*?([\d,]+(?:\.\d+)?)\s*(?:appends|/s)", stdout)
    return {w: float(v.replace(",", "")) for w, v in found} or None


def dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else url.split(":", 1)[0].split("+", 1)[0]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sample", type=Path, default=OUT / "sample.json", help="what bench/generate.py wrote")
    p.add_argument("--database-url", help="the database of that sample (default: the URL the sample names)")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers for the per-endpoint figures")
    p.add_argument("--mixed-seconds", type=int, default=20, help="per mixed measurement; 0 skips the mixed load")
    p.add_argument("--mixed-workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--only", help="a subset of endpoints, e.g. search,detail,console (the floor is always measured)")
    p.add_argument("--no-ratios", action="store_true", help="skip the null-cipher, no-log and raw-SQL ratios")
    p.add_argument("--appends", action="store_true", help="also the access log's appends per second")
    p.add_argument("--appends-seconds", type=int, default=10)
    p.add_argument("--results", type=Path, help="default bench/out/results-<database>.json")
    args = p.parse_args(argv)
    chosen = list(ENDPOINTS) if not args.only else ["floor", *[n.strip() for n in args.only.split(",") if n.strip()]]
    unknown = [n for n in chosen if n not in ENDPOINTS]
    if unknown:
        p.error(f"unknown endpoint(s) {', '.join(unknown)}; choose from {', '.join(ENDPOINTS)}")
    args.chosen = list(dict.fromkeys(chosen))
    return args


def run(args) -> dict:
    sample = json.loads(args.sample.read_text())
    if args.database_url:
        sample["database_url"] = args.database_url
    from sqlalchemy.engine import make_url

    url = sample["database_url"]
    if "dashboard" in args.chosen:  # the one page that reads the publications
        for line in publish_stale_in(bench_app(sample)):
            print("published before the run:", line, flush=True)
    cookies = {u: web_cookie(sample, u) for u in ("sw_ctg", "sw_bnul", "coord", "auditor")}
    eps = endpoints(sample, cookies)
    results = {"database": dialect(url), "database_url": make_url(url).render_as_string(hide_password=True),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
               "run": {"requests": args.requests, "workers": args.workers, "mixed_seconds": args.mixed_seconds,
                       "clients": CLIENTS, "endpoints": args.chosen, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
               "data": sample.get("figures"), "endpoints": {}, "ratios": {}, "mixed": {}}
    with gunicorn(sample, args.workers) as port:
        for key in args.chosen:
            name = ENDPOINTS[key][0]
            try:
                results["endpoints"][name] = measure(port, eps[key], args.requests)
            except RuntimeError as error:  # an endpoint that fails is reported, and the run goes on
                results["endpoints"][name] = {"error": str(error)[:300]}
            print(name, results["endpoints"][name], flush=True)
        if args.mixed_seconds and args.workers in args.mixed_workers:
            results["mixed"][str(args.workers)] = mixed_pair(port, eps, args.chosen, args.mixed_seconds)
    floor = results["endpoints"]["floor (/healthz)"]["server"]["p50"]
    for name, r in results["endpoints"].items():
        if "server" in r:
            results["ratios"][f"{name} / floor"] = round(r["server"]["p50"] / floor, 1)
    for workers in args.mixed_workers if args.mixed_seconds else []:
        if str(workers) not in results["mixed"]:
            with gunicorn(sample, workers) as port:
                results["mixed"][str(workers)] = mixed_pair(port, eps, args.chosen, args.mixed_seconds)
        print(f"mixed, {workers} workers", results["mixed"][str(workers)], flush=True)
    if not args.no_ratios and "server" in results["endpoints"].get("case detail", {}):
        if sample.get("null_cases"):  # a small data set may have no null-cipher slice
            with gunicorn(sample, args.workers, CASEAPP_CIPHER="null") as port:
                aes = measure(port, eps["detail"], args.requests)["server"]["p50"]
                null = measure(port, eps["_detail_null"], args.requests)["server"]["p50"]
            results["ratios"]["detail: encryption / null cipher"] = round(aes / null, 2)
        with gunicorn(sample, args.workers, CASEAPP_AUDIT_DISABLED="1") as port:
            no_log = measure(port, eps["detail"], args.requests)["server"]["p50"]
        results["ratios"]["detail: access log / none"] = round(results["endpoints"]["case detail"]["server"]["p50"] / no_log, 2)
    if not args.no_ratios and "server" in results["endpoints"].get("coordinator dashboard", {}):
        raw = raw_count_ms(sample)
        results["ratios"]["dashboard / raw SQL count"] = round(
            results["endpoints"]["coordinator dashboard"]["server"]["p50"] / raw, 1)
        results["raw_sql_count_ms"] = round(raw, 2)
    if args.appends:
        results["appends"] = appends_per_second(url, sample["instance"], args.appends_seconds)
        print("appends", results["appends"], flush=True)
    return results


def report(results) -> str:
    """The run as Markdown, for bench/README.md."""
    goals = {label: goal for label, goal in ENDPOINTS.values()}
    lines = [f"{results['database']}, {results['run']['workers']} sync workers, {results['run']['requests']} requests "
             "per endpoint", "",
             "| endpoint | server p50 ms | server p95 ms | round trip p95 ms | × floor | goal |",
             "|---|---:|---:|---:|---:|---|"]
    for name, r in results["endpoints"].items():
        if "error" in r:
            lines.append(f"| {name} | | | | | **failed**: {r['error'][:80]} |")
            continue
        ratio, goal = results["ratios"][f"{name} / floor"], goals.get(name)
        verdict = "" if goal is None else f"≤ {goal}: {'met' if ratio <= goal else '**missed**'}"
        lines.append(f"| {name} | {r['server']['p50']} | {r['server']['p95']} | {r['wall']['p95']} | {ratio} | {verdict} |")
    if results["mixed"]:
        lines += ["", f"| mixed load, {results['run']['clients']} clients | requests/s | floor's own requests/s | share | "
                  f"goal (≥ 1/{MIXED_GOAL}) |", "|---|---:|---:|---:|---|"]
        for workers, m in sorted(results["mixed"].items(), key=lambda kv: int(kv[0])):
            lines.append(f"| {workers} worker{'s' if workers != '1' else ''} | {m['mixed']['requests_per_s']} "
                         f"({m['mixed']['errors']} errors) | {m['floor']['requests_per_s']} | 1/{m['one_in']} | "
                         f"{'met' if m['goal_met'] else '**missed**'} |")
    others = {k: v for k, v in results["ratios"].items() if "floor" not in k}
    if others:
        lines.append("")
        lines += [f"- {k}: {v}×" for k, v in others.items()]
    if "raw_sql_count_ms" in results:
        lines.append(f"- raw SQL count behind the dashboard: {results['raw_sql_count_ms']} ms")
    if "appends" in results:
        a = results["appends"]
        lines.append(f"- access-log appends per second: {a.get('figures') or a.get('skipped') or a.get('error')}")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    path = args.results or OUT / f"results-{results['database']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    print("\n" + report(results))
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
