"""The registry's field catalogue and the validation of a case's data, for registration and updates.

Every field error at once, in Spanish, and nothing written; a field left blank stays blank.
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _

from caseapp.errors import Invalid
from caseapp.models.cases import (
    CONSENT_METHODS,
    CONTROL_METHODS,
    CONTROL_METHODS_FORMER,
    IDENTIFICATION_SOURCES,
    SCREENING_ACTS,
    SCREENING_MEANS,
    TRAFFICKING_SCOPES,
    VICTIM_STATUSES,
)
from caseapp.models.victims import (
    AGE_GROUPS,
    DOCUMENT_TYPES,
    ETHNIC_GROUPS,
    GENDER_IDENTITIES,
    MIGRANT_STATUSES,
    SEXES,
    YES_NO_UNKNOWN,
)
from caseapp.services.primitives import blank
from caseapp.services.registry.places import COUNTRY_CODES, PLACE_FIELDS, check_destination, clean_place
from caseapp.services.registry.purposes import purposes_by_code
from caseapp.timeutil import today

# --- field catalogue ------------------------------------------------------------------------------------

IDENTITY_FIELDS = (
    "given_names", "family_names", "document_type", "document_number", "birth_date", "phone", "address",
    "contact_person", "narrative",
)
# Encrypted like her identity, but its own need-to-know section: her account of events (relato de los hechos).
ACCOUNT_FIELDS = ("narrative",)
STAT_FIELDS = (
    "sex", "gender_identity", "age_group", "nationality", "ethnic_group", "disability", "lgbtiq", "migrant_status",
)
CASE_FIELDS = (
    "identified_on", "identification_source", "exploitation_purposes", "trafficking_scope", "control_methods",
    "victim_status",
) + PLACE_FIELDS
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


def document_number_ok(value: str) -> bool:
    """A document number as any document shows it: letters, digits, spaces, dots and hyphens (a victim's or a
    family member's)."""
    return bool(_DOC_NUMBER.match(value))


def document_number_message() -> str:
    return _("Use only letters, digits, spaces, dots and hyphens.")

CHOICES = {
    "document_type": DOCUMENT_TYPES, "sex": SEXES, "gender_identity": GENDER_IDENTITIES, "age_group": AGE_GROUPS,
    "ethnic_group": ETHNIC_GROUPS, "disability": YES_NO_UNKNOWN, "lgbtiq": YES_NO_UNKNOWN,
    "migrant_status": MIGRANT_STATUSES, "identification_source": IDENTIFICATION_SOURCES,
    "trafficking_scope": TRAFFICKING_SCOPES, "victim_status": VICTIM_STATUSES, "consent_method": CONSENT_METHODS,
}
LIST_CHOICES = {"control_methods": CONTROL_METHODS, "screening_acts": SCREENING_ACTS, "screening_means": SCREENING_MEANS}
DEFAULTS = {
    "document_type": "NONE", "sex": "unknown", "gender_identity": "unknown", "age_group": "unknown",
    "ethnic_group": "unknown", "disability": "unknown", "lgbtiq": "unknown",
    "migrant_status": "unknown", "victim_status": "possible_victim", "consent_assistance": False,
    "consent_data_processing": False, "consent_method": "written", "control_methods": [], "screening_acts": [],
    "screening_means": [], "screening_purpose": False,
}



# --- validation -----------------------------------------------------------------------------------------


def parse_date_text(value) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip())
    raise ValueError(value)


def check_date(value, errors: dict, name: str) -> date | None:
    try:
        parsed = parse_date_text(value)
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


def check_bool(value, errors: dict, name: str) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "y", "on", "false", "0", "no", "n", "off"):
        return value.strip().lower() in ("true", "1", "yes", "y", "on")
    errors[name] = _("Answer yes or no.")
    return None


def check_list(value, errors: dict, name: str) -> list[str] | None:
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
            items = check_list(value, errors, key)
            if items is None:
                continue
            if key == "control_methods":  # a code of the first list counts as its HTCDS code
                items = list(dict.fromkeys(CONTROL_METHODS_FORMER.get(v, v) for v in items))
            if key in LIST_CHOICES and any(v not in LIST_CHOICES[key] for v in items):
                errors[key] = _("Choose from the list.")
                continue
            clean[key] = items
        elif key in ("consent_assistance", "consent_data_processing", "screening_purpose"):
            if value is None:
                continue
            parsed = check_bool(value, errors, key)
            if parsed is not None:
                clean[key] = parsed
        elif key in ("birth_date", "identified_on", "consent_given_on"):
            if blank(value):
                clean[key] = None
                continue
            parsed = check_date(value, errors, key)
            if parsed is not None:
                clean[key] = parsed
        else:
            if blank(value):
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
            if key in PLACE_FIELDS:
                value, error = clean_place(key, value)
                if error:
                    errors[key] = error
                    continue
            if key == "nationality":
                value = value.upper()
                if value not in COUNTRY_CODES:
                    errors[key] = _("Use a country code of ISO 3166 (two letters, e.g. CO, VE).")
                    continue
            if key == "document_number" and not document_number_ok(value):
                errors[key] = document_number_message()
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
        # A nationality left blank stays blank ("no informa"): never a default country.
        for key in ("identification_source", "trafficking_scope", "victim_status", "sex"):
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

    check_destination(clean, errors, context, partial)

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
