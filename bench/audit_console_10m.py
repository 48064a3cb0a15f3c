"""The auditor's console at 10,000,000 access-log rows: generate a valid hash chain, then time the console queries.

    .venv/bin/python bench/audit_console_10m.py [--rows 10000000] [--db /tmp/ruta_audit_10m.sqlite3] [--reuse]

Rows are synthetic (2,000 users in 40 entities, 100,000 case codes, about 15 s apart over ~5 years) and chained
exactly as caseapp.audit.record chains them (same canonical form, same keyed MAC under a throwaway keyring in the
bench instance folder), inserted in batches with the secondary indexes built afterwards. Then each console filter
is timed through the same service code the web and the API use (audit_console.conditions + page_statement):
first page, an older page deep in the result, and the CSV export's batch; plus the alerts over the look-back.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENTITIES = [f"E{i:02d}" for i in range(40)]
USERS = [(f"user{i:04d}", ENTITIES[i % 40]) for i in range(2000)]
CASES = 100_000
START = datetime(2021, 1, 4, 12, 0)
ACTIONS = [("case.view", 60), ("case.update", 12), ("case.list", 8), ("case.search", 6), ("case.route.view", 8),
           ("login.success", 4), ("logout", 2)]
BATCH = 50_000


def _app(db_path: Path, instance: Path):
    os.environ["CASEAPP_INSTANCE_PATH"] = str(instance)
    import config
    from caseapp import create_app

    return create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}"))


def generate(app, db_path: Path, rows: int) -> None:
    from caseapp import crypto
    from caseapp.audit import GENESIS, canonical
    from caseapp.extensions import db
    from caseapp.models.audit import AuditEvent

    with app.app_context():
        db.create_all()
        db.engine.dispose()
    index_sql = []
    conn = sqlite3.connect(db_path)
    for ix in AuditEvent.__table__.indexes:  # build them once at the end: much faster than row by row
        cols = ", ".join(c.name for c in ix.columns)
        index_sql.append(f"CREATE INDEX {ix.name} ON audit_events ({cols})")
        conn.execute(f"DROP INDEX IF EXISTS {ix.name}")
    conn.commit()
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    rng = random.Random(42)  # noqa: S311 - synthetic data
    names, weights = zip(*ACTIONS, strict=True)
    prev, at = GENESIS, START
    insert = ("INSERT INTO audit_events (seq, at, actor, actor_entity, roles, action, object_type, object_ref, outcome,"
              " ip, request_id, detail, prev_mac, mac) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    started = time.perf_counter()
    with app.app_context():
        audit_mac = crypto.audit_mac
        batch = []
        for seq in range(1, rows + 1):
            at += timedelta(seconds=rng.randint(1, 29), microseconds=rng.randint(0, 999_999))
            who = rng.randrange(len(USERS))
            user, entity = USERS[who]
            action = rng.choices(names, weights)[0]
            outcome = "denied" if rng.random() < 0.02 else "allowed"
            if action in ("case.view", "case.update", "case.route.view"):
                case_entity = entity if rng.random() < 0.97 else ENTITIES[rng.randrange(40)]
                object_type, ref = "case", f"{case_entity}-{2021 + rng.randrange(5)}-{rng.randrange(CASES // 40):05d}"
            elif action in ("login.success", "logout"):
                object_type, ref = "user", user
            else:
                object_type, ref = "case", None
            row = SimpleNamespace(seq=seq, at=at, actor=user, actor_entity=entity, roles="social_worker",
                                  action=action, object_type=object_type, object_ref=ref, outcome=outcome,
                                  ip=f"10.{who % 250}.0.{rng.randrange(1, 4)}",
                                  request_id=None, detail=None)
            mac = audit_mac(prev, canonical(row))
            batch.append((seq, at.strftime("%Y-%m-%d %H:%M:%S.%f"), user, entity, row.roles, action, object_type, ref,
                          outcome, row.ip, None, None, prev, mac))
            prev = mac
            if len(batch) >= BATCH:
                conn.executemany(insert, batch)
                conn.commit()
                batch.clear()
                if seq % 1_000_000 == 0:
                    print(f"  {seq:,} rows, {time.perf_counter() - started:.0f} s", flush=True)
        if batch:
            conn.executemany(insert, batch)
            conn.commit()
    print(f"inserted {rows:,} rows in {time.perf_counter() - started:.0f} s; building indexes...", flush=True)
    t = time.perf_counter()
    for statement in index_sql:
        conn.execute(statement)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    print(f"indexes built in {time.perf_counter() - t:.0f} s", flush=True)


def _time(fn, repeat: int = 7) -> tuple[float, float]:
    fn()  # warm the page cache once, as a running server would be
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


def measure(app) -> dict:
    from sqlalchemy import func, select, text

    from caseapp.extensions import db
    from caseapp.models.audit import AuditEvent
    from caseapp.services.audit import alerts
    from caseapp.services.audit import console as audit_console

    results = {}
    with app.test_request_context():
        total = db.session.scalar(select(func.max(AuditEvent.seq)))
        last_at = db.session.scalar(select(func.max(AuditEvent.at)))
        busiest = db.session.execute(text(
            "SELECT object_ref FROM audit_events WHERE seq > :s AND object_type = 'case' AND object_ref IS NOT NULL "
            "LIMIT 1"), {"s": total - 1000}).scalar()
        day = (last_at - timedelta(days=30)).strftime("%Y-%m-%d")
        cases = {
            "case code": {"case": busiest},
            "case code + period": {"case": busiest, "since": "2021-01-01", "until": day},
            "user": {"user": "user0042"},
            "entity": {"entity": "E07"},
            "action": {"action": "login.success"},
            "outcome denied": {"outcome": "denied"},
            "period (one day)": {"since": day, "until": day},
            "user + outcome": {"user": "user0042", "outcome": "denied"},
            "no filter": {},
        }
        for label, args in cases.items():
            filters = audit_console.parse_filters(args)

            def first_page(filters=filters):
                where = audit_console.conditions(filters)
                return db.session.execute(audit_console.page_statement(where, None, 50),
                                         audit_console.page_params(where, None)).all()

            rows = first_page()
            mid = rows[-1].seq if rows else None

            def older_page(filters=filters, mid=mid):
                where = audit_console.conditions(filters)
                return db.session.execute(audit_console.page_statement(where, "older", 50),
                                         audit_console.page_params(where, mid)).all()

            med, worst = _time(first_page)
            med_o, worst_o = _time(older_page) if mid else (0.0, 0.0)
            results[label] = {"first_page_ms": round(med, 2), "first_page_max_ms": round(worst, 2),
                              "older_page_ms": round(med_o, 2), "older_page_max_ms": round(worst_o, 2),
                              "rows": len(rows)}
            print(f"{label:22s} first page {med:8.2f} ms (max {worst:8.2f})   older page {med_o:8.2f} ms   "
                  f"[{len(rows)} rows]", flush=True)
        until = last_at + timedelta(seconds=1)
        med, worst = _time(lambda: alerts.compute(until - timedelta(days=7), until), repeat=3)
        results["alerts (7 days)"] = {"ms": round(med, 1), "max_ms": round(worst, 1)}
        print(f"alerts over 7 days     {med:8.1f} ms (max {worst:8.1f})", flush=True)
        results["rows"] = total
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/ruta_audit_10m.sqlite3"))  # noqa: S108 - bench file
    parser.add_argument("--reuse", action="store_true", help="measure an existing database without regenerating")
    args = parser.parse_args()
    instance = args.db.with_suffix(".instance")
    instance.mkdir(exist_ok=True)
    if not args.reuse:
        args.db.unlink(missing_ok=True)
    app = _app(args.db, instance)
    if not args.reuse:
        generate(app, args.db, args.rows)
    results = measure(app)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "audit_console.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
