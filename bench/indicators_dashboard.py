"""Time the coordinator's dashboard and counts at scale (default 100,000 victims), on a throwaway SQLite database.

    .venv/bin/python bench/indicators_dashboard.py [--victims 100000] [--steps-per-case 3] [--repeat 10]
        [--db PATH] [--profile] [--sql]

Synthetic rows are bulk-inserted with SQL (no identity at all: identity columns stay empty and data keys are random
bytes, since counting never decrypts). Not a test.

Each page is requested --repeat times (after one warm-up request) and its median and 95th percentile are printed.
--db keeps the generated database at PATH and reuses it when it exists (same generator and seed; generate it again
after a schema or index change). --sql prints the slowest SQL statements of one request per page, with their time
and query plan.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config  # noqa: E402

PAGES = (
    ("dashboard 2025", "/indicators/?year=2025"),
    ("dashboard this year", "/indicators/"),
    ("counts sex x age group, 2025", "/indicators/counts?by=sex&by2=age_group&period=2025"),
    ("counts purpose x entity", "/indicators/counts?by=exploitation_purpose&by2=entity"),
    ("counts month, filtered by entity", "/indicators/counts?by=month&period=2025&f_entity=CTG"),
    ("policy report", "/indicators/policies/CTG-PPIG?as_of=2025-12-31"),
    ("yearly report XLSX", "/indicators/export/report?kind=yearly&year=2025&format=xlsx"),
)


def load(args, rnd: random.Random) -> int:
    """Generate the synthetic rows (the same every time for the same arguments); return the coordinator's id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text

    from caseapp.extensions import db
    from caseapp.models.accounts import Entity, User
    from caseapp.models.cases import Case, Consent, case_purposes
    from caseapp.models.catalogues import ExploitationPurpose
    from caseapp.models.keys import DataKey
    from caseapp.models.route import AssistanceStep, StepKind
    from caseapp.models.victims import Victim

    upgrade()
    t0 = time.perf_counter()
    entities = []
    for code in ("CTG", "BOG", "MED", "CAL", "BAQ"):
        e = Entity(code=code, name=f"Entidad {code}", kind="government")
        db.session.add(e)
        entities.append(e)
    db.session.flush()
    coord = User(username="coord", display_name="Coord", entity=entities[0], active=True,
                 password_hash="x")  # noqa: S106 - never signs in: the bench opens a session directly
    coord.set_roles(("coordinator",))
    db.session.add(coord)
    db.session.commit()
    purposes = list(db.session.scalars(select(ExploitationPurpose.id)))[:9]
    kinds = list(db.session.scalars(select(StepKind.id).where(StepKind.phase == "immediate")))
    n = args.victims
    now = datetime(2026, 1, 1)
    conn = db.session.connection()
    batch = 20_000
    for start in range(0, n, batch):
        ids = range(start + 1, min(n, start + batch) + 1)
        conn.execute(insert(DataKey), [{"id": i, "purpose": "victim", "kek_id": "bench", "wrapped": os.urandom(60),
                                        "created_at": now} for i in ids])
        conn.execute(insert(Victim), [{
            "id": i, "uid": f"v{i}", "data_key_id": i, "version": 1, "created_at": now, "updated_at": now,
            "sex": rnd.choices(["female", "male", "intersex", "unknown"], [70, 27, 1, 2])[0],
            "gender_identity": "unknown", "age_group": rnd.choice(["9-17", "18-20", "21-23", "24-26", "27-29",
                                                                   "30-38", "39-47", "48+"]),
            "nationality": rnd.choices(["CO", "VE", "EC", "PE"], [70, 25, 3, 2])[0],
            "ethnic_group": rnd.choice(["none", "afrocolombian", "indigenous", "unknown"]),
            "disability": "unknown", "lgbtiq": "unknown", "migrant_status": "unknown", "erased": False,
        } for i in ids])
        cases = []
        for i in ids:
            identified = date(2019, 1, 1) + timedelta(days=rnd.randint(0, 7 * 365))
            linked = identified + timedelta(days=rnd.randint(0, 20)) if rnd.random() < 0.8 else None
            cases.append({
                "id": i, "uid": f"c{i}", "code": f"X-{i}", "victim_id": i,
                "owner_entity_id": entities[rnd.randint(0, 4)].id, "status": rnd.choice(
                    ["identified", "in_immediate_assistance", "in_mediate_assistance", "closed"]),
                "identified_on": identified, "identification_source": "coat", "intake_on": identified,
                "linked_on": linked, "trafficking_scope": rnd.choice(["internal", "external"]),
                "victim_status": "victim", "is_child": False, "child_referral_required": False,
                "declined_assistance": False, "control_methods": "", "version": 1, "created_at": now,
                "updated_at": now})
        conn.execute(insert(Case), cases)
        conn.execute(insert(case_purposes), [{"case_id": c["id"], "purpose_id": p} for c in cases
                                             for p in rnd.sample(purposes, rnd.choice([1, 1, 1, 2]))])
        conn.execute(insert(Consent), [{"uid": f"k{c['id']}", "case_id": c["id"], "kind": "assistance",
                                        "given_on": c["identified_on"], "method": "written", "recorded_at": now,
                                        "version": 1} for c in cases if c["linked_on"]])
        steps = []
        for c in cases:
            for s in range(args.steps_per_case):
                steps.append({"uid": f"s{c['id']}-{s}", "case_id": c["id"], "phase": "immediate",
                              "kind_id": rnd.choice(kinds), "status": "done",
                              "done_on": c["identified_on"] + timedelta(days=s), "version": 1,
                              "created_at": now, "updated_at": now})
        conn.execute(insert(AssistanceStep), steps)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    print(f"loaded {n:,} victims/cases, {n * args.steps_per_case:,} steps in {time.perf_counter() - t0:.1f} s")
    return coord.id


def explain_statements(app, client, url: str) -> None:
    """Each statement of one request: its time and SQLite's query plan."""
    from sqlalchemy import event

    from caseapp.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[list] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["t"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append([time.perf_counter() - conn.info["t"], statement, parameters])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    print(f"{len(seen)} statements, {sum(s[0] for s in seen) * 1000:.0f} ms in SQL")
    with engine.connect() as conn:
        for elapsed, statement, parameters in sorted(seen, key=lambda s: -s[0])[:15]:
            print(f"--- {elapsed * 1000:7.1f} ms\n{statement}\n{parameters}")
            if statement.lstrip().upper().startswith("SELECT"):
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
                for row in plan:
                    print("    plan:", row[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--victims", type=int, default=100_000)
    parser.add_argument("--steps-per-case", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--db", help="Keep the database at this path; reuse it when it exists.")
    parser.add_argument("--profile", action="store_true", help="Profile one dashboard request (top 25 calls).")
    parser.add_argument("--sql", action="store_true", help="Time and EXPLAIN the statements of one request per page.")
    parser.add_argument("--only", help="Time only the pages whose label contains this text.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ruta-bench-"))
    os.environ["CASEAPP_INSTANCE_PATH"] = str(workdir)
    db_path = Path(args.db).resolve() if args.db else workdir / "bench.sqlite3"
    reuse = db_path.exists()
    from sqlalchemy import select

    from caseapp import create_app
    from caseapp.extensions import db
    from caseapp.models.accounts import User
    from caseapp.services.accounts import sessions

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}", AUDIT_DISABLED=False))
    with app.app_context():
        if reuse:
            print(f"reusing {db_path}")
            coord_id = db.session.scalar(select(User.id).where(User.username == "coord"))
        else:
            coord_id = load(args, random.Random(42))

    client = app.test_client()
    with app.test_request_context():
        token = sessions.start(db.session.get(User, coord_id), "127.0.0.1")
        db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        client.get("/indicators/?year=2025")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    for label, url in PAGES:
        if args.only and args.only not in label:
            continue
        if args.sql:
            print(f"=== {label}")
            explain_statements(app, client, url)
        first = time.perf_counter()
        r = client.get(url)
        first = time.perf_counter() - first
        times, cpu = [], []
        for _i in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            client.get(url)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] if times else first
        median = statistics.median(times) if times else first
        # CPU time of this process: what the page costs when the machine is shared (wall time includes waiting).
        cpu_median = statistics.median(cpu) if cpu else 0
        print(f"{label:36s} {r.status_code}  first {first * 1000:6.0f} ms  median {median * 1000:6.0f} ms  "
              f"p95 {p95 * 1000:6.0f} ms  cpu median {cpu_median * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
