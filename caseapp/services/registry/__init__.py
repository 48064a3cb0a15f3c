"""The case registry: victims and their cases — registration, reading and search, updates, consents, the
purposes-of-exploitation catalogue and erasure. Identity is encrypted under each victim's key and found by blind
indexes; every read and write goes through authz and the access log."""
from caseapp.services.registry.consents import give_consent, sharing_entities, withdraw_consent
from caseapp.services.registry.erasure import (
    ERASURE_REASONS,
    approve_erasure,
    erase_case,
    pending_requests,
    reject_erasure,
    request_erasure,
)
from caseapp.services.registry.fields import (
    CASE_FIELDS,
    COUNTRY_CODES,
    FIELDS,
    IDENTITY_FIELDS,
    STAT_FIELDS,
    age_group_at,
    validate_case_data,
)
from caseapp.services.registry.identity import PossibleDuplicate, find_duplicates
from caseapp.services.registry.places import PLACE_FIELDS, places_of
from caseapp.services.registry.purposes import (
    add_purpose,
    purpose_label,
    purposes_by_code,
    purposes_in_force,
    retire_purpose,
)
from caseapp.services.registry.reading import (
    CASE_PAGE,
    case_summary,
    get_case,
    list_cases,
    search_cases,
    shown_purposes,
)
from caseapp.services.registry.registration import register_case
from caseapp.services.registry.updates import record_screening, update_case

__all__ = [
    "CASE_FIELDS", "CASE_PAGE", "COUNTRY_CODES", "ERASURE_REASONS", "FIELDS", "IDENTITY_FIELDS", "PossibleDuplicate",
    "STAT_FIELDS", "add_purpose", "age_group_at", "approve_erasure", "case_summary", "erase_case",
    "find_duplicates", "get_case", "give_consent", "list_cases", "pending_requests", "purpose_label",
    "purposes_by_code", "purposes_in_force", "record_screening", "register_case", "reject_erasure",
    "request_erasure", "retire_purpose", "search_cases", "sharing_entities", "shown_purposes", "update_case", "validate_case_data",
    "withdraw_consent", "PLACE_FIELDS", "places_of",
]
