"""Issue 13's casework on a database made by bench/generate.py: caseloads, legal follow-up, flags, family members,
attachments, notifications and places. Run it right after generate.py, on the same instance and sample:

    .venv/bin/python bench/generate.py --instance /tmp/b --audit-rows 100000 --sample bench/out/sample.json
    .venv/bin/python bench/generate_casework.py --instance /tmp/b --sample bench/out/sample.json

What it adds, to the cases of the four case entities (the null-cipher slice is left as generate.py made it):
- staff: social workers and lawyers per entity, as many as keep a caseload of about --sw-caseload / --lawyer-caseload
  open cases each (sw_<entity> and lawyer_<entity> are the first of each pool), and a social worker and a lawyer at
  each receiving entity (sw_oim, lawyer_fgn, ...; with API tokens, in the sample);
- assignments: every case one open social-worker assignment (~10 % after an ended one), about half a lawyer;
- legal follow-up: ~30 % of cases a criminal proceeding with its dated stage changes, some a second proceeding
  (migratory for a foreign victim, protection action, reparation), hearings with outcomes and next dates, protection
  measures requested / granted / denied / ended;
- ~5 % of cases flagged (1-2 flags in force, some cleared ones), ~20 % with 1-2 family members and their steps,
  ~10 % one small attachment (a real PDF, JPEG or PNG);
- notifications: new referrals to the receiving entities' users (and to sw_/lawyer_<entity>), answers to the case's
  social worker, and the due-soon / overdue ones written by the app's own cron job (`scan_due`); most marked read;
- places on every case: DIVIPOLA municipalities, destination country (external), HTCDS recruitment method and
  methods of control.

Every encrypted value is written through the models' own code (`Encrypted` descriptors, CaseAttachment.set_content)
under the victim's data key, so the app decrypts it as its own (the script reads a few back through the ORM).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import CASE_ENTITIES, ENTITIES, NULL_ENTITY, PASSWORD, Timer, insert  # noqa: E402

BATCH = 5000
RECEIVING = [c for c, _k in ENTITIES if c not in CASE_ENTITIES and c != NULL_ENTITY]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instance", default=str(ROOT / "bench" / "out" / "instance"))
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--sample", default=str(ROOT / "bench" / "out" / "sample.json"))
    p.add_argument("--sw-caseload", type=int, default=40, help="open cases per social worker")
    p.add_argument("--lawyer-caseload", type=int, default=60, help="open cases per lawyer")
    p.add_argument("--no-due-scan", action="store_true", help="skip the app's due-date notifications job")
    p.add_argument("--seed", type=int, default=13)
    return p.parse_args(argv)


def make_app(args):
    os.environ["CASEAPP_INSTANCE_PATH"] = str(Path(args.instance).resolve())
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    import config
    from caseapp import create_app

    return create_app(config.load("development"))


def generate(args) -> dict:  # noqa: C901, PLR0915 - one pass, in the order the tables depend on each other
    from sqlalchemy import bindparam, delete, func, select, update

    from bench.casework_rows import legal_rows, place_rows, record_rows
    from caseapp import crypto
    from caseapp.extensions import db
    from caseapp.models.accounts import ApiToken, Entity, User, UserRole
    from caseapp.models.assignments import CaseAssignment
    from caseapp.models.attachments import CaseAttachment
    from caseapp.models.cases import Case, IndirectVictim
    from caseapp.models.keys import DataKey
    from caseapp.models.legal import LegalStageChange
    from caseapp.models.notifications import Notification
    from caseapp.models.referrals import Referral
    from caseapp.models.route import (
        LegalEvent,
        LegalProceeding,
        ProtectionMeasure,
        StepKind,
    )
    from caseapp.models.safety import FamilyStep, SafetyFlag
    from caseapp.models.victims import Victim
    from caseapp.timeutil import today

    rnd = random.Random(args.seed)
    sample = json.loads(Path(args.sample).read_text())
    app = make_app(args)
    timer = Timer()
    on = today()
    now = datetime.combine(on, datetime.min.time())
    with app.app_context():
        if db.session.scalar(select(LegalStageChange.id).limit(1)) is not None:
            raise SystemExit("this database already has its casework")
        conn = db.session.connection()
        entity_ids = dict(conn.execute(select(Entity.code, Entity.id)).all())
        code_of_entity = {v: k for k, v in entity_ids.items()}
        case_entity_ids = [entity_ids[c] for c in CASE_ENTITIES]
        rows = conn.execute(
            select(Case.id, Case.uid, Case.code, Case.owner_entity_id, Case.status, Case.identified_on,
                   Case.trafficking_scope, Victim.nationality, DataKey.kek_id, DataKey.wrapped)
            .join(Victim, Victim.id == Case.victim_id).join(DataKey, DataKey.id == Victim.data_key_id)
            .where(Case.owner_entity_id.in_(case_entity_ids)).order_by(Case.id)).all()
        cases = [SimpleNamespace(id=r[0], uid=r[1], code=r[2], entity=code_of_entity[r[3]], status=r[4],
                                 identified=r[5], scope=r[6], nationality=r[7], kek=r[8], wrapped=r[9]) for r in rows]
        deks: dict[int, bytes] = {}

        def dek(c):
            if c.id not in deks:
                deks[c.id] = crypto.unwrap_data_key(c.kek, c.wrapped)
            return deks[c.id]

        # Which cases get what, decided up front (a lawyer for every case with a proceeding).
        for c in cases:
            c.proceeding = rnd.random() < 0.30
            c.lawyer = c.proceeding or rnd.random() < 0.29  # ~50 % in all
            c.open = c.status != "closed"

        # Staff: pools sized to the caseloads; the named users of generate.py are the first of each.
        t = time.perf_counter()
        pw_hash = crypto.hash_password(PASSWORD)
        existing = dict(conn.execute(select(User.username, User.id)).all())
        pools: dict[tuple[str, str], list[int]] = {}
        new_users = []
        next_id = (conn.execute(select(func.max(User.id))).scalar() or 0) + 1
        for entity in CASE_ENTITIES:
            mine = [c for c in cases if c.entity == entity]
            for role, prefix, want in (("social_worker", "sw", [c for c in mine if c.open]),
                                       ("lawyer", "lawyer", [c for c in mine if c.open and c.lawyer])):
                size = max(1, math.ceil(len(want) / (args.sw_caseload if role == "social_worker"
                                                     else args.lawyer_caseload)))
                ids = [existing[f"{prefix}_{entity.lower()}"]]
                for k in range(1, size):
                    new_users.append((next_id, f"{prefix}_{entity.lower()}_{k:04d}", entity, role))
                    ids.append(next_id)
                    next_id += 1
                pools[entity, role] = ids
        insert(conn, User.__table__, [
            {"id": i, "uid": crypto.new_uid(), "username": name, "display_name": name, "entity_id": entity_ids[e],
             "password_hash": pw_hash, "active": True, "must_change_password": False, "version": 1,
             "created_at": now, "updated_at": now} for i, name, e, _r in new_users])
        insert(conn, UserRole.__table__, [{"user_id": i, "role": r} for i, _n, _e, r in new_users])
        if conn.dialect.name == "postgresql":  # explicit ids: the named users below take the sequence's next one
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
        db.session.commit()
        for code in RECEIVING:  # with API tokens, as generate.py's named users
            for prefix, role in (("sw", "social_worker"), ("lawyer", "lawyer")):
                user = User(username=f"{prefix}_{code.lower()}", display_name=f"{prefix}_{code.lower()}",
                            entity_id=entity_ids[code], password_hash=pw_hash)
                user.set_roles((role,))
                db.session.add(user)
                db.session.flush()
                token = crypto.new_token()
                db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(token), created_at=now))
                sample["users"][user.username] = {"id": user.id, "entity": code, "token": token, "roles": [role]}
        db.session.commit()
        conn = db.session.connection()
        receivers = {entity_ids[c]: [sample["users"][f"{p}_{c.lower()}"]["id"] for p in ("sw", "lawyer")]
                     for c in RECEIVING}
        for c in CASE_ENTITIES:  # a new referral to a case entity: told to its two named users (see README)
            receivers[entity_ids[c]] = [existing[f"sw_{c.lower()}"], existing[f"lawyer_{c.lower()}"]]
        timer.lap("staff", t, len(new_users) + 2 * len(RECEIVING))

        # Assignments: generate.py's (all to sw_<entity>) replaced by the pools'.
        t = time.perf_counter()
        # (a subquery: PostgreSQL takes at most 65,535 parameters in one statement)
        conn.execute(delete(CaseAssignment.__table__).where(CaseAssignment.case_id.in_(
            select(Case.id).where(Case.owner_entity_id.in_(case_entity_ids)))))
        batch, counters = [], {}
        for c in cases:
            k = counters[c.entity] = counters.get(c.entity, -1) + 1
            sws = pools[c.entity, "social_worker"]
            c.sw = sws[k % len(sws)]
            since = datetime.combine(c.identified, datetime.min.time())
            if rnd.random() < 0.10 and len(sws) > 1:  # an earlier social worker, reassigned
                before = sws[(k + 1) % len(sws)]
                moved = since + timedelta(days=rnd.randint(20, 200))
                batch.append({"case_id": c.id, "user_id": before, "role": "social_worker", "assigned_at": since,
                              "assigned_by_id": before, "ended_at": moved, "ended_by_id": before})
                since = moved
            batch.append({"case_id": c.id, "user_id": c.sw, "role": "social_worker", "assigned_at": since,
                          "assigned_by_id": c.sw, "ended_at": None, "ended_by_id": None})
            c.lw = None
            if c.lawyer:
                lws = pools[c.entity, "lawyer"]
                c.lw = lws[(k * 7) % len(lws)]
                batch.append({"case_id": c.id, "user_id": c.lw, "role": "lawyer", "ended_at": None,
                              "assigned_at": since + timedelta(days=rnd.randint(1, 40)), "assigned_by_id": c.sw,
                              "ended_by_id": None})
        for i in range(0, len(batch), BATCH):
            insert(conn, CaseAssignment.__table__, batch[i:i + BATCH])
        db.session.commit()
        conn = db.session.connection()
        timer.lap("assignments", t, len(batch))

        # Legal follow-up: proceedings, their stage history, hearings, measures.
        t = time.perf_counter()
        procs, changes, events, measures = legal_rows(cases, rnd, dek, on, now)
        for table, rows_ in ((LegalProceeding.__table__, procs), (LegalStageChange.__table__, changes),
                             (LegalEvent.__table__, events), (ProtectionMeasure.__table__, measures)):
            for i in range(0, len(rows_), BATCH):
                insert(conn, table, rows_[i:i + BATCH])
        db.session.commit()
        conn = db.session.connection()
        timer.lap("legal", t, len(procs) + len(changes) + len(events) + len(measures))

        # Safety flags, family members and their steps, attachments.
        t = time.perf_counter()
        kinds = [r[0] for r in conn.execute(select(StepKind.id).where(StepKind.section == "psychosocial")).all()]
        flags, members, fsteps, attachments = record_rows(cases, rnd, dek, on, now, kinds)
        for table, rows_ in ((SafetyFlag.__table__, flags), (IndirectVictim.__table__, members),
                             (FamilyStep.__table__, fsteps), (CaseAttachment.__table__, attachments)):
            for i in range(0, len(rows_), 1000 if table is CaseAttachment.__table__ else BATCH):
                insert(conn, table, rows_[i:i + (1000 if table is CaseAttachment.__table__ else BATCH)])
                db.session.commit()
                conn = db.session.connection()
        timer.lap("flags+family+files", t, len(flags) + len(members) + len(fsteps) + len(attachments))

        # Places on every case (statistical columns, in clear).
        t = time.perf_counter()
        places = place_rows(cases, rnd)
        stmt = update(Case.__table__).where(Case.__table__.c.id == bindparam("b_id")).values(
            identification_municipality=bindparam("b_idm"), recruitment_municipality=bindparam("b_rm"),
            exploitation_municipality=bindparam("b_em"), destination_country=bindparam("b_dc"),
            recruitment_method=bindparam("b_rmeth"), control_methods=bindparam("b_cm"))
        for i in range(0, len(places), BATCH):
            conn.execute(stmt, places[i:i + BATCH])
        db.session.commit()
        conn = db.session.connection()
        timer.lap("places", t, len(places))

        # Notifications: referral events (as triggers.notify would have told them), then the app's due scan.
        t = time.perf_counter()
        sw_of = {c.id: c.sw for c in cases}
        identified = {c.id: c.identified for c in cases}
        notes = []
        for rid, case_id, to, status, responded in conn.execute(select(
                Referral.id, Referral.case_id, Referral.to_entity_id, Referral.status, Referral.responded_on)):
            if case_id not in sw_of:
                continue
            sent = datetime.combine(identified[case_id], datetime.min.time()) + timedelta(days=1)
            for user in receivers.get(to, []):
                notes.append({"user_id": user, "kind": "referral_new", "case_id": case_id, "referral_id": rid,
                              "created_at": sent})
            if status in ("accepted", "rejected"):
                notes.append({"user_id": sw_of[case_id], "kind": f"referral_{status}", "case_id": case_id,
                              "referral_id": rid, "created_at": datetime.combine(responded, datetime.min.time())
                              if responded else sent})
        for i in range(0, len(notes), BATCH):
            insert(conn, Notification.__table__, notes[i:i + BATCH])
        db.session.commit()
        due_made = 0
        if not args.no_due_scan:
            from caseapp.services.notifications.due import scan_due

            due_made = scan_due(on)
        conn = db.session.connection()
        conn.execute(update(Notification.__table__).where(  # older ones read; the last weeks' mostly not
            Notification.__table__.c.created_at < now - timedelta(days=14), Notification.__table__.c.id % 10 < 8)
            .values(read_at=now))
        db.session.commit()
        timer.lap("notifications", t, len(notes) + due_made)

        # Read a few back through the app's models: they must decrypt as the app's own.
        session = db.session
        for a in session.scalars(select(CaseAttachment).limit(3)):
            assert a.content().startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff")), a.id
            assert a.filename
        assert all(f.reason for f in session.scalars(select(SafetyFlag).limit(3)))
        assert all(m.names and m.document_number for m in session.scalars(select(IndirectVictim).limit(3)))
        assert all(e.title for e in session.scalars(select(LegalEvent).limit(3)))
        session.rollback()
        if db.engine.dialect.name == "sqlite":
            db.session.remove()
            raw = db.engine.raw_connection()
            try:
                raw.execute("ANALYZE")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        else:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for table in ("users", "legal_proceedings", "indirect_victims"):
                    c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - fixed table names
                c.exec_driver_sql("ANALYZE")
    sample["casework"] = {"figures": timer.figures, "pools": {f"{e}/{r}": len(v) for (e, r), v in pools.items()},
                          "rows": {"proceedings": len(procs), "stage_changes": len(changes), "hearings": len(events),
                                   "measures": len(measures), "flags": len(flags), "family_members": len(members),
                                   "family_steps": len(fsteps), "attachments": len(attachments),
                                   "notifications": len(notes) + due_made}}
    Path(args.sample).write_text(json.dumps(sample, indent=1, default=str))
    print(json.dumps(sample["casework"]["pools"]), json.dumps(sample["casework"]["rows"]), flush=True)
    return sample


if __name__ == "__main__":
    generate(parse_args())
