"""Search time by document number at N victims (default 100,000), through the real service.

    .venv/bin/python bench/search_by_document.py [N] [QUERIES]

Builds a throwaway SQLite database in a temporary instance folder, migrated by alembic, fills it with N fake
victims and cases (encrypted and blind-indexed exactly as the registry does, inserted in batches), then times
`services.cases.search_cases(..., document_type=, document_number=)` — authz scoping, blind-index lookup,
decryption and exact comparison of the candidates, the access-log row and the commit included.
"""
from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(n: int = 100_000, queries: int = 300) -> None:
    instance = Path(tempfile.mkdtemp(prefix="ruta-bench-"))
    os.environ["CASEAPP_INSTANCE_PATH"] = str(instance)
    import config
    from caseapp import create_app

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'bench.sqlite3'}"))
    from flask_migrate import upgrade
    from sqlalchemy import select

    from caseapp import crypto
    from caseapp.extensions import db
    from caseapp.models.accounts import Entity, User
    from caseapp.models.cases import Case, CaseCounter
    from caseapp.models.catalogues import ExploitationPurpose
    from caseapp.models.victims import Victim
    from caseapp.services import registry as cases

    with app.app_context():
        upgrade()
    rng = random.Random(42)  # noqa: S311 - synthetic data, not security
    entities = ["SDIS", "FISCAL", "ICBF", "OIM", "GOBVAL"]
    with app.test_request_context():
        rows = [Entity(code=c, name=f"Entidad {c}", kind="government") for c in entities]
        db.session.add_all(rows)
        db.session.flush()
        user = User(username="bench", display_name="Bench", entity=rows[0], password_hash=None)
        user.set_roles(["social_worker"])
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        purpose = db.session.scalar(select(ExploitationPurpose).where(ExploitationPurpose.code == "forced_labour"))
        entity_ids = {e.code: e.id for e in rows}
        counters: dict = {}
        documents = []
        t0 = time.perf_counter()
        for i in range(n):
            code = entities[i % len(entities)]
            number = str(1_000_000_000 + rng.randrange(900_000_000))
            documents.append((code, number))
            victim = Victim.new(sex="female", age_group="24-26", nationality="CO")
            victim.given_names, victim.family_names = f"Nombre{i}", f"Apellido{i}"
            victim.document_type, victim.document_number = "CC", number
            victim.phone = f"3{rng.randrange(10**9):09d}"
            victim.document_bidx = crypto.blind_index("victims/document", crypto.normalise_document("CC", number))
            victim.name_bidx = crypto.blind_index("victims/name", crypto.normalise_text(f"Nombre{i} Apellido{i}"))
            victim.phone_bidx = crypto.blind_index("victims/phone", crypto.normalise_phone(victim.phone))
            identified = date(2020, 1, 1) + timedelta(days=rng.randrange(2000))
            key = (code, identified.year)
            counters[key] = counters.get(key, 0) + 1
            case = Case(code=f"{code}-{identified.year}-{counters[key]:05d}", victim=victim,
                        owner_entity_id=entity_ids[code], status="identified", identified_on=identified,
                        identification_source="coat", trafficking_scope="internal", victim_status="victim",
                        linked_on=identified)
            case.purposes = [purpose]
            db.session.add(case)
            if i % 2000 == 1999:
                db.session.commit()
                db.session.expunge_all()
                purpose = db.session.merge(purpose)
                print(f"  {i + 1} victims ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        for (code, year), last in counters.items():
            db.session.add(CaseCounter(entity_id=entity_ids[code], year=year, last=last))
        db.session.commit()
        fill = time.perf_counter() - t0
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()

        user = db.session.get(User, user_id)
        own = [d for d in documents if d[0] == "SDIS"]
        timings, hits = [], 0
        for q in range(queries):
            number = rng.choice(own)[1] if q % 2 == 0 else str(rng.randrange(10**9))  # half hits, half misses
            start = time.perf_counter()
            found = cases.search_cases(user, document_type="CC", document_number=number)
            timings.append((time.perf_counter() - start) * 1000)
            hits += bool(found)
        timings.sort()
        print(f"victims: {n}  fill: {fill:.0f} s  queries: {queries} (hits {hits})")
        print(f"search by document: median {statistics.median(timings):.2f} ms, "
              f"p95 {timings[int(len(timings) * 0.95) - 1]:.2f} ms, max {timings[-1]:.2f} ms")
        plan = db.session.execute(db.text(
            "EXPLAIN QUERY PLAN " + str(cases.authz.visible_cases(user).join(Case.victim)
                                         .where(Victim.document_bidx == 1).order_by(Case.id.desc()).limit(500)
                                         .compile(compile_kwargs={"literal_binds": True})))).all()
        for row in plan:
            print("  plan:", row[-1])
    shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
