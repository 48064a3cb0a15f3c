"""Rows of issue 13's casework for bench/generate_casework.py: legal follow-up, flags, family members,
attachments and places, built in memory (the caller inserts them). Encrypted values go through the models' own code."""
from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from caseapp import crypto
from caseapp.models.attachments import ATTACHMENT_SECTIONS, CaseAttachment
from caseapp.models.cases import CONTROL_METHODS, RELATIONSHIPS, IndirectVictim
from caseapp.models.route import PROCEEDING_STAGES, LegalEvent, LegalProceeding, ProtectionMeasure
from caseapp.models.safety import FamilyStep, SafetyFlag

CITY = {"CTG": "13001", "BOG": "11001", "MED": "05001", "CALI": "76001"}
# Capitals and a few other municipalities that appear in route reports (valid DIVIPOLA codes).
TOWNS = ["13001", "11001", "05001", "76001", "08001", "54001", "47001", "66001", "68001", "52001", "50001",
         "13430", "05088", "76109", "25754", "44001", "86001", "19001", "23001", "20001"]
COUNTRIES = [("ES", 20), ("MX", 15), ("CN", 8), ("TR", 6), ("PA", 10), ("EC", 10), ("PE", 8), ("CL", 8),
             ("AR", 5), ("US", 5), ("DO", 5)]
RECRUIT = [("job_offer", 40), ("internet", 20), ("intimate_partner", 10), ("familial", 6),
           ("posing_as_benefactor", 6), ("offer_of_accommodation", 4), ("public_area", 4), ("unknown", 10)]
FLAG_WEIGHTS = [("high_risk", 40), ("threats_received", 25), ("no_phone_contact", 15), ("no_contact_relatives", 12),
                ("contact_only_through", 8)]
ATTACH_WEIGHTS = [("consent", 35), ("acta_unica", 20), ("identity_document", 25), ("court_order", 10), ("other", 10)]


def pick(rnd, weighted):
    return rnd.choices([k for k, _w in weighted], [w for _k, w in weighted])[0]


def sealed(model, dek, uid, **values) -> dict:
    """`<field>_enc` columns for `values`, encrypted by the model's own Encrypted descriptors (its associated data)."""
    row = SimpleNamespace(uid=uid, __tablename__=model.__tablename__, _encryption_key=lambda: dek)
    for name, value in values.items():
        getattr(model, name).__set__(row, value)
    return {k: v for k, v in vars(row).items() if k.endswith("_enc")}


def sample_files() -> dict[str, bytes]:
    """A small real file of each accepted type (a scanned page is larger; these keep the database small)."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Consentimiento informado. Documento sintetico de prueba, sin datos reales. " * 8)
    image = Image.new("L", (320, 200), 255)
    draw = ImageDraw.Draw(image)
    for y in range(20, 190, 12):
        draw.line((20, y, 300, y), fill=90)
    out = {"application/pdf": bytes(pdf.output())}
    for fmt, media in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        buf = io.BytesIO()
        image.save(buf, fmt)
        out[media] = buf.getvalue()
    return out


def later(day: date, lo: int, hi: int, rnd, cap: date) -> date:
    return min(day + timedelta(days=rnd.randint(lo, hi)), cap)


def legal_rows(cases, rnd, dek, on: date, now: datetime) -> tuple[list, list, list, list]:
    """Proceedings (ids from 1), their stage changes, hearings and protection measures."""
    procs, changes, events, measures = [], [], [], []
    pid = 1
    for c in cases:
        if not c.proceeding:
            continue
        kinds = ["criminal"]
        if rnd.random() < 0.15:
            kinds.append("migratory" if c.nationality != "CO" else rnd.choice(["protection_action", "reparation"]))
        for kind in kinds:
            stages = PROCEEDING_STAGES[kind]
            reached = min(len(stages) - 1, int(rnd.expovariate(0.6)))
            day = later(c.identified, 0, 60, rnd, on)
            filed = day
            for stage in stages[:reached + 1]:
                changes.append({"uid": crypto.new_uid(), "proceeding_id": pid, "case_id": c.id, "stage": stage,
                                "changed_on": day, "recorded_by_id": c.lw,
                                "recorded_at": datetime.combine(day, datetime.min.time())})
                day = later(day, 30, 150, rnd, on)
            uid = crypto.new_uid()
            procs.append({"id": pid, "uid": uid, "case_id": c.id, "kind": kind, "stage": stages[reached],
                          "complaint_filed_on": filed if kind == "criminal" else None,
                          "representation": rnd.choice(["public_defender", "entity_lawyer", "none"]),
                          "updated_by_id": c.lw, "version": 1, "created_at": now, "updated_at": now,
                          **sealed(LegalProceeding, dek(c), uid, receiving_office="Fiscalía Seccional 12",
                                   criminal_case_number=f"{rnd.randint(10**20, 10**21 - 1)}")})
            ongoing = stages[reached] not in ("closed", "judgment", "granted", "denied")
            hearing_day = later(filed, 20, 90, rnd, on)
            held = rnd.choice([0, 1, 1, 2, 3]) if kind == "criminal" else rnd.choice([0, 1])
            for h in range(held):
                last = h == held - 1  # the newest: its outcome set the next hearing, often soon
                nxt = (on + timedelta(days=rnd.randint(-10, 45)) if ongoing and last and rnd.random() < 0.6
                       else later(hearing_day, 30, 120, rnd, on))
                uid = crypto.new_uid()
                events.append({"uid": uid, "case_id": c.id, "proceeding_id": pid, "kind": "hearing",
                               "on": hearing_day, "next_on": nxt, "recorded_by_id": c.lw, "version": 1,
                               **sealed(LegalEvent, dek(c), uid, title="Audiencia de imputación",
                                        outcome="Se aplazó; nueva fecha fijada.")})
                hearing_day = later(hearing_day, 30, 120, rnd, on)
            if ongoing and rnd.random() < 0.10:  # a hearing still to be held
                uid = crypto.new_uid()
                events.append({"uid": uid, "case_id": c.id, "proceeding_id": pid, "kind": "hearing",
                               "on": on + timedelta(days=rnd.randint(0, 30)), "next_on": None,
                               "recorded_by_id": c.lw, "version": 1, "outcome_enc": None,
                               **sealed(LegalEvent, dek(c), uid, title="Audiencia preparatoria")})
            pid += 1
        for _m in range(rnd.choices([0, 1, 2], [55, 38, 7])[0]):
            status = pick(rnd, [("requested", 30), ("granted", 35), ("denied", 15), ("ended", 20)])
            asked = later(c.identified, 5, 200, rnd, on)
            decided = later(asked, 5, 60, rnd, on) if status != "requested" else None
            uid = crypto.new_uid()
            values = {"notes": "Solicitada por riesgo a la víctima."}
            if decided:
                values["decided_by"] = "Juzgado de control de garantías"
            measures.append({"uid": uid, "case_id": c.id, "status": status, "requested_on": asked,
                             "kind": rnd.choice(["witness_protection", "police_measures", "other"]),
                             "decided_on": decided, "recorded_by_id": c.lw, "version": 1,
                             "ended_on": later(decided, 60, 300, rnd, on) if status == "ended" else None,
                             "decided_by_enc": None, **sealed(ProtectionMeasure, dek(c), uid, **values)})
    return procs, changes, events, measures


def record_rows(cases, rnd, dek, on: date, now: datetime, kinds: list[int]) -> tuple[list, list, list, list]:
    """Safety flags, family members (ids from 1) and their steps, attachments."""
    files = sample_files()
    flags, members, fsteps, attachments = [], [], [], []
    mid = 1
    for c in cases:
        if rnd.random() < 0.05 or rnd.random() < 0.01:  # in force (~5 %), or only cleared ones (~1 %)
            in_force = rnd.random() < 0.83
            chosen = {pick(rnd, FLAG_WEIGHTS) for _ in range(rnd.choice([1, 1, 2]))}
            for kind in sorted(chosen):
                uid = crypto.new_uid()
                set_at = datetime.combine(later(c.identified, 0, 90, rnd, on), datetime.min.time())
                values = {"reason": "Amenazas de la red reportadas por la víctima."}
                if not in_force:
                    values["clear_reason"] = "Riesgo reevaluado."
                flags.append({"uid": uid, "case_id": c.id, "kind": kind, "set_by_id": c.sw, "set_at": set_at,
                              "in_force_key": f"{c.id}:{kind}" if in_force else None,
                              "professional_id": c.sw if kind == "contact_only_through" else None,
                              "cleared_by_id": None if in_force else c.sw,
                              "cleared_at": None if in_force else set_at + timedelta(days=rnd.randint(10, 200)),
                              "clear_reason_enc": None, "version": 1,
                              **sealed(SafetyFlag, dek(c), uid, **values)})
        if rnd.random() < 0.20:
            for _f in range(rnd.choice([1, 1, 2])):
                uid = crypto.new_uid()
                members.append({"id": mid, "uid": uid, "case_id": c.id, "version": 1,
                                "relationship_kind": rnd.choice(RELATIONSHIPS[:6]),
                                "age_group": rnd.choice(["0-8", "9-17", "30-38", "39-47", "48+"]),
                                "created_by_id": c.sw, "created_at": now,
                                **sealed(IndirectVictim, dek(c), uid, names="Ana María Pérez Gómez",
                                         document_type="CC",
                                         document_number=str(rnd.randint(10_000_000, 1_999_999_999)))})
                for _s in range(rnd.choice([0, 1, 2, 3])):
                    suid = crypto.new_uid()
                    fsteps.append({"uid": suid, "case_id": c.id, "indirect_victim_id": mid, "version": 1,
                                   "kind_id": rnd.choice(kinds), "status": rnd.choice(["planned", "done"]),
                                   "on": later(c.identified, 0, 300, rnd, on), "professional_id": c.sw,
                                   "created_at": now,
                                   **sealed(FamilyStep, dek(c), suid, notes="Acompañamiento psicosocial.")})
                mid += 1
        if rnd.random() < 0.10:
            kind = pick(rnd, ATTACH_WEIGHTS)
            media = rnd.choice(list(files))
            data = files[media] + os.urandom(rnd.randint(0, 4096))  # trailing bytes: sizes vary
            uid = crypto.new_uid()
            row = SimpleNamespace(uid=uid, kind=kind, case=SimpleNamespace(uid=c.uid),
                                  __tablename__=CaseAttachment.__tablename__, _encryption_key=lambda c=c: dek(c))
            row._content_aad = lambda row=row: CaseAttachment._content_aad(row)
            CaseAttachment.set_content(row, data)  # the model's own encryption and associated data
            CaseAttachment.filename.__set__(row, f"{kind}.{media.split('/')[1]}")
            attachments.append({"uid": uid, "case_id": c.id, "kind": kind, "section": ATTACHMENT_SECTIONS[kind],
                                "media_type": media, "size": len(data), "content_enc": row.content_enc,
                                "filename_enc": row.filename_enc, "uploaded_at": now,
                                "uploaded_by_id": c.lw if kind == "court_order" and c.lw else c.sw})
    return flags, members, fsteps, attachments


def place_rows(cases, rnd) -> list[dict]:
    """The places of every case, as bind parameters of one UPDATE."""
    places = []
    for c in cases:
        home = CITY[c.entity]
        external = c.scope == "external"
        places.append({
            "b_id": c.id, "b_idm": home if rnd.random() < 0.7 else rnd.choice(TOWNS),
            "b_rm": (home if rnd.random() < 0.4 else rnd.choice(TOWNS)) if rnd.random() < 0.85 else None,
            "b_em": None if external else (home if rnd.random() < 0.5 else rnd.choice(TOWNS)),
            "b_dc": pick(rnd, COUNTRIES) if external else None, "b_rmeth": pick(rnd, RECRUIT),
            "b_cm": ",".join(sorted(set(rnd.sample(CONTROL_METHODS[:-1], rnd.choice([1, 2, 3]))))),
        })
    return places
