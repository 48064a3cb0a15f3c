"""Time the coordinator's dashboard and counts at scale (default 100,000 victims), on a throwaway SQLite database.

    .venv/bin/python bench/indicators_dashboard.py [--victims 100000] [--steps-per-case 3]

Synthetic rows are bulk-inserted with SQL (no identity at all: identity columns stay empty and data keys are random
bytes, since counting never decrypts). Not a test.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--victims", type=int, default=100_000)
    parser.add_argument("--steps-per-case", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="Profile one dashboard request (top 20 calls).")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ruta-bench-"))
    os.environ["CASEAPP_INSTANCE_PATH"] = str(workdir)
    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text

    from caseapp import create_app
    from caseapp.extensions import db
    from caseapp.models.accounts import Entity, User
    from caseapp.models.cases import Case, Consent, case_purposes
    from caseapp.models.catalogues import ExploitationPurpose
    from caseapp.models.keys import DataKey
    from caseapp.models.route import AssistanceStep, StepKind
    from caseapp.models.victims import Victim

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'bench.sqlite3'}",
                                 AUDIT_DISABLED=False))
    rnd = random.Random(42)
    with app.app_context():
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
        coord_id = coord.id

    from caseapp.services import sessions

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
    for label, url in (("dashboard 2025", "/indicators/?year=2025"), ("dashboard 2025 (again)", "/indicators/?year=2025"),
                       ("dashboard this year", "/indicators/"),
                       ("counts sex x age group, 2025", "/indicators/counts?by=sex&by2=age_group&period=2025"),
                       ("counts purpose x entity", "/indicators/counts?by=exploitation_purpose&by2=entity"),
                       ("counts month, filtered by entity", "/indicators/counts?by=month&period=2025&f_entity=CTG"),
                       ("policy report", "/indicators/policies/CTG-PPIG?as_of=2025-12-31"),
                       ("yearly report XLSX", "/indicators/export/report?kind=yearly&year=2025&format=xlsx")):
        t = time.perf_counter()
        r = client.get(url)
        print(f"{label:40s} {r.status_code}  {time.perf_counter() - t:6.2f} s")


if __name__ == "__main__":
    main()
