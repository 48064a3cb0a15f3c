"""A case's places, coarse and never an address: the municipalities (DIVIPOLA) where she was identified, recruited
and exploited, the destination country of external trafficking, and the HTCDS recruitment method.

Only codes are accepted, so a street, a neighbourhood or a bar's name can never be stored here. Registration and
updates both clean these fields through `validate_case_data` (fields.py), which calls this module.
"""
from __future__ import annotations

from babel import Locale
from flask_babel import gettext as _

from caseapp.models import territory
from caseapp.models.cases import RECRUITMENT_METHODS

MUNICIPALITY_FIELDS = ("identification_municipality", "recruitment_municipality", "exploitation_municipality")
PLACE_FIELDS = (*MUNICIPALITY_FIELDS, "destination_country", "recruitment_method")
# ISO 3166-1 alpha-2 from CLDR (babel), without CLDR's regions and exceptionally reserved codes.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
COUNTRY_CODES = frozenset(
    k for k in Locale.parse("en").territories if len(k) == 2 and k.isalpha() and k not in _NOT_COUNTRIES
)


def clean_place(key: str, value: str) -> tuple[str | None, str | None]:
    """One place field, already stripped and non-blank: (the code to store, or the message saying what to use)."""
    if key in MUNICIPALITY_FIELDS:
        code, error = territory.clean(value, municipality=True)
        return (None, error) if error else (code, None)
    if key == "destination_country":
        code = value.upper()
        if code not in COUNTRY_CODES:
            return None, _("Use a country code of ISO 3166 (two letters, e.g. ES, MX).")
        return code, None
    if value not in RECRUITMENT_METHODS:
        return None, _("Choose from the list.")
    return value, None


def check_destination(clean: dict, errors: dict, context: dict, partial: bool) -> None:
    """The destination country is required for external trafficking and refused for internal trafficking (checked
    when either changes, or at registration)."""
    if "destination_country" in errors or "trafficking_scope" in errors:
        return
    if partial and "destination_country" not in clean and "trafficking_scope" not in clean:
        return
    scope = clean.get("trafficking_scope", context.get("trafficking_scope"))
    country = clean["destination_country"] if "destination_country" in clean else context.get("destination_country")
    if scope == "external" and not country:
        errors["destination_country"] = _("For external trafficking, choose the country of destination.")
    elif scope == "internal" and country:
        errors["destination_country"] = _("A country of destination applies only to external trafficking.")


def apply_places(case, clean: dict) -> None:
    """Write the cleaned place fields that are present (None clears one)."""
    for key in PLACE_FIELDS:
        if key in clean:
            setattr(case, key, clean[key])


def places_of(case) -> dict:
    """The places of a case, for its JSON and screens (codes; labels come from caseapp.labels)."""
    return {key: getattr(case, key) for key in PLACE_FIELDS}
