"""Synthetic data at scale: victims with cases, assistance steps, referrals and access-log rows.

    .venv/bin/python bench/generate.py --instance bench/out/instance [--victims 100000] [--steps 1000000]
        [--referrals 50000] [--audit-rows 10000000] [--database-url postgresql+psycopg://...]

Batch inserts through SQLAlchemy Core; identity is encrypted exactly as the app does it (a data key per victim,
AES-256-GCM per field with table/column/row associated data, blind indexes), and the access log is a valid chain.
Writes bench/out/sample.json (case codes, document numbers, users and tokens) for bench/run.py. Fake data only.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5000
ENTITIES = [("CTG", "government"), ("BOG", "government"), ("MED", "government"), ("CALI", "government"),
            ("FGN", "justice"), ("PONAL", "police"), ("MIG", "government"), ("ICBF", "child_protection"),
            ("OIM", "international"), ("ONG1", "ngo"), ("BNUL", "ngo")]
CASE_ENTITIES = ["CTG", "BOG", "MED", "CALI"]
NULL_CIPHER_VICTIMS = 1000  # a slice stored with the benchmark's null cipher, for the encryption-overhead ratio
NULL_ENTITY = "BNUL"  # owns that slice alone, so no AES-configured search ever meets a null-cipher row
PASSWORD = "bench passphrase not for production 2026"  # noqa: S105 - synthetic users only


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instance", default=str(ROOT / "bench" / "out" / "instance"))
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--victims", type=int, default=100_000)
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--referrals", type=int, default=50_000)
    p.add_argument("--audit-rows", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--sample", default=str(ROOT / "bench" / "out" / "sample.json"),
                   help="where to write what bench/run.py reads (its --sample)")
    return p.parse_args(argv)


def make_app(args):
    os.environ["CASEAPP_INSTANCE_PATH"] = str(Path(args.instance).resolve())
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    # blind indexes as wide as a deployment planned for this many victims would record (README, "Blind indexes"):
    # at the default 1,000, 100,000 victims would share 256 index values, ~390 candidates decrypted per search
    os.environ.setdefault("RUTA_PLANNED_VICTIMS", str(args.victims))
    import config
    from caseapp import create_app

    return create_app(config.load("development"))


class Timer:
    def __init__(self):
        self.figures = {}

    def lap(self, name, started, rows):
        seconds = time.perf_counter() - started
        self.figures[name] = {"rows": rows, "seconds": round(seconds, 1), "rows_per_s": int(rows / max(seconds, 1e-9))}
        print(f"{name:>14}: {rows:>10,} rows in {seconds:7.1f} s ({rows / max(seconds, 1e-9):,.0f}/s)", flush=True)


def insert(conn, table, rows):
    if rows:
        conn.execute(table.insert(), rows)


def generate(args) -> dict:
    from faker import Faker
    from flask_migrate import upgrade
    from sqlalchemy import select

    from caseapp import audit, crypto
    from caseapp.extensions import db
    from caseapp.models.accounts import ApiToken, Entity, User
    from caseapp.models.assignments import CaseAssignment
    from caseapp.models.cases import Case, CaseCounter, Consent, case_purposes
    from caseapp.models.catalogues import ExploitationPurpose
    from caseapp.models.keys import DataKey
    from caseapp.models.referrals import Referral
    from caseapp.models.route import AssistanceStep, StepKind
    from caseapp.models.victims import Victim

    rnd = random.Random(args.seed)
    fake = Faker("es_CO")
    Faker.seed(args.seed)
    app = make_app(args)
    timer = Timer()
    sample = {"cases": [], "null_cases": [], "users": {}, "documents": []}
    with app.app_context():
        upgrade()
        if db.session.scalar(select(Case.id).limit(1)) is not None:
            raise SystemExit("the database already holds cases: use a fresh --instance or --database-url")
        from caseapp.services.registry import index_width

        index_width.bits(record=True)  # the width every index below is computed at, recorded as a deployment would
        db.session.commit()
        conn = db.session.connection()
        now = datetime(2026, 11, 1)

        # Entities, users (password + API token), one per role per case entity.
        t = time.perf_counter()
        insert(conn, Entity.__table__, [
            {"code": c, "name": f"Entidad {c}", "kind": k, "active": True, "version": 1, "created_at": now, "updated_at": now}
            for c, k in ENTITIES])
        entity_ids = dict(conn.execute(select(Entity.code, Entity.id)).all())
        pw_hash = crypto.hash_password(PASSWORD)
        users = []
        for code in CASE_ENTITIES:
            users.append((f"sw_{code.lower()}", code, ("social_worker",)))
            users.append((f"lawyer_{code.lower()}", code, ("lawyer",)))
        users += [("coord", "CTG", ("coordinator",)), ("auditor", "FGN", ("auditor",)),
                  (f"sw_{NULL_ENTITY.lower()}", NULL_ENTITY, ("social_worker",))]
        for username, code, roles in users:
            user = User(username=username, display_name=username, entity_id=entity_ids[code], password_hash=pw_hash)
            user.set_roles(roles)
            db.session.add(user)
            db.session.flush()
            token = crypto.new_token()
            db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(token), created_at=now))
            sample["users"][username] = {"id": user.id, "entity": code, "token": token, "roles": list(roles)}
        db.session.commit()
        conn = db.session.connection()
        user_ids = {u: v["id"] for u, v in sample["users"].items()}
        sw_by_entity = {code: user_ids[f"sw_{code.lower()}"] for code in [*CASE_ENTITIES, NULL_ENTITY]}
        purposes = dict(conn.execute(select(ExploitationPurpose.code, ExploitationPurpose.id)).all())
        purpose_weights = [("sexual_exploitation", 50), ("begging", 20), ("forced_labour", 15), ("servitude", 5),
                           ("servile_marriage", 3), ("other", 7)]
        timer.lap("users", t, len(users))

        # Victims, data keys, cases, consents, purposes.
        t = time.perf_counter()
        counters: dict[tuple[int, int], int] = {}
        case_rows_meta = []  # (case_id, entity_code, identified_on, code)
        total = args.victims + NULL_CIPHER_VICTIMS
        next_victim_id = 1
        next_case_id = 1
        for start in range(0, total, BATCH):
            n = min(BATCH, total - start)
            keys, victims, cases, consents, cps, assignments = [], [], [], [], [], []
            null_slice = start >= args.victims
            app.config["CIPHER"] = "null" if null_slice else "aesgcm"
            for i in range(n):
                vid = next_victim_id + i
                dek = crypto.new_data_key()
                kek_id, wrapped = crypto.wrap_data_key(dek)
                keys.append({"id": vid, "purpose": "victim", "kek_id": kek_id, "wrapped": wrapped, "created_at": now})
                uid = crypto.new_uid()
                given, family = fake.first_name_female(), f"{fake.last_name()} {fake.last_name()}"
                doc_type = rnd.choice(["CC", "CC", "CC", "PPT", "PASSPORT", "CE"])
                doc_number = str(rnd.randint(10_000_000, 1_999_999_999))
                phone = f"3{rnd.randint(0, 299_999_999):09d}"
                birth = date(rnd.randint(1960, 2008), rnd.randint(1, 12), rnd.randint(1, 28))

                def enc(col, value, uid=uid, dek=dek):
                    return crypto.encrypt_value(dek, value, crypto.field_aad("victims", col, uid))

                victims.append({
                    "id": vid, "uid": uid, "data_key_id": vid,
                    "given_names_enc": enc("given_names", given), "family_names_enc": enc("family_names", family),
                    "document_type_enc": enc("document_type", doc_type),
                    "document_number_enc": enc("document_number", doc_number),
                    "birth_date_enc": enc("birth_date", birth.isoformat()), "phone_enc": enc("phone", phone),
                    "address_enc": enc("address", fake.street_address()),
                    "narrative_enc": enc("narrative", fake.paragraph(nb_sentences=3)),
                    # The null-cipher slice is never a search or duplicate candidate: an AES-configured server
                    # refuses to read its values (as it must).
                    "document_bidx": None if null_slice else crypto.blind_index(
                        "victims/document", crypto.normalise_document(doc_type, doc_number)),
                    "name_bidx": None if null_slice else crypto.blind_index(
                        "victims/name", crypto.normalise_text(f"{given} {family}")),
                    "phone_bidx": None if null_slice else crypto.blind_index("victims/phone", crypto.normalise_phone(phone)),
                    "sex": "female" if rnd.random() < 0.9 else rnd.choice(["male", "intersex", "unknown"]),
                    "gender_identity": "woman", "age_group": rnd.choice(["18-20", "21-23", "24-26", "27-29", "30-38", "39-47"]),
                    "nationality": "CO" if rnd.random() < 0.7 else rnd.choice(["VE", "EC", "PE"]),
                    "ethnic_group": rnd.choice(["none", "none", "afrocolombian", "indigenous", "unknown"]),
                    "disability": "unknown", "lgbtiq": "unknown", "migrant_status": "unknown", "erased": False,
                    "version": 1, "created_at": now, "updated_at": now,
                })
                entity = NULL_ENTITY if null_slice else rnd.choice(CASE_ENTITIES)
                identified = date(2023, 1, 1) + timedelta(days=rnd.randint(0, 1400))
                key = (entity_ids[entity], identified.year)
                counters[key] = counters.get(key, 0) + 1
                code = f"{entity}-{identified.year}-{counters[key]:05d}"
                cid = next_case_id + i
                consent = rnd.random() < 0.85
                status = rnd.choice(["identified", "in_immediate_assistance", "in_mediate_assistance", "in_mediate_assistance", "closed"])
                cases.append({
                    "id": cid, "uid": crypto.new_uid(), "code": code, "victim_id": vid, "owner_entity_id": entity_ids[entity],
                    "created_by_id": sw_by_entity[entity], "status": status,
                    "identified_on": identified, "identification_source": rnd.choice(["coat", "fiscalia", "policia", "ngo"]),
                    "intake_on": identified if status != "identified" else None,
                    "linked_on": identified if consent else None, "closed_on": None, "closure_reason": None,
                    "trafficking_scope": "internal" if rnd.random() < 0.6 else "external",
                    "victim_status": "victim", "is_child": False, "child_referral_required": False,
                    "declined_assistance": not consent, "control_methods": "", "version": 1,
                    "created_at": now, "updated_at": now,
                })
                assignments.append({"case_id": cid, "user_id": sw_by_entity[entity], "role": "social_worker",
                                    "assigned_at": now, "assigned_by_id": sw_by_entity[entity]})
                if consent:
                    consents.append({"uid": crypto.new_uid(), "case_id": cid, "kind": "assistance", "given_on": identified,
                                     "method": "written", "taken_by_id": sw_by_entity[entity], "recorded_at": now, "version": 1})
                chosen = rnd.choices([p for p, _ in purpose_weights], [w for _, w in purpose_weights])[0]
                cps.append({"case_id": cid, "purpose_id": purposes[chosen]})
                case_rows_meta.append((cid, entity, identified, code))
                target = sample["null_cases"] if null_slice else sample["cases"]
                if len(target) < 400 and rnd.random() < 0.05:
                    target.append({"code": code, "entity": entity})
                if not null_slice and len(sample["documents"]) < 400 and rnd.random() < 0.05:
                    sample["documents"].append({"document_type": doc_type, "document_number": doc_number,
                                                "code": code, "entity": entity})
            insert(conn, DataKey.__table__, keys)
            insert(conn, Victim.__table__, victims)
            insert(conn, Case.__table__, cases)
            insert(conn, Consent.__table__, consents)
            insert(conn, CaseAssignment.__table__, assignments)
            insert(conn, case_purposes, cps)
            db.session.commit()
            conn = db.session.connection()
            next_victim_id += n
            next_case_id += n
        app.config["CIPHER"] = "aesgcm"
        insert(conn, CaseCounter.__table__, [{"entity_id": e, "year": y, "last": v} for (e, y), v in counters.items()])
        db.session.commit()
        conn = db.session.connection()
        timer.lap("victims+cases", t, total)

        # Assistance steps, notes encrypted under the victim's data key.
        t = time.perf_counter()
        kinds = conn.execute(select(StepKind.id, StepKind.phase)).all()
        per_case = -(-args.steps // total)  # ceiling: exactly args.steps in all
        dek_rows = dict(conn.execute(select(DataKey.id, DataKey.wrapped)).all())
        kek_of = dict(conn.execute(select(DataKey.id, DataKey.kek_id)).all())
        written, batch = 0, []
        for cid, entity, identified, _code in case_rows_meta:
            if written >= args.steps:
                break
            dek = crypto.unwrap_data_key(kek_of[cid], dek_rows[cid])
            for j in range(min(per_case, args.steps - written)):
                kind_id, phase = rnd.choice(kinds)
                uid = crypto.new_uid()
                done = rnd.random() < 0.6
                batch.append({
                    "uid": uid, "case_id": cid, "phase": phase, "kind_id": kind_id,
                    "status": "done" if done else "planned",
                    "planned_on": identified + timedelta(days=j), "done_on": identified + timedelta(days=j) if done else None,
                    "provider_entity_id": entity_ids[entity], "professional_id": sw_by_entity[entity],
                    "created_by_id": sw_by_entity[entity],
                    "notes_enc": crypto.encrypt_value(dek, "Seguimiento psicosocial sin novedad.",
                                                      crypto.field_aad("assistance_steps", "notes", uid)),
                    "version": 1, "created_at": now, "updated_at": now,
                })
            written += min(per_case, args.steps - written)
            if len(batch) >= BATCH:
                insert(conn, AssistanceStep.__table__, batch)
                db.session.commit()
                conn = db.session.connection()
                batch = []
        insert(conn, AssistanceStep.__table__, batch)
        db.session.commit()
        conn = db.session.connection()
        timer.lap("steps", t, written)

        # Referrals between entities, each with the consent to share with the receiving entity that sending one
        # needs (services.referrals): without it no referral is live and no receiving entity sees a referred case.
        t = time.perf_counter()
        batch, sharing, consented = [], [], set()
        for _k in range(args.referrals):
            cid, entity, identified, _code = case_rows_meta[rnd.randrange(args.victims)]
            to = rnd.choice([c for c, _ in ENTITIES if c != entity])
            status = rnd.choice(["sent", "accepted", "accepted", "done", "rejected"])
            dek = crypto.unwrap_data_key(kek_of[cid], dek_rows[cid])
            uid = crypto.new_uid()
            batch.append({
                "uid": uid, "case_id": cid, "from_entity_id": entity_ids[entity], "to_entity_id": entity_ids[to],
                "service": "legal_orientation", "shared_sections": "summary", "status": status, "mandatory": False,
                "due_on": identified + timedelta(days=10), "sent_by_id": sw_by_entity[entity],
                "responded_on": identified + timedelta(days=3) if status != "sent" else None,
                "reason_enc": crypto.encrypt_value(dek, "Orientación jurídica", crypto.field_aad("referrals", "reason", uid)),
                "sent_at": now, "version": 1, "created_at": now, "updated_at": now,
            })
            if (cid, to) not in consented:
                consented.add((cid, to))
                sharing.append({"uid": crypto.new_uid(), "case_id": cid, "kind": "sharing", "entity_id": entity_ids[to],
                                "given_on": identified, "method": "written", "taken_by_id": sw_by_entity[entity],
                                "recorded_at": now, "version": 1})
            if len(batch) >= BATCH:
                insert(conn, Consent.__table__, sharing)
                sharing = []
                insert(conn, Referral.__table__, batch)
                db.session.commit()
                conn = db.session.connection()
                batch = []
        insert(conn, Consent.__table__, sharing)
        insert(conn, Referral.__table__, batch)
        db.session.commit()
        conn = db.session.connection()
        timer.lap("referrals", t, args.referrals)

        # Access log: a valid keyed chain, time moving forward over two years.
        t = time.perf_counter()
        from caseapp.models.audit import AuditEvent

        actors = [(u, v["entity"], ",".join(v["roles"])) for u, v in sample["users"].items()]
        actions = ["case.view", "case.view", "case.view", "case.list", "case.search", "case.update", "step.create", "login.success"]
        prev, at = audit.GENESIS, datetime(2024, 11, 1)
        step = timedelta(seconds=(2 * 365 * 86400) / max(args.audit_rows, 1))
        codes = [m[3] for m in case_rows_meta]
        batch = []
        for seq in range(1, args.audit_rows + 1):
            actor, entity, roles = actors[rnd.randrange(len(actors))]
            action = actions[rnd.randrange(len(actions))]
            ref = codes[rnd.randrange(len(codes))] if action.startswith(("case.view", "case.update", "step")) else None
            at += step
            row = SimpleNamespace(seq=seq, at=at, actor=actor, actor_entity=entity, roles=roles, action=action,
                                  object_type="case" if ref else None, object_ref=ref, outcome="allowed",
                                  ip=f"10.0.0.{rnd.randint(1, 50)}", request_id=None,
                                  detail='{"by":"document"}' if action == "case.search" else None,
                                  queue_id=None)  # written as if sealed before the queue existed: still valid
            mac = crypto.audit_mac(prev, audit.canonical(row))
            batch.append({**vars(row), "prev_mac": prev, "mac": mac})
            prev = mac
            if len(batch) >= 20000:
                insert(conn, AuditEvent.__table__, batch)
                db.session.commit()
                conn = db.session.connection()
                batch = []
                if seq % 1_000_000 == 0:
                    print(f"    audit rows: {seq:,}", flush=True)
        insert(conn, AuditEvent.__table__, batch)
        db.session.commit()
        timer.lap("audit rows", t, args.audit_rows)
        if db.engine.dialect.name == "sqlite":
            db.session.remove()
            raw = db.engine.raw_connection()  # outside any transaction
            try:
                raw.execute("ANALYZE")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        else:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                # Explicit ids were inserted: move the sequences past them.
                for table in ("data_keys", "victims", "cases"):
                    c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - fixed table names
                c.exec_driver_sql("ANALYZE")
        sample["database_url"] = str(db.engine.url.render_as_string(hide_password=False))
    sample["instance"] = str(Path(args.instance).resolve())
    sample["password"] = PASSWORD
    sample["figures"] = timer.figures
    out = Path(args.sample)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(sample, indent=1, default=str))
    return sample


if __name__ == "__main__":
    generate(parse_args())
