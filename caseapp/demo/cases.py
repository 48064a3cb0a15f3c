"""Demo data: a few dozen realistic fake cases, spread over 2023 to today and over the demo entities.

Every case goes through the registry's `register_case` and the case lifecycle's `change_status` as the entity's
demo social worker, so identity is encrypted, blind-indexed and logged, and every rule of the route holds, exactly
as in real use: mediate assistance starts from a complaint and an acta única, and a child's case closes only once
ICBF has answered its mandatory referral. People are fake
(Faker es_CO, seeded): names, documents and phones are made up. Idempotent: when the demo social workers
already registered cases, nothing is done.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from faker import Faker
from flask_babel import gettext as _
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services import referrals, route
from caseapp.services import registry as case_service
from caseapp.services.casework import assignments
from caseapp.services.registry import purposes_in_force
from caseapp.timeutil import today

# Demo social workers (from caseapp/demo/accounts.py) and how many cases each entity registers.
REGISTRARS = (("tsocial.ctg", 22), ("tsocial.bog", 14), ("defensora.icbf", 4))
FIRST_DAY = date(2023, 1, 1)
SEED = 188  # art. 188A of the Penal Code

SOURCES = ("coat", "coat", "coat", "fiscalia", "policia", "migracion", "icbf", "health", "ngo", "self_referral")
PURPOSE_WEIGHTS = {"sexual_exploitation": 8, "forced_labour": 4, "servile_marriage": 2, "begging": 1,
                   "servitude": 2, "sex_tourism": 1, "forced_criminality": 2, "forced_recruitment": 1}
CONTROL = ("debt_bondage", "takes_earnings", "threats", "psychological_abuse", "false_promises",
           "withholds_documents", "restricts_movement", "restricts_financial_access", "withholds_necessities")
# Coarse places: municipalities (DIVIPOLA) and destination countries of external trafficking.
MUNICIPALITIES = ("13001", "13001", "13430", "11001", "11001", "05001", "76001", "08001", "54001", "68001")
DESTINATIONS = ("MX", "ES", "PA", "CL", "PE", "EC", "TR", "CN", "CO")
RECRUITMENT = ("job_offer", "job_offer", "internet", "intimate_partner", "familial", "posing_as_benefactor")
NARRATIVES = (
    "Le ofrecieron trabajo como modelo webcam con pago en dólares; al llegar le retuvieron el documento.",
    "Viajó con una supuesta agencia de empleo para trabajar en un restaurante; le cobraron una deuda por el viaje.",
    "Una amiga le prometió trabajo en una finca; la obligaban a trabajar sin pago y no la dejaban salir.",
    "Su pareja la llevó a otra ciudad y la obligó a ejercer la prostitución bajo amenazas a su familia.",
    "Le ofrecieron una beca de estudios en el exterior; en el país de destino la encerraron en un apartamento.",
)
DECLINED = (
    "Teme represalias contra su familia.",
    "Prefiere regresar con su familia sin acompañamiento institucional.",
    "",
)


def _demo_lawyer(user) -> str | None:
    """The first active lawyer of the user's entity (registration checks her again)."""
    lawyers = assignments.entity_lawyers(user)
    return lawyers[0].username if lawyers else None


def _demo_social_workers() -> list[tuple[User, int]]:
    found = []
    for username, count in REGISTRARS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            found.append((user, count))
    return found


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _birth_date(rng: random.Random, identified_on: date, child: bool) -> date:
    age = rng.randint(13, 17) if child else rng.choice((19, 21, 23, 25, 27, 29, 31, 34, 38, 42, 51))
    return identified_on - timedelta(days=age * 365 + rng.randint(30, 330))


def _purposes(rng: random.Random, on: date) -> list[str]:
    in_force = [p.code for p in purposes_in_force(on)]
    pool = [code for code in in_force if code in PURPOSE_WEIGHTS]
    weights = [PURPOSE_WEIGHTS[c] for c in pool]
    chosen = {rng.choices(pool, weights)[0]}
    if rng.random() < 0.25:
        chosen.add(rng.choices(pool, weights)[0])
    return sorted(chosen)


def _person(fake: Faker, rng: random.Random, identified_on: date, *, child: bool, declined: bool) -> dict:
    foreign = rng.random() < 0.3
    nationality = "VE" if foreign else "CO"
    if child:
        doc_type = "TI" if not foreign else "NONE"
    elif foreign:
        doc_type = rng.choice(("PPT", "PEP", "PASSPORT", "NONE"))
    else:
        doc_type = "CC"
    doc_number = "" if doc_type == "NONE" else (
        str(rng.randint(1_000_000_000, 1_199_999_999)) if doc_type in ("CC", "TI")
        else str(rng.randint(100_000_000, 999_999_999))
    )
    birth = _birth_date(rng, identified_on, child)
    consent = not declined
    data = {
        "given_names": fake.first_name_female() + (f" {fake.first_name_female()}" if rng.random() < 0.5 else ""),
        "family_names": f"{fake.last_name()} {fake.last_name()}",
        "document_type": doc_type,
        "document_number": doc_number,
        "birth_date": birth.isoformat(),
        "phone": f"3{rng.randint(0, 50):02d}{rng.randint(0, 9_999_999):07d}" if rng.random() < 0.85 else "",
        "address": fake.street_address() if rng.random() < 0.6 else "",
        "narrative": rng.choice(NARRATIVES) if rng.random() < 0.5 else "",
        "sex": "female",
        "gender_identity": rng.choice(("woman",) * 8 + ("trans_woman", "unknown")),
        "nationality": nationality,
        "ethnic_group": rng.choice(("none",) * 5 + ("afrocolombian", "afrocolombian", "indigenous", "unknown")),
        "disability": rng.choice(("no",) * 6 + ("yes", "unknown")),
        "lgbtiq": rng.choice(("no",) * 5 + ("yes", "unknown", "unknown")),
        "migrant_status": rng.choice(("regular_migrant", "irregular_migrant")) if foreign else "national",
        "identified_on": identified_on.isoformat(),
        "identification_source": "icbf" if child else rng.choice(SOURCES),
        "exploitation_purposes": _purposes(rng, identified_on),
        "trafficking_scope": "external" if foreign or rng.random() < 0.35 else "internal",
        "control_methods": sorted(rng.sample(CONTROL, rng.randint(1, 3))),
        "victim_status": rng.choice(("victim", "victim", "possible_victim")),
        "screening_acts": sorted(rng.sample(("recruitment", "transport", "transfer", "harbouring", "receipt"),
                                            rng.randint(1, 3))),
        "screening_means": [] if child else sorted(rng.sample(("deception", "fraud", "threat", "coercion",
                                                               "abuse_of_vulnerability"), rng.randint(1, 2))),
        "screening_purpose": True,
        "consent_assistance": consent,
        "consent_data_processing": consent or rng.random() < 0.5,
        "consent_method": "legal_representative" if child else rng.choice(("written", "written", "verbal_witnessed")),
    }
    if declined:
        data["declined_reasons"] = rng.choice(DECLINED)
    if child:
        data["representative"] = "Defensoría de Familia — ICBF"
    data.update(_places(data))
    return data


def _places(data: dict) -> dict:
    """Her case's coarse places, from a generator of their own (the other fields keep their seeded sequence)."""
    rng = random.Random(f"{SEED}:{data['identified_on']}:{data['given_names']}")  # noqa: S311 - demo data, not security
    external = data["trafficking_scope"] == "external"
    return {
        "identification_municipality": rng.choice(MUNICIPALITIES),
        "recruitment_municipality": rng.choice(MUNICIPALITIES),
        "exploitation_municipality": None if external else rng.choice(MUNICIPALITIES),
        "destination_country": rng.choice(DESTINATIONS) if external else None,
        "recruitment_method": rng.choice(RECRUITMENT),
    }


def _icbf_answers(case: Case) -> None:
    """ICBF's demo social worker accepts the mandatory referral of a child's case (it may then read the case)."""
    referral = db.session.scalar(select(Referral).where(Referral.case_id == case.id, Referral.mandatory.is_(True),
                                                        Referral.status == "sent"))
    icbf_worker = db.session.scalar(select(User).where(User.username == "defensora.icbf"))
    if referral is not None and icbf_worker is not None:
        referrals.accept(icbf_worker, referral.id, version=referral.version)


def _advance(user: User, case: Case, rng: random.Random, last_day: date) -> None:
    """Move a consenting victim's case along the route on plausible dates (the lifecycle checks every rule)."""
    age = (last_day - case.identified_on).days
    if case.declined_assistance or age < 2:
        return
    intake = case.identified_on + timedelta(days=rng.randint(0, 2))
    case = route.change_status(user, case.code, "in_immediate_assistance", version=case.version, on=intake)
    if age < 12 or rng.random() < 0.2:
        return
    mediate = intake + timedelta(days=rng.randint(4, 10))
    complaint = intake + timedelta(days=rng.randint(0, 3))  # the complaint, then the agreed acta única
    case = route.change_status(user, case.code, "in_mediate_assistance", version=case.version, on=mediate,
                               complaint_on=complaint, acta_on=mediate)
    if age < 200 or rng.random() < 0.4:
        return
    closed = min(last_day, mediate + timedelta(days=rng.randint(90, 270)))
    reason = rng.choice(("goals_met", "goals_met", "voluntary_withdrawal", "lost_contact", "transferred"))
    if case.is_child:
        _icbf_answers(case)
    route.change_status(user, case.code, "closed", version=case.version, reason=reason, on=closed)


def load(echo) -> None:
    """Register the demo cases once (skipped when the demo social workers already have cases)."""
    workers = _demo_social_workers()
    if not workers:
        echo(_("Demo cases: skipped (load the demo accounts first)."))
        return
    ids = [user.id for user, _count in workers]
    if db.session.scalar(select(func.count(Case.id)).where(Case.created_by_id.in_(ids))):
        echo(_("Demo cases: already loaded."))
        return
    fake = Faker("es_CO")
    fake.seed_instance(SEED)
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    last_day = today()
    made = 0
    for user, count in workers:
        for i in range(count):
            identified_on = _random_date(rng, FIRST_DAY, last_day)
            child = i in (3, 11) or user.entity.code == "ICBF"
            declined = not child and rng.random() < 0.15
            data = _person(fake, rng, identified_on, child=child, declined=declined)
            if i % 2 == 0 and (lawyer := _demo_lawyer(user)) is not None:
                data["lawyer"] = lawyer  # half the cases have a lawyer, so that a lawyer's agenda is not empty
            try:
                case = case_service.register_case(user, data)
            except case_service.PossibleDuplicate:
                db.session.rollback()
                continue  # a fake person drawn twice: skip rather than register her twice
            _advance(user, case, rng, last_day)
            made += 1
    echo(_("Demo cases: %(count)s cases registered.", count=made))
