"""In-process cost of the main pages on a benchmark database: SQL statements and server time per request.

Not a test. Run against a copy of a generated database (it adds sessions and API tokens, and writes log rows and
registered cases), once `flask stats publish` has counted this year's and last year's publications (as cron does:
otherwise the coordinator's dashboard starts a background build in this process, which pages.py waits out):

    CASEAPP_INSTANCE_PATH=/tmp/b DATABASE_URL=sqlite:////tmp/b/ruta.sqlite3 CASEAPP_CONFIG=development \\
        .venv/bin/python bench/pages.py [--repeat 30] [--profile "case list page"] [--skip "dashboard last year"]

Each page is timed through Flask's test client (no network), and reported with `/healthz` measured the same way,
so the multiple of the floor is comparable with bench/run.py's. Issue 13's pages (bench/casework_pages.py) are
added when bench/generate_casework.py has run on the database.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import threading
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import bindparam, event, func, select  # noqa: E402

import config  # noqa: E402
from bench import casework_pages as casework  # noqa: E402
from bench import payloads  # noqa: E402
from caseapp import create_app, crypto, worker  # noqa: E402
from caseapp.extensions import db  # noqa: E402
from caseapp.models.accounts import (  # noqa: E402
    ApiToken,
    Entity,  # noqa: E402
    User,
)
from caseapp.models.audit import AuditEvent  # noqa: E402
from caseapp.models.cases import Case  # noqa: E402
from caseapp.services.accounts import sessions  # noqa: E402
from caseapp.timeutil import today  # noqa: E402

# Signed in for the pages (those generate_casework.py adds are skipped on an older database).
NAMED = ("sw_ctg", "coord", "auditor", "lawyer_ctg", "sw_oim")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", help="profile this page instead of timing all of them")
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument("--skip", help="comma-separated page names to leave out")
    parser.add_argument("--sql", action="store_true", help="print each page's statements")
    parser.add_argument("--grep", help="with --profile: only functions whose path matches this")
    args = parser.parse_args()

    app = create_app(config.load(os.environ.get("CASEAPP_CONFIG", "development")))
    with app.test_request_context():
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(NAMED)))}
        cookies, tokens = {}, {}
        for name in NAMED:
            if name not in users:  # a database generate_casework.py has not run on: only the older pages
                continue
            cookies[name] = sessions.start(users[name], "127.0.0.1")
            raw = crypto.new_token()
            db.session.add(ApiToken(user_id=users[name].id, token_hash=crypto.hash_token(raw),
                                    created_at=datetime(2026, 11, 1), expires_at=datetime(2099, 1, 1)))
            tokens[name] = raw
        ctg = db.session.scalar(select(Entity.id).where(Entity.code == "CTG"))
        codes = list(db.session.scalars(select(Case.code).where(Case.owner_entity_id == ctg).limit(2000)))
        # The console by case code: cases whose log fills a page, as bench/run.py's sample's cases do (drawing 50
        # rows is most of that page; a case with a few rows measured a lighter page than the run's).
        logged = select(func.count()).select_from(AuditEvent).where(AuditEvent.object_ref == bindparam("code"))
        full_page = [c for c in codes[:400] if db.session.scalar(logged, {"code": c}) >= app.config["PAGE_SIZE"]]
        work = casework.cases_for(users, ctg) if "sw_oim" in users else None
        db.session.commit()
    docs = _documents(app, codes[:200])
    rnd = random.Random(7)
    clients = {None: app.test_client()}
    for name, token in cookies.items():
        clients[name] = app.test_client()
        with clients[name].session_transaction() as s:
            s["_user_id"], s["_fresh"] = token, True

    worker.settle()  # as gunicorn's post_worker_init does: the loaded app out of the cyclic collector

    def web(user):
        return {"user": user}

    def bearer(user):
        return {"Authorization": f"Bearer {tokens[user]}"}

    api = bearer("sw_ctg")

    def register():
        return ("POST", "/api/v1/cases", payloads.registration(rnd), api)

    pages = {
        "floor (/healthz)": lambda: ("GET", "/healthz", None, {}),
        "search by document": lambda: ("POST", "/api/v1/cases/search", rnd.choice(docs), api),
        "case list page": lambda: ("GET", "/cases/", None, web("sw_ctg")),
        "API case list": lambda: ("GET", "/api/v1/cases", None, api),
        "case detail": lambda: ("GET", f"/cases/{rnd.choice(codes)}", None, web("sw_ctg")),
        "API case detail": lambda: ("GET", f"/api/v1/cases/{rnd.choice(codes)}", None, api),
        "registration": register,
        "coordinator dashboard": lambda: ("GET", "/indicators/", None, web("coord")),
        "dashboard last year": lambda: ("GET", f"/indicators/?year={today().year - 1}", None, web("coord")),
        "auditor console by case code": lambda: ("GET", f"/audit/?case={rnd.choice(full_page or codes)}", None,
                                                 web("auditor")),
    }
    if work is not None:  # issue 13's pages (bench/casework_pages.py)
        pages.update(casework.pages(work, rnd, web, bearer))
    if args.only:
        pages = {k: v for k, v in pages.items() if k in args.only.split(",") or k.startswith("floor")}
    if args.skip:
        pages = {k: v for k, v in pages.items() if k not in args.skip.split(",")}
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _k, s, *_a: statements.append(s))

    def call(make):
        method, path, body, headers = make()
        client = clients[headers.pop("user", None)]
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.status_code, response.get_data(as_text=True)[:300])

    if args.profile:
        for _ in range(3):
            call(pages[args.profile])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            call(pages[args.profile])
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(*([args.grep] if args.grep else []), 45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        if os.environ.get("PROFILE_DUMP"):
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        return

    floor = None
    # CPU time too: on a machine shared with other work, wall time says more about the neighbours than the page
    print(f"{'page':34} {'stmts':>5} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8} {'cpu ms':>8} {'x floor':>8}")
    for name, make in pages.items():
        for _ in range(3):
            call(make)
        _settle(name)
        statements.clear()
        call(make)
        count = len(statements)
        if args.sql:
            print("\n".join("   " + s.replace("\n", " ")[:160] for s in statements))
        times, cpu = [], []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            call(make)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        times.sort()
        p50, p95, c50 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], statistics.median(cpu)
        floor = floor or (p50, c50)
        print(f"{name:34} {count:5d} {p50:8.2f} {p95:8.2f} {p50 / floor[0]:8.1f} {c50:8.2f} {c50 / floor[1]:8.1f}",
              flush=True)
        _settle(name)


def _settle(name):
    """Wait for a background publication build a page started (a coordinator's read of an out-of-date publication):
    it runs in this process and would slow every page timed after it (and its CPU would count as theirs)."""
    builds = [t for t in threading.enumerate() if t.name.startswith("publication-")]
    if builds:
        started = time.perf_counter()
        for thread in builds:
            thread.join()
        print(f"   ({name} started a background publication build, {', '.join(t.name for t in builds)}: "
              f"waited {time.perf_counter() - started:.0f} s for it; run `flask stats publish` first, as cron does)",
              flush=True)


def _documents(app, codes):
    """Document numbers to search for: decrypted through the registry's own read of each case."""
    from caseapp.services import registry

    out = []
    with app.test_request_context():
        sw = db.session.scalar(select(User).where(User.username == "sw_ctg"))
        for code in codes[:50]:
            victim = registry.get_case(sw, code).victim
            if victim.document_number:
                out.append({"document_type": victim.document_type, "document_number": victim.document_number})
        db.session.rollback()
    if not out:
        raise SystemExit("no document numbers found")
    return out


if __name__ == "__main__":
    main()
