"""The case registry: register, find, read, update victims' cases; statuses; identification screening.

Identity is written through the models' encrypted attributes and indexed by blind indexes (exact search and
duplicate detection across entities); every read, list, search and write goes through authz and the access log,
where a case is named by its code and a search by its kind, never by a name or a number.
"""
from __future__ import annotations

import re
from datetime import date

from babel import Locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from caseapp import audit, authz, crypto
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import (
    CASE_STATUSES,
    CLOSURE_REASONS,
    CONSENT_METHODS,
    CONTROL_METHODS,
    IDENTIFICATION_SOURCES,
    SCREENING_ACTS,
    SCREENING_MEANS,
    TRAFFICKING_SCOPES,
    VICTIM_STATUSES,
    Case,
    CaseCounter,
    Consent,
    IdentificationScreening,
)
from caseapp.models.victims import (
    AGE_GROUPS,
    DOCUMENT_TYPES,
    ETHNIC_GROUPS,
    GENDER_IDENTITIES,
    MIGRANT_STATUSES,
    SEXES,
    YES_NO_UNKNOWN,
    Victim,
)
from caseapp.services.catalogues import purposes_by_code, purposes_in_force
from caseapp.timeutil import today, utcnow

__all__ = [
    "FIELDS", "IDENTITY_FIELDS", "STAT_FIELDS", "CASE_FIELDS", "PossibleDuplicate", "validate_case_data",
    "find_duplicates", "register_case", "get_case", "case_summary", "list_cases", "search_cases", "update_case",
    "change_status", "record_screening", "purposes_in_force", "age_group_at", "COUNTRY_CODES",
]

# --- field catalogue ------------------------------------------------------------------------------------

IDENTITY_FIELDS = (
    "given_names", "family_names", "document_type", "document_number", "birth_date", "phone", "address",
    "contact_person", "narrative",
)
STAT_FIELDS = (
    "sex", "gender_identity", "age_group", "nationality", "ethnic_group", "disability", "lgbtiq", "migrant_status",
)
CASE_FIELDS = (
    "identified_on", "identification_source", "exploitation_purposes", "trafficking_scope", "control_methods",
    "victim_status",
)
CONSENT_FIELDS = (
    "consent_assistance", "consent_data_processing", "consent_method", "consent_given_on", "declined_reasons",
    "representative",
)
SCREENING_FIELDS = ("screening_acts", "screening_means", "screening_purpose")
FIELDS = IDENTITY_FIELDS + STAT_FIELDS + CASE_FIELDS + CONSENT_FIELDS + SCREENING_FIELDS
# Fields that update_case accepts (consents and screening have their own services).
UPDATABLE_FIELDS = IDENTITY_FIELDS + STAT_FIELDS + CASE_FIELDS + ("declined_reasons",)
# Keys a form may carry along that are not data.
IGNORED_KEYS = frozenset({"csrf_token", "submit", "version", "confirm_duplicate"})

MAX_LENGTHS = {
    "given_names": 200, "family_names": 200, "document_number": 40, "phone": 40, "address": 300,
    "contact_person": 300, "narrative": 4000, "declined_reasons": 2000, "representative": 200,
}
REQUIRED = ("given_names", "identified_on", "identification_source", "trafficking_scope", "exploitation_purposes")
CHILD_AGE_GROUPS = ("0-8", "9-17")
EARLIEST = date(1900, 1, 1)
_DOC_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z .\-]*$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]+$")
# ISO 3166-1 alpha-2 from CLDR (babel), without CLDR's regions and exceptionally reserved codes.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
COUNTRY_CODES = frozenset(
    k for k in Locale.parse("en").territories if len(k) == 2 and k.isalpha() and k not in _NOT_COUNTRIES
)
CHOICES = {
    "document_type": DOCUMENT_TYPES, "sex": SEXES, "gender_identity": GENDER_IDENTITIES, "age_group": AGE_GROUPS,
    "ethnic_group": ETHNIC_GROUPS, "disability": YES_NO_UNKNOWN, "lgbtiq": YES_NO_UNKNOWN,
    "migrant_status": MIGRANT_STATUSES, "identification_source": IDENTIFICATION_SOURCES,
    "trafficking_scope": TRAFFICKING_SCOPES, "victim_status": VICTIM_STATUSES, "consent_method": CONSENT_METHODS,
}
LIST_CHOICES = {"control_methods": CONTROL_METHODS, "screening_acts": SCREENING_ACTS, "screening_means": SCREENING_MEANS}
DEFAULTS = {
    "document_type": "NONE", "sex": "unknown", "gender_identity": "unknown", "age_group": "unknown",
    "nationality": "CO", "ethnic_group": "unknown", "disability": "unknown", "lgbtiq": "unknown",
    "migrant_status": "unknown", "victim_status": "possible_victim", "consent_assistance": False,
    "consent_data_processing": False, "consent_method": "written", "control_methods": [], "screening_acts": [],
    "screening_means": [], "screening_purpose": False,
}


class PossibleDuplicate(Conflict):
    """A case for the same person may already exist: `hints` names the entities to contact, nothing else."""

    def __init__(self, message: str = "", *, hints: list[dict] | None = None):
        super().__init__(message)
        self.hints = hints or []


# --- validation -----------------------------------------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_date(value) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip())
    raise ValueError(value)


def _check_date(value, errors: dict, name: str) -> date | None:
    try:
        parsed = _parse_date(value)
    except (ValueError, TypeError):
        errors[name] = _("Enter a valid date (YYYY-MM-DD).")
        return None
    if parsed > today():
        errors[name] = _("The date cannot be in the future.")
        return None
    if parsed < EARLIEST:
        errors[name] = _("The date cannot be before 1900.")
        return None
    return parsed


def _check_bool(value, errors: dict, name: str) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "y", "on", "false", "0", "no", "n", "off"):
        return value.strip().lower() in ("true", "1", "yes", "y", "on")
    errors[name] = _("Answer yes or no.")
    return None


def _check_list(value, errors: dict, name: str) -> list[str] | None:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        errors[name] = _("Choose from the list.")
        return None
    if len(value) > 50:
        errors[name] = _("Too many values.")
        return None
    seen = []
    for v in value:
        if v not in seen:
            seen.append(v)
    return seen


def age_group_at(birth: date, on: date) -> str:
    """The HTCDS age group of a person born on `birth`, on the date `on`."""
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    for group in AGE_GROUPS:
        if group == "48+":
            return group if age >= 48 else "unknown"
        low, high = (int(x) for x in group.split("-"))
        if low <= age <= high:
            return group
    return "unknown"


def validate_case_data(data: dict, *, partial: bool = False, context: dict | None = None) -> dict:
    """Clean the data dict of a case; raise Invalid with every field error at once. Nothing is written.

    `partial` (updates): only the keys present are cleaned and required fields may be absent; `context` gives
    the current values (identified_on, birth_date, is_child, ...) that derived rules need.
    """
    if not isinstance(data, dict):
        raise Invalid(_("The data must be an object with named fields."))
    errors: dict[str, str] = {}
    clean: dict = {}
    context = context or {}
    allowed = UPDATABLE_FIELDS if partial else FIELDS
    for key in data:
        if key in IGNORED_KEYS:
            continue
        if key not in allowed:
            errors[str(key)[:64]] = _("Unknown field.")

    for key in allowed:
        if key not in data or key in errors:
            continue
        value = data[key]
        if key in LIST_CHOICES or key == "exploitation_purposes":
            if value is None:
                value = []
            items = _check_list(value, errors, key)
            if items is None:
                continue
            if key in LIST_CHOICES and any(v not in LIST_CHOICES[key] for v in items):
                errors[key] = _("Choose from the list.")
                continue
            clean[key] = items
        elif key in ("consent_assistance", "consent_data_processing", "screening_purpose"):
            if value is None:
                continue
            parsed = _check_bool(value, errors, key)
            if parsed is not None:
                clean[key] = parsed
        elif key in ("birth_date", "identified_on", "consent_given_on"):
            if _blank(value):
                clean[key] = None
                continue
            parsed = _check_date(value, errors, key)
            if parsed is not None:
                clean[key] = parsed
        else:
            if _blank(value):
                clean[key] = None
                continue
            if not isinstance(value, str):
                errors[key] = _("Enter text.")
                continue
            value = value.strip()
            if key in MAX_LENGTHS and len(value) > MAX_LENGTHS[key]:
                errors[key] = _("At most %(n)s characters.", n=MAX_LENGTHS[key])
                continue
            if "\x00" in value:
                errors[key] = _("Enter text.")
                continue
            if key in CHOICES and value not in CHOICES[key]:
                errors[key] = _("Choose from the list.")
                continue
            if key == "nationality":
                value = value.upper()
                if value not in COUNTRY_CODES:
                    errors[key] = _("Use a country code of ISO 3166 (two letters, e.g. CO, VE).")
                    continue
            if key == "document_number" and not _DOC_NUMBER.match(value):
                errors[key] = _("Use only letters, digits, spaces, dots and hyphens.")
                continue
            if key == "phone" and (not _PHONE.match(value) or len(re.sub(r"\D", "", value)) < 7):
                errors[key] = _("Enter a phone number of at least 7 digits.")
                continue
            clean[key] = value

    if not partial:
        for key in REQUIRED:
            if key in errors:
                continue
            if key == "exploitation_purposes":
                if not clean.get(key):
                    errors[key] = _("Choose at least one purpose of exploitation.")
            elif clean.get(key) is None:
                errors[key] = _("This field is required.")
        for key, default in DEFAULTS.items():
            if clean.get(key) is None and key not in errors:
                clean[key] = default if not isinstance(default, list) else []
    elif any(k in clean and clean[k] is None for k in ("given_names", "identified_on")):
        for k in ("given_names", "identified_on"):
            if k in clean and clean[k] is None:
                errors[k] = _("This field is required.")
    if partial:
        for key in ("identification_source", "trafficking_scope", "victim_status", "sex", "nationality"):
            if key in clean and clean[key] is None:
                errors[key] = _("This field is required.")
        if "exploitation_purposes" in clean and not clean["exploitation_purposes"] and "exploitation_purposes" not in errors:
            errors["exploitation_purposes"] = _("Choose at least one purpose of exploitation.")

    # Cross-field rules, over the merged view of new and current values.
    def merged(key):
        return clean[key] if key in clean else context.get(key)

    doc_type, doc_number = merged("document_type"), merged("document_number")
    if "document_type" not in errors and "document_number" not in errors and (
        "document_type" in clean or "document_number" in clean or not partial
    ):
        if doc_type and doc_type != "NONE" and not doc_number:
            errors["document_number"] = _("Enter the document number, or choose 'no document'.")
        elif (doc_type in (None, "NONE")) and doc_number:
            errors["document_type"] = _("Choose the type of the document.")

    identified_on, birth = merged("identified_on"), merged("birth_date")
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth)
        except ValueError:
            birth = None
    if identified_on and birth and "birth_date" not in errors and "identified_on" not in errors:
        if birth > identified_on:
            errors["birth_date"] = _("The birth date cannot be after the identification date.")
        elif "birth_date" in clean or "identified_on" in clean or not partial:
            clean["age_group"] = age_group_at(birth, identified_on)
    if identified_on and "exploitation_purposes" in clean and "exploitation_purposes" not in errors:
        found, unknown = purposes_by_code(clean["exploitation_purposes"], identified_on)
        if unknown:
            errors["exploitation_purposes"] = _("Unknown purpose, or not in force on the identification date.")
        else:
            clean["exploitation_purposes"] = found
    elif "identified_on" in clean and "exploitation_purposes" not in clean and context.get("purpose_codes"):
        # A new identification date must still have every purpose in force.
        found, unknown = purposes_by_code(context["purpose_codes"], identified_on) if identified_on else ([], [])
        if unknown:
            errors["identified_on"] = _("A chosen purpose of exploitation was not in force on this date.")

    age_group = merged("age_group")
    is_child = age_group in CHILD_AGE_GROUPS
    clean["_is_child"] = is_child
    if not partial:
        if clean.get("consent_assistance") is False:
            pass
        elif clean.get("declined_reasons"):
            errors["declined_reasons"] = _("Reasons for declining apply only when assistance is declined.")
        if is_child and not clean.get("representative") and "representative" not in errors:
            errors["representative"] = _(
                "For a child, record who authorised (legal representative or child-protection authority)."
            )
        consent_on = clean.get("consent_given_on")
        if consent_on and clean.get("identified_on") and consent_on < clean["identified_on"]:
            errors["consent_given_on"] = _("Consent cannot be given before identification.")
        acts, means = clean.get("screening_acts") or [], clean.get("screening_means") or []
        if (acts or means) and not acts and "screening_acts" not in errors:
            errors["screening_acts"] = _("Choose at least one act.")
        if acts and not means and not is_child and "screening_means" not in errors:
            errors["screening_means"] = _("Choose at least one means (not required for a child).")

    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    return clean


# --- blind indexes and duplicates -------------------------------------------------------------------------


def _document_key(doc_type, number):
    if not doc_type or doc_type == "NONE" or not number:
        return None
    return crypto.normalise_document(doc_type, number)


def _name_key(given, family):
    text = crypto.normalise_text(f"{given or ''} {family or ''}")
    return text or None


def _phone_key(phone):
    digits = crypto.normalise_phone(phone) if phone else ""
    return digits or None


def _bidx(purpose: str, normalised: str | None) -> int | None:
    return crypto.blind_index(purpose, normalised) if normalised else None


def _reindex(victim: Victim) -> None:
    victim.document_bidx = _bidx("victims/document", _document_key(victim.document_type, victim.document_number))
    victim.name_bidx = _bidx("victims/name", _name_key(victim.given_names, victim.family_names))
    victim.phone_bidx = _bidx("victims/phone", _phone_key(victim.phone))


def _candidates(column, value: int | None, base=None):
    """Cases whose victim's blind index matches (across all entities unless `base` scopes the select)."""
    if value is None:
        return []
    stmt = (base if base is not None else select(Case)).join(Case.victim).where(
        column == value, Victim.erased.is_(False)
    )
    return db.session.scalars(stmt.order_by(Case.id.desc()).limit(500)).unique().all()


def _matches(data: dict, exclude_victim_id: int | None = None) -> list[Case]:
    """Cases whose victim is, decrypted and compared exactly, the same person by document, phone+name or name+birth."""
    doc = _document_key(data.get("document_type"), data.get("document_number"))
    name = _name_key(data.get("given_names"), data.get("family_names"))
    phone = _phone_key(data.get("phone"))
    birth = data.get("birth_date")
    birth = birth.isoformat() if isinstance(birth, date) else birth
    found: dict[int, Case] = {}
    if doc:
        for case in _candidates(Victim.document_bidx, _bidx("victims/document", doc)):
            v = case.victim
            if _document_key(v.document_type, v.document_number) == doc:
                found[case.id] = case
    if name:
        for case in _candidates(Victim.name_bidx, _bidx("victims/name", name)):
            v = case.victim
            if _name_key(v.given_names, v.family_names) != name:
                continue
            if (birth and v.birth_date == birth) or (phone and _phone_key(v.phone) == phone):
                found[case.id] = case
    return [c for c in found.values() if c.victim_id != exclude_victim_id]


def _hints(actor, cases: list[Case]) -> list[dict]:
    """Which entities to contact: entity code and name only (and the case code when the actor may read it)."""
    hints: dict[tuple, dict] = {}
    for case in cases:
        hint = {"entity_code": case.owner_entity.code, "entity_name": case.owner_entity.name}
        if authz.can(actor, "case.read", case):
            hint["case_code"] = case.code
        hints.setdefault(tuple(sorted(hint.items())), hint)
    return sorted(hints.values(), key=lambda h: (h["entity_code"], h.get("case_code", "")))


def find_duplicates(actor, data: dict) -> list[dict]:
    """Entities that may already hold a case for the person in `data` (cleaned or raw), across all entities."""
    authz.require(actor, "case.create")
    hints = _hints(actor, _matches(data))
    # Which entities hold a person is itself a disclosure: every check is in the access log.
    audit.record("case.duplicate_check", object_type="case", actor=actor,
                 detail={"entities": sorted({h["entity_code"] for h in hints})})
    db.session.commit()
    return hints


# --- registration -----------------------------------------------------------------------------------------


def _next_code(entity: Entity, year: int) -> str:
    """The next ENTITY-YEAR-NNNNN; the counter row is locked (SQLite: BEGIN IMMEDIATE already serialises)."""
    def locked():
        stmt = select(CaseCounter).where(CaseCounter.entity_id == entity.id, CaseCounter.year == year)
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return db.session.scalar(stmt.execution_options(populate_existing=True))

    counter = locked()
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(entity_id=entity.id, year=year, last=0))
        except IntegrityError:  # another transaction created it first
            pass
        counter = locked()
    counter.last += 1
    return f"{entity.code}-{year}-{counter.last:05d}"


def _set_identity(victim: Victim, clean: dict) -> None:
    for key in IDENTITY_FIELDS:
        if key in clean:
            value = clean[key]
            setattr(victim, key, value.isoformat() if isinstance(value, date) else value)


def _registered_with(key_hash: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.registration_key == key_hash))


def register_case(actor, data: dict, *, confirm_duplicate: bool = False, idempotency_key: str | None = None) -> Case:
    """Register a victim and her case (with consents and, when given, the screening) in one transaction.

    Raises PossibleDuplicate (with hints naming the entities to contact) unless `confirm_duplicate`.
    The returned case carries `possible_duplicates` (the hints, possibly empty) and `replayed`: True when
    `idempotency_key` (the form's one-time token) had already registered this case, which is then returned.
    """
    authz.require(actor, "case.create")
    key_hash = crypto.hash_token(f"registration:{actor.id}:{idempotency_key}") if idempotency_key else None
    if key_hash and (existing := _registered_with(key_hash)) is not None:
        return _replayed(actor, existing)
    clean = validate_case_data(data)
    hints = _hints(actor, _matches(clean))
    if hints and not confirm_duplicate:
        # Telling a user that another entity holds a case is itself a disclosure: it goes in the access log.
        audit.record_and_commit("case.duplicate_hint", object_type="case", actor=actor,
                                detail={"entities": sorted({h["entity_code"] for h in hints})})
        raise PossibleDuplicate(
            _("A case for this person may already exist. Contact the entity shown before registering again."),
            hints=hints,
        )
    identified_on: date = clean["identified_on"]
    is_child = clean.pop("_is_child")
    victim = Victim.new(**{k: clean[k] for k in STAT_FIELDS if clean.get(k) is not None})
    db.session.add(victim)
    _set_identity(victim, clean)
    _reindex(victim)
    entity = db.session.get(Entity, actor.entity_id)
    case = Case(
        code=_next_code(entity, identified_on.year), victim=victim, owner_entity_id=entity.id,
        created_by_id=actor.id, assigned_to_id=actor.id, status="identified", identified_on=identified_on,
        identification_source=clean["identification_source"], trafficking_scope=clean["trafficking_scope"],
        victim_status=clean["victim_status"], is_child=is_child, child_referral_required=is_child,
        control_methods=",".join(clean["control_methods"]), registration_key=key_hash,
    )
    case.purposes = clean["exploitation_purposes"]
    db.session.add(case)
    consent_on = clean.get("consent_given_on") or identified_on
    representative = clean.get("representative")
    method = clean["consent_method"]
    for kind, given in (("assistance", clean["consent_assistance"]), ("data_processing", clean["consent_data_processing"])):
        if given:
            consent = Consent(kind=kind, given_on=consent_on, method=method, taken_by_id=actor.id,
                              recorded_at=utcnow())
            case.consents.append(consent)
            if representative:
                consent.representative = representative
    if clean["consent_assistance"]:
        case.linked_on = consent_on
    else:
        case.declined_assistance = True
        case.declined_reasons = clean.get("declined_reasons")
    if clean["screening_acts"]:
        screening = IdentificationScreening(
            acts=",".join(clean["screening_acts"]), means=",".join(clean["screening_means"]),
            purpose_present=clean["screening_purpose"], screened_on=identified_on, screened_by_id=actor.id,
        )
        case.screening = screening
    db.session.flush()
    audit.record("case.create", case, actor=actor, detail={
        "possible_duplicate": sorted({h["entity_code"] for h in hints}), "child": is_child, "assistance_consent": clean["consent_assistance"],
    })
    try:
        db.session.commit()
    except IntegrityError:
        # The same form arrived twice at once (PostgreSQL; SQLite serialises): the other request registered it.
        db.session.rollback()
        existing = _registered_with(key_hash) if key_hash else None
        if existing is None:
            raise
        return _replayed(actor, existing)
    case.possible_duplicates = hints
    case.replayed = False
    return case


def _replayed(actor, case: Case) -> Case:
    authz.require(actor, "case.read", case)
    audit.record("case.create.replayed", case, actor=actor)
    db.session.commit()
    case.possible_duplicates = []
    case.replayed = True
    return case


# --- reading ----------------------------------------------------------------------------------------------


def _load(code) -> Case:
    if not isinstance(code, str) or len(code) > 32:
        raise NotFound()
    case = db.session.scalar(select(Case).where(Case.code == code.strip().upper()))
    if case is None:
        raise NotFound()
    return case


def get_case(actor, code: str) -> Case:
    """The case by code, if the actor may read it (404 otherwise: its existence is not told)."""
    case = _load(code)
    authz.require(actor, "case.read", case)
    audit.record("case.view", case, actor=actor)
    db.session.commit()
    return case


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def case_summary(actor, case: Case) -> dict:
    """A plain dict of the sections of `case` the actor may see (identity only with the identity section)."""
    sections = authz.case_sections(actor, case)
    if not sections:
        return {"code": case.code}
    victim = case.victim
    out = {
        "code": case.code,
        "status": case.status,
        "version": case.version,
        "owner_entity": case.owner_entity.code,
        "owner_entity_name": case.owner_entity.name,
        "identified_on": _iso(case.identified_on),
        "identification_source": case.identification_source,
        "intake_on": _iso(case.intake_on),
        "immediate_closed_on": _iso(case.immediate_closed_on),
        "linked_on": _iso(case.linked_on),
        "closed_on": _iso(case.closed_on),
        "closure_reason": case.closure_reason,
        "trafficking_scope": case.trafficking_scope,
        "victim_status": case.victim_status,
        "is_child": case.is_child,
        "child_referral_required": case.child_referral_required,
        "declined_assistance": case.declined_assistance,
        "exploitation_purposes": [{"code": p.code, "label": p.label_es} for p in case.purposes],
        "control_methods": case.control_method_list,
        "erased": victim.erased,
        "statistics": {k: getattr(victim, k) for k in STAT_FIELDS},
        "consents": [
            {"id": c.id, "kind": c.kind, "entity": c.entity.code if c.entity else None, "given_on": _iso(c.given_on),
             "method": c.method, "withdrawn_on": _iso(c.withdrawn_on), "version": c.version}
            for c in case.consents
        ],
        "screening": None,
        "sections": sorted(sections),
    }
    if case.screening is not None:
        s = case.screening
        out["screening"] = {"acts": [a for a in s.acts.split(",") if a], "means": [m for m in s.means.split(",") if m],
                            "purpose_present": s.purpose_present, "screened_on": _iso(s.screened_on),
                            "version": s.version}
    if "identity" in sections:
        identity = {k: (None if victim.erased else getattr(victim, k)) for k in IDENTITY_FIELDS}
        identity["declined_reasons"] = None if victim.erased else case.declined_reasons
        out["identity"] = identity
        for consent, row in zip(out["consents"], case.consents, strict=True):
            consent["representative"] = None if victim.erased else row.representative
    return out


def _page_size(limit) -> int:
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 50
    return max(1, min(limit, 200))


def list_cases(actor, *, cursor=None, status=None, limit=50) -> tuple[list[Case], int | None]:
    """A page of the cases the actor may see, newest first (keyset on id); next_cursor is None at the end."""
    authz.require(actor, "case.search")
    limit = _page_size(limit)
    stmt = authz.visible_cases(actor)
    if status is not None:
        if status not in CASE_STATUSES:
            raise Invalid(_("Choose from the list."), field_errors={"status": _("Choose from the list.")})
        stmt = stmt.where(Case.status == status)
    if cursor not in (None, ""):
        try:
            cursor = int(cursor)
            if not 0 < cursor < 2**63:  # ids are 64-bit at most; anything else is not a page of ours
                raise ValueError
        except (TypeError, ValueError):
            raise Invalid(_("The page reference is not valid."), field_errors={"cursor": _("The page reference is not valid.")}) from None
        stmt = stmt.where(Case.id < cursor)
    rows = list(db.session.scalars(stmt.order_by(Case.id.desc()).limit(limit + 1)).unique())
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    audit.record("case.list", actor=actor, object_type="case", detail={
        "count": len(rows), "status": status, "codes": [c.code for c in rows],
    })
    db.session.commit()
    return rows, next_cursor


SEARCH_KINDS = ("document", "name", "phone", "code")


def search_cases(actor, *, document_type=None, document_number=None, name=None, phone=None, code=None) -> list[Case]:
    """Exact search by one of document (type + number), full name, phone or case code, among visible cases."""
    authz.require(actor, "case.search")
    given = {k: v for k, v in (("document", document_number), ("name", name), ("phone", phone), ("code", code))
             if not _blank(v)}
    if len(given) != 1 or any(not isinstance(v, str) or len(v) > 400 for v in given.values()):
        raise Invalid(_("Search by one thing: document, full name, phone or case code."))
    kind, value = next(iter(given.items()))
    # A search by identity runs only over cases whose identity the actor may see (referrals may not share it).
    visible = authz.visible_cases(actor, section=None if kind == "code" else "identity")
    if kind == "document":
        if document_type not in DOCUMENT_TYPES or document_type == "NONE":
            raise Invalid(_("Choose the type of the document."), field_errors={"document_type": _("Choose from the list.")})
        key = _document_key(document_type, value)
        found = [c for c in _candidates(Victim.document_bidx, _bidx("victims/document", key), visible)
                 if _document_key(c.victim.document_type, c.victim.document_number) == key]
    elif kind == "name":
        key = _name_key(value, "")
        found = [c for c in _candidates(Victim.name_bidx, _bidx("victims/name", key), visible)
                 if key and _name_key(c.victim.given_names, c.victim.family_names) == key]
    elif kind == "phone":
        key = _phone_key(value)
        found = [c for c in _candidates(Victim.phone_bidx, _bidx("victims/phone", key), visible)
                 if key and _phone_key(c.victim.phone) == key] if key else []
    else:
        found = list(db.session.scalars(visible.where(Case.code == value.strip().upper())).unique())
    audit.record("case.search", actor=actor, object_type="case", detail={
        "by": kind, "count": len(found), "codes": [c.code for c in found],
    })
    db.session.commit()
    return found


# --- updates ----------------------------------------------------------------------------------------------


def _check_version(row, version, name="version") -> None:
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise Invalid(_("The record version is missing; reload and try again."),
                      field_errors={name: _("The record version is missing; reload and try again.")}) from None
    if row.version != version:
        raise Conflict(_(
            "Someone else changed this record while you were editing it. Reload it and try again; nothing was saved."
        ))


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_(
            "Someone else changed this record while you were editing it. Reload it and try again; nothing was saved."
        )) from None


def update_case(actor, code: str, data: dict, *, version: int) -> Case:
    """Change some fields of a case and its victim (statuses excepted); a stale version changes nothing."""
    case = _load(code)
    authz.require(actor, "case.update", case)
    _check_version(case, version)
    victim = case.victim
    context = {
        "identified_on": case.identified_on, "age_group": victim.age_group,
        "purpose_codes": [p.code for p in case.purposes],
    }
    if not victim.erased:
        context.update(document_type=victim.document_type, document_number=victim.document_number,
                       birth_date=victim.birth_date)
    if victim.erased and isinstance(data, dict):
        # An erased field shows blank in a form: blank back is no change.
        data = {k: v for k, v in data.items() if not (k in IDENTITY_FIELDS + ("declined_reasons",) and _blank(v))}
    clean = validate_case_data(data, partial=True, context=context)
    is_child = clean.pop("_is_child")
    # Keep only what changes (a whole edit form comes back with every field): the log names real changes.
    for key in list(clean):
        if key in IDENTITY_FIELDS or key == "declined_reasons":
            current = case.declined_reasons if key == "declined_reasons" else (
                None if victim.erased else getattr(victim, key))
            if _iso(clean[key]) == (current or None):
                del clean[key]
        elif key in STAT_FIELDS:
            if clean[key] == getattr(victim, key):
                del clean[key]
        elif key == "exploitation_purposes":
            if sorted(p.code for p in clean[key]) == sorted(p.code for p in case.purposes):
                del clean[key]
        elif key == "control_methods":
            if clean[key] == case.control_method_list:
                del clean[key]
        elif key in CASE_FIELDS and clean[key] == getattr(case, key):
            del clean[key]
    changed = sorted(k for k in clean if k in UPDATABLE_FIELDS)
    if not changed:
        db.session.rollback()
        return _load(code)
    if victim.erased and any(k in IDENTITY_FIELDS or k == "declined_reasons" for k in clean):
        raise Conflict(_("This victim's identity was erased; it cannot be edited."))
    if clean.get("declined_reasons") and not case.declined_assistance:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors={
            "declined_reasons": _("Reasons for declining apply only when assistance is declined.")})
    _set_identity(victim, clean)
    if any(k in clean for k in ("document_type", "document_number", "given_names", "family_names", "phone")):
        _reindex(victim)
    for key in STAT_FIELDS:
        if key in clean:
            setattr(victim, key, clean[key])
    for key in ("identified_on", "identification_source", "trafficking_scope", "victim_status"):
        if key in clean:
            setattr(case, key, clean[key])
    if "control_methods" in clean:
        case.control_methods = ",".join(clean["control_methods"])
    if "exploitation_purposes" in clean:
        case.purposes = clean["exploitation_purposes"]
    if "declined_reasons" in clean:
        case.declined_reasons = clean["declined_reasons"]
    if is_child and not case.is_child:
        case.is_child = True
        case.child_referral_required = True
    elif not is_child and case.is_child and ("birth_date" in clean or "age_group" in clean or "identified_on" in clean):
        case.is_child = False
    case.updated_at = utcnow()  # bumps the case version even when only the victim changed
    audit.record("case.update", case, actor=actor, detail={"fields": changed})
    _commit()
    return case


TRANSITIONS = {
    "identified": ("in_immediate_assistance", "closed"),
    "in_immediate_assistance": ("in_mediate_assistance", "closed"),
    "in_mediate_assistance": ("closed",),
    "closed": (),
}


def change_status(actor, code: str, status: str, *, version, reason=None, on=None) -> Case:
    """Move a case along identified → in_immediate_assistance → in_mediate_assistance → closed."""
    case = _load(code)
    authz.require(actor, "case.close" if status == "closed" else "case.update", case)
    _check_version(case, version)
    if status not in CASE_STATUSES:
        raise Invalid(_("Choose from the list."), field_errors={"status": _("Choose from the list.")})
    if status not in TRANSITIONS[case.status]:
        raise Conflict(_("The case cannot move from its current status to the one chosen."))
    errors = {}
    when = today()
    if on not in (None, ""):
        when = _check_date(on, errors, "on")
        if when is not None and when < case.identified_on:
            errors["on"] = _("The date cannot be before the identification date.")
    if status == "closed" and reason not in CLOSURE_REASONS:
        errors["reason"] = _("Choose the reason for closing the case.")
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    if status == "in_immediate_assistance":
        if case.active_consent("assistance") is None:
            raise Conflict(_("Assistance needs the victim's consent: record it first."))
        case.intake_on = when
    elif status == "in_mediate_assistance":
        case.intake_on = case.intake_on or when
        case.immediate_closed_on = when
    else:
        case.closed_on, case.closure_reason = when, reason
    previous = case.status
    case.status = status
    audit.record("case.status", case, actor=actor, detail={"from": previous, "to": status, "reason": reason})
    _commit()
    return case


def record_screening(actor, code: str, data: dict, *, version=None) -> IdentificationScreening:
    """Record or correct the identification screening (act, means, purpose; means not required for a child)."""
    case = _load(code)
    authz.require(actor, "case.update", case)
    if not isinstance(data, dict):
        raise Invalid(_("The data must be an object with named fields."))
    errors: dict = {}
    acts = _check_list(data.get("acts", data.get("screening_acts")) or [], errors, "screening_acts")
    means = _check_list(data.get("means", data.get("screening_means")) or [], errors, "screening_means")
    purpose = data.get("purpose_present", data.get("screening_purpose", False))
    purpose = _check_bool(purpose, errors, "screening_purpose") if purpose is not None else False
    if acts is not None and (not acts or any(a not in SCREENING_ACTS for a in acts)):
        errors["screening_acts"] = _("Choose at least one act.") if not acts else _("Choose from the list.")
    if means is not None and any(m not in SCREENING_MEANS for m in means):
        errors["screening_means"] = _("Choose from the list.")
    elif means is not None and not means and not case.is_child:
        errors["screening_means"] = _("Choose at least one means (not required for a child).")
    screened_on = case.identified_on
    if data.get("screened_on") not in (None, ""):
        screened_on = _check_date(data["screened_on"], errors, "screened_on")
    notes = data.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > 4000):
        errors["notes"] = _("At most %(n)s characters.", n=4000)
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    screening = case.screening
    if screening is None:
        screening = IdentificationScreening(case=case, screened_on=screened_on)
        db.session.add(screening)
    else:
        if version is None:
            raise Invalid(_("The record version is missing; reload and try again."))
        _check_version(screening, version)
    screening.acts, screening.means, screening.purpose_present = ",".join(acts), ",".join(means), purpose
    screening.screened_on, screening.screened_by_id = screened_on, actor.id
    if notes is not None:
        if case.victim.erased:
            raise Conflict(_("This victim's identity was erased; it cannot be edited."))
        screening.notes = notes
    audit.record("case.screening", case, actor=actor)
    _commit()
    return screening
