"""Appends per second of the access log with 1, 4 and 16 concurrent writers.

    .venv/bin/python bench/audit_appends.py [--database-url URL] [--writers 1 4 16] [--seconds 5] [--seal commit]

Each writer is a process with its own app and database connection, and an append is what a request does: one
`audit.record(...)` and a commit. Without --database-url, a fresh SQLite file (migrated by alembic) in a temporary
instance folder; with a PostgreSQL URL, that database is migrated to head and used (give it an empty one).
`--seal deferred` measures appends with sealing left to `flask audit seal`, then times that seal.
At the end the chain is sealed and verified, and must hold every append exactly once.
Runs against older code too (before the queue existed), for a before/after comparison.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("RUTA_BENCH_ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))


def _app(url: str, seal: str):
    import config
    from caseapp import create_app

    return create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=url, AUDIT_SEAL=seal, RATELIMIT_ENABLED=False))


def _writer(url: str, seal: str, number: int, ready, go, seconds: float, out) -> None:
    app = _app(url, seal)
    from caseapp import audit
    from caseapp.extensions import db

    n = 0
    with app.app_context():
        db.session.connection()  # connected before the start
        db.session.rollback()
        ready.put(number)
        go.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            audit.record("case.view", object_type="case", object_ref=f"BENCH-{number}-{n}", actor="bench",
                         detail={"writer": number})
            db.session.commit()
            n += 1
        db.session.remove()
    out.put(n)


def _sealed_rows(app) -> tuple[int, bool, float]:
    from caseapp import audit
    from caseapp.extensions import db

    with app.app_context():
        t = time.perf_counter()
        if hasattr(audit, "seal_all"):
            audit.seal_all()
        sealing = time.perf_counter() - t
        result = audit.verify()
        db.session.remove()
        return result.rows, result.ok, sealing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seal", choices=("commit", "deferred"), default="commit")
    args = parser.parse_args()

    # an existing database is verified with its own instance's keys (bench/run.py passes its sample's instance)
    given = os.environ.get("CASEAPP_INSTANCE_PATH") if args.database_url else None
    instance = Path(given or tempfile.mkdtemp(prefix="ruta-appends-"))
    os.environ["CASEAPP_INSTANCE_PATH"] = str(instance)
    url = args.database_url or f"sqlite:///{instance / 'appends.sqlite3'}"
    app = _app(url, args.seal)
    from flask_migrate import upgrade

    from caseapp import crypto
    from caseapp.extensions import db

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        crypto.keyring()  # the keyring is created once, before the writers read it
        db.engine.dispose()
    rows, ok, _ = _sealed_rows(app)
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}; code: {ROOT}; seal: {args.seal}")
    print("| writers | appends | appends/s | seal after (s) | chain |")
    print("|---:|---:|---:|---:|---|")
    ctx = mp.get_context("spawn")
    for writers in args.writers:
        out, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
        procs = [ctx.Process(target=_writer, args=(url, args.seal, i, ready, go, args.seconds, out))
                 for i in range(writers)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=300)  # every writer started and connected
        go.set()
        appended = sum(out.get(timeout=120 + args.seconds) for _ in procs)
        for p in procs:
            p.join()
        before = rows
        rows, ok, sealing = _sealed_rows(app)
        intact = ok and rows - before == appended
        print(f"| {writers} | {appended} | {appended / args.seconds:,.0f} | {sealing:.2f} | "
              f"{'intact, every append once' if intact else f'BROKEN ({rows - before} rows for {appended})'} |",
              flush=True)


if __name__ == "__main__":
    main()
