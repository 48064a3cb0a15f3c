"""JSON API v1: the case registry (cases, search, consents, purposes catalogue) over the same services as the web.

Identity never travels in a URL: searches are POSTs. Only case roles (social worker, lawyer) use these endpoints;
coordinators and auditors get 403, a case of another entity is 404.
"""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.api import TEXT, body_of, bp, case_roles, json_body, only
from caseapp.api.openapi import error_responses
from caseapp.errors import Invalid
from caseapp.services import registry as case_service
from caseapp.services import registry as consent_service
from caseapp.services import route
from caseapp.services.primitives import check_once_key
from caseapp.services.registry import ERASURE_REASONS, purposes_in_force
from caseapp.services.route import due_dates
from caseapp.timeutil import today

SEARCH_KEYS = {"document_type", "document_number", "name", "phone", "code"}


def case_json(case) -> dict:
    body = case_service.case_summary(current_user, case)
    dates = due_dates(case)
    body["immediate_due_on"] = _iso(dates.get("immediate_due_on"))
    body["mediate_due_on"] = _iso(dates.get("mediate_due_on"))
    body["safety_flags"] = [f.kind for f in case.safety_flags]  # to every reader, whatever the referral shares
    return body


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def search_item(row) -> dict:
    """A row of the list or of a search (services.registry.listing) as the API shows it: her names only where
    the row carries them (to a reader of her identity)."""
    item = {
        "code": row.code, "status": row.status, "owner_entity": row.owner_code,
        "identified_on": row.identified_on.isoformat(), "linked_on": _iso(row.linked_on),
        "victim_status": row.victim_status, "is_child": row.is_child, "version": row.version,
        "safety_flags": list(row.flags),
    }
    if row.named:
        item["given_names"] = row.given_names
        item["family_names"] = row.family_names
    return item


def consent_json(consent) -> dict:
    return {
        "id": consent.id, "kind": consent.kind, "entity": consent.entity.code if consent.entity else None,
        "method": consent.method, "given_on": consent.given_on.isoformat(),
        "withdrawn_on": _iso(consent.withdrawn_on), "version": consent.version,
    }


@bp.get("/catalogues/exploitation-purposes")
@case_roles
def exploitation_purposes():
    return jsonify([{"code": p.code, "label": p.label_es} for p in purposes_in_force(today())])


@bp.post("/cases")
@case_roles
def create_case():
    body = json_body()
    confirm = body.get("confirm_duplicate", True)
    if not isinstance(confirm, bool):
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"confirm_duplicate": _("Answer yes or no.")})
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        check_once_key(key)
    try:
        case = case_service.register_case(current_user, body, confirm_duplicate=confirm, idempotency_key=key)
    except case_service.PossibleDuplicate as dup:
        return jsonify(error="possible_duplicate", message=dup.message, rule=dup.rule, possible_duplicates=dup.hints,
                       duplicates_withheld=dup.withheld, matched_on=dup.matched_on), 409
    sent = case.child_referral  # a child's case: the mandatory ICBF referral went with the registration
    response = jsonify(code=case.code, version=case.version, possible_duplicates=case.possible_duplicates,
                       duplicates_withheld=case.duplicates_withheld,
                       mandatory_referral={"id": sent.id, "to_entity": sent.to_entity.code} if sent else None)
    response.headers["Location"] = url_for("api.get_case", code=case.code)
    # A retried request with the same Idempotency-Key answers the case it created the first time.
    return response, 200 if case.replayed else 201


@bp.get("/cases")
@case_roles
def list_cases():
    rows, next_cursor = case_service.list_cases(
        current_user, cursor=request.args.get("cursor"), status=request.args.get("status") or None,
        limit=request.args.get("limit", 50),
    )
    return jsonify(items=[search_item(c) for c in rows], next_cursor=next_cursor)


@bp.post("/cases/search")
@case_roles
def search_cases():
    body = json_body()
    only(body, SEARCH_KEYS)
    if any(v is not None and not isinstance(v, str) for v in body.values()):
        raise Invalid(_("Search by one thing: document, full name, phone or case code."),
                      field_errors={k: _("Enter text.") for k, v in body.items() if v is not None and not isinstance(v, str)})
    found = case_service.search_cases(current_user, **body)
    return jsonify(items=[search_item(c) for c in found])


@bp.get("/cases/<code>")
@case_roles
def get_case(code):
    return jsonify(case_service.get_case(current_user, code, draw=case_json))  # drawn, then logged: one transaction


@bp.patch("/cases/<code>")
@case_roles
def update_case(code):
    body = json_body()
    version = body.get("version")
    data = {k: v for k, v in body.items() if k != "version"}
    case = case_service.update_case(current_user, code, data, version=version)
    return jsonify(case_json(case))


@bp.post("/cases/<code>/status")
@case_roles
def change_status(code):
    body = json_body()
    only(body, {"status", "version", "reason", "on", "note", "complaint_on", "acta_on", "acta_summary"})
    case = route.change_status(current_user, code, body.get("status"), version=body.get("version"),
                               reason=body.get("reason"), on=body.get("on"), note=body.get("note"),
                               complaint_on=body.get("complaint_on"), acta_on=body.get("acta_on"),
                               acta_summary=body.get("acta_summary"))
    return jsonify(case_json(case))


@bp.post("/cases/<code>/screening")
@case_roles
def record_screening(code):
    body = json_body()
    only(body, {"acts", "means", "purpose_present", "screened_on", "notes", "version"})
    version = body.pop("version", None)
    screening = case_service.record_screening(current_user, code, body, version=version)
    return jsonify(acts=[a for a in screening.acts.split(",") if a], means=[m for m in screening.means.split(",") if m],
                   purpose_present=screening.purpose_present, screened_on=screening.screened_on.isoformat(),
                   version=screening.version)


@bp.post("/cases/<code>/consents")
@case_roles
def give_consent(code):
    body = json_body()
    only(body, {"kind", "entity", "method", "given_on", "representative"})
    consent = consent_service.give_consent(
        current_user, code, body.get("kind"), method=body.get("method", "written"),
        given_on=body.get("given_on", today().isoformat()), entity_code=body.get("entity"),
        representative=body.get("representative"),
    )
    return jsonify(consent_json(consent)), 201


@bp.post("/cases/<code>/consents/<int:consent_id>/withdraw")
@case_roles
def withdraw_consent(code, consent_id):
    body = json_body()
    only(body, {"version", "on"})
    consent = consent_service.withdraw_consent(current_user, code, consent_id, version=body.get("version"),
                                               on=body.get("on"))
    return jsonify(consent_json(consent))


@bp.post("/cases/<code>/erasure-requests")
@case_roles
def request_erasure(code):
    body = body_of({"reason": TEXT})
    row = case_service.request_erasure(current_user, code, body.get("reason"))
    return jsonify(id=row.id, case=row.case.code, reason=row.reason, status=row.status,
                   requested_at=row.requested_at.isoformat()), 201


# --- OpenAPI ------------------------------------------------------------------------------------------------

_CODE_PARAM = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "Case code ENTITY-YEAR-NNNNN"}


def _json(ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def _schemas() -> dict:
    from caseapp.models.cases import (
        CLOSURE_REASONS,
        CONSENT_KINDS,
        CONSENT_METHODS,
        CONTROL_METHODS,
        IDENTIFICATION_SOURCES,
        RECRUITMENT_METHODS,
        SCREENING_ACTS,
        SCREENING_MEANS,
        TRAFFICKING_SCOPES,
        VICTIM_STATUSES,
    )
    from caseapp.models.route import REOPEN_REASONS
    from caseapp.models.victims import (
        AGE_GROUPS,
        DOCUMENT_TYPES,
        ETHNIC_GROUPS,
        GENDER_IDENTITIES,
        MIGRANT_STATUSES,
        SEXES,
        YES_NO_UNKNOWN,
    )
    text = {"type": "string"}
    date = {"type": "string", "format": "date"}
    case_props = {
        "given_names": {**text, "maxLength": 200}, "family_names": {**text, "maxLength": 200},
        "document_type": _enum(DOCUMENT_TYPES), "document_number": {**text, "maxLength": 40},
        "birth_date": date, "phone": {**text, "maxLength": 40}, "address": {**text, "maxLength": 300},
        "contact_person": {**text, "maxLength": 300}, "narrative": {**text, "maxLength": 4000},
        "sex": _enum(SEXES), "gender_identity": _enum(GENDER_IDENTITIES),
        "age_group": {**_enum(AGE_GROUPS), "description": "Derived from birth_date when one is given"},
        "nationality": {**text, "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"},
        "ethnic_group": _enum(ETHNIC_GROUPS), "disability": _enum(YES_NO_UNKNOWN), "lgbtiq": _enum(YES_NO_UNKNOWN),
        "migrant_status": _enum(MIGRANT_STATUSES), "identified_on": date,
        "identification_source": _enum(IDENTIFICATION_SOURCES),
        "exploitation_purposes": {"type": "array", "items": text,
                                  "description": "Codes from /api/v1/catalogues/exploitation-purposes"},
        "trafficking_scope": _enum(TRAFFICKING_SCOPES),
        "control_methods": {"type": "array", "items": _enum(CONTROL_METHODS)},
        "victim_status": _enum(VICTIM_STATUSES),
        # Places: codes only, never an address.
        **{f"{where}_municipality": {**text, "pattern": "^[0-9]{5}$", "description": "DIVIPOLA (DANE) code"}
           for where in ("identification", "recruitment", "exploitation")},
        "destination_country": {**text, "pattern": "^[A-Z]{2}$", "description":
                                "ISO 3166-1 alpha-2; required when trafficking_scope is external, refused when internal"},
        "recruitment_method": _enum(RECRUITMENT_METHODS),
    }
    new_case = {
        "type": "object",
        "required": ["given_names", "identified_on", "identification_source", "trafficking_scope",
                     "exploitation_purposes"],
        "additionalProperties": False,
        "properties": {
            **case_props,
            "consent_assistance": {"type": "boolean"}, "consent_data_processing": {"type": "boolean"},
            "consent_method": _enum(CONSENT_METHODS), "consent_given_on": date,
            "declined_reasons": {**text, "maxLength": 2000},
            "representative": {**text, "maxLength": 200, "description": "Required for a child"},
            "screening_acts": {"type": "array", "items": _enum(SCREENING_ACTS)},
            "screening_means": {"type": "array", "items": _enum(SCREENING_MEANS)},
            "screening_purpose": {"type": "boolean"},
            "confirm_duplicate": {"type": "boolean", "default": True,
                                  "description": "false: answer 409 instead of registering a possible duplicate"},
            "lawyer": {**text, "description": "Username of an active lawyer of the registering entity, assigned to "
                                              "the case with the registering social worker (optional)"},
        },
    }
    hint = {"type": "object", "properties": {"entity_code": text, "entity_name": text, "case_code": text}}
    return {
        "NewCase": new_case,
        "CaseUpdate": {"type": "object", "required": ["version"], "additionalProperties": False,
                       "properties": {**case_props, "declined_reasons": {**text, "maxLength": 2000},
                                      "version": {"type": "integer"}}},
        "CaseCreated": {"type": "object", "required": ["code"], "properties": {
            "code": text, "version": {"type": "integer"},
            "possible_duplicates": {"type": "array", "items": hint},
            "duplicates_withheld": {"type": "boolean", "description": "Another entity may hold a case, but the "
                                    "user had her day's share of hints that name it"},
            "mandatory_referral": {"type": ["object", "null"], "description": "A child's case: the mandatory "
                                   "referral to the child-protection authority, sent with the registration",
                                   "properties": {"id": {"type": "integer"}, "to_entity": text}}}},
        "Purpose": {"type": "object", "properties": {"code": text, "label": text}},
        "CaseSearch": {"type": "object", "additionalProperties": False,
                       "description": "Exactly one of: document_type + document_number, name, phone, code",
                       "properties": {"document_type": _enum(DOCUMENT_TYPES), "document_number": text,
                                      "name": text, "phone": text, "code": text}},
        "CaseItem": {"type": "object", "properties": {
            "code": text, "status": text, "owner_entity": text, "identified_on": date, "linked_on": date,
            "victim_status": text, "is_child": {"type": "boolean"}, "version": {"type": "integer"},
            "given_names": text, "family_names": text}},
        "CaseList": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/CaseItem"}},
            "next_cursor": {"type": ["integer", "null"]}}},
        "Case": {"type": "object", "required": ["code", "status", "version"], "properties": {
            "code": text, "status": text, "version": {"type": "integer"}, "owner_entity": text,
            "identified_on": date, "linked_on": date, "is_child": {"type": "boolean"},
            "child_referral_required": {"type": "boolean"}, "immediate_due_on": date, "mediate_due_on": date,
            "identity": {"type": "object", "description": "Only for users who may see identity"},
            "consents": {"type": "array", "items": {"$ref": "#/components/schemas/Consent"},
                         "description": "All of them for the owning entity; for a receiving entity, those to "
                                        "assistance and data processing and her consent to share with that entity "
                                        "only"}}},
        "StatusChange": {
            "type": "object", "required": ["status", "version"], "additionalProperties": False,
            "description": "One move of the case lifecycle; each refusal names its rule (409 or 422, `rule`).",
            "properties": {
                "status": _enum(("in_immediate_assistance", "in_mediate_assistance", "closed", "reopened")),
                "version": {"type": "integer"},
                "on": {**date, "description": "When the move happened (default today)"},
                "reason": {**text, "description": f"A code, never free text: closed: one of "
                                                  f"{', '.join(CLOSURE_REASONS)}; reopened: one of "
                                                  f"{', '.join(REOPEN_REASONS)} (422 with its rule otherwise)"},
                "note": {**text, "description": "closed or reopened: an optional note, encrypted under the "
                                                "victim's key with the closure record"},
                "complaint_on": {**date, "description": "in_mediate_assistance: the criminal complaint's date "
                                                        "(or the one recorded in the legal follow-up)"},
                "acta_on": {**date, "description": "in_mediate_assistance: the acta única's date (required)"},
                "acta_summary": text}},
        "ScreeningIn": {
            "type": "object", "required": ["acts", "version"], "additionalProperties": False,
            "description": "Records or corrects the screening. `version`: 0 for the first screening of the case, "
                           "then the version answered (409 stale_version if someone changed it meanwhile).",
            "properties": {
                "acts": {"type": "array", "items": _enum(SCREENING_ACTS)},
                "means": {"type": "array", "items": _enum(SCREENING_MEANS), "description": "Not required for a child"},
                "purpose_present": {"type": "boolean"}, "screened_on": date, "notes": {**text, "maxLength": 4000},
                "version": {"type": "integer", "description": "0 for the first screening"}}},
        "Screening": {"type": "object", "properties": {
            "acts": {"type": "array", "items": _enum(SCREENING_ACTS)},
            "means": {"type": "array", "items": _enum(SCREENING_MEANS)},
            "purpose_present": {"type": "boolean"}, "screened_on": date,
            "version": {"type": "integer", "description": "Send it back to correct the screening"}}},
        "ErasureRequestIn": {"type": "object", "required": ["reason"], "additionalProperties": False,
                             "properties": {"reason": _enum(ERASURE_REASONS)}},
        "ErasureRequest": {"type": "object", "properties": {
            "id": {"type": "integer"}, "case": text, "reason": _enum(ERASURE_REASONS),
            "status": _enum(("pending", "approved", "rejected")), "requested_at": {**text, "format": "date-time"}}},
        "NewConsent": {"type": "object", "required": ["kind"], "additionalProperties": False, "properties": {
            "kind": _enum(CONSENT_KINDS), "entity": {**text, "description": "Entity code, for sharing"},
            "method": _enum(CONSENT_METHODS), "given_on": date,
            "representative": {**text, "description": "Required for a child"}}},
        "Consent": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": text, "entity": text, "method": text, "given_on": date,
            "withdrawn_on": date, "version": {"type": "integer"}}},
        "ConsentWithdrawal": {"type": "object", "required": ["version"], "additionalProperties": False,
                              "properties": {"version": {"type": "integer"}, "on": date}},
    }


SCHEMAS: dict = _schemas()

PATHS: dict = {
    "/api/v1/catalogues/exploitation-purposes": {"get": {
        "summary": "Purposes of exploitation in force today (Spanish labels)", "tags": ["cases"],
        "responses": {"200": {"description": "Purposes", "content": {"application/json": {"schema": {
            "type": "array", "items": {"$ref": "#/components/schemas/Purpose"}}}}}, **error_responses(401, 403)}}},
    "/api/v1/cases": {
        "post": {"summary": "Register a victim and her case", "tags": ["cases"],
                 "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                 "description": "Retrying with the same key answers the case already created (200).",
                                 "schema": {"type": "string", "minLength": 8, "maxLength": 128}}],
                 "requestBody": {"required": True, **_json("NewCase")},
                 "responses": {"201": {"description": "Registered", **_json("CaseCreated")},
                               "200": {"description": "Already registered with this Idempotency-Key",
                                       **_json("CaseCreated")},
                               **error_responses(400, 401, 403, 409, 422)}},
        "get": {"summary": "List the cases the caller may see, newest first (keyset pagination)", "tags": ["cases"],
                "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "integer"}},
                               {"name": "status", "in": "query", "schema": {"type": "string"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}}],
                "responses": {"200": {"description": "A page", **_json("CaseList")}, **error_responses(401, 403, 422)}},
    },
    "/api/v1/cases/search": {"post": {
        "summary": "Exact search by document, full name, phone or case code (a POST: identity never in a URL)",
        "tags": ["cases"], "requestBody": {"required": True, **_json("CaseSearch")},
        "responses": {"200": {"description": "Matches", **_json("CaseList")}, **error_responses(400, 401, 403, 422)}}},
    "/api/v1/cases/{code}": {
        "parameters": [_CODE_PARAM],
        "get": {"summary": "A case (sections the caller may see)", "tags": ["cases"],
                "responses": {"200": {"description": "The case", **_json("Case")}, **error_responses(401, 403, 404)}},
        "patch": {"summary": "Change some fields (with the version read)", "tags": ["cases"],
                  "requestBody": {"required": True, **_json("CaseUpdate")},
                  "responses": {"200": {"description": "Updated", **_json("Case")},
                                **error_responses(400, 401, 403, 404, 409, 422)}},
    },
    "/api/v1/cases/{code}/status": {"parameters": [_CODE_PARAM], "post": {
        "summary": "Move the case to its next status (closing needs a reason)", "tags": ["cases"],
        "requestBody": {"required": True, **_json("StatusChange")},
        "responses": {"200": {"description": "Updated", **_json("Case")},
                      **error_responses(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/screening": {"parameters": [_CODE_PARAM], "post": {
        "summary": "Record the identification screening (Palermo elements)", "tags": ["cases"],
        "requestBody": {"required": True, **_json("ScreeningIn")},
        "responses": {"200": {"description": "Recorded", **_json("Screening")},
                      **error_responses(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/consents": {"parameters": [_CODE_PARAM], "post": {
        "summary": "Record a consent (assistance, data processing, sharing with an entity)", "tags": ["cases"],
        "requestBody": {"required": True, **_json("NewConsent")},
        "responses": {"201": {"description": "Recorded", **_json("Consent")},
                      **error_responses(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/erasure-requests": {"parameters": [_CODE_PARAM], "post": {
        "summary": "Ask an administrator to erase the victim's identity (crypto-shredding; statistics stay)",
        "tags": ["cases"], "requestBody": {"required": True, **_json("ErasureRequestIn")},
        "responses": {"201": {"description": "Requested: an administrator (another person) decides",
                              **_json("ErasureRequest")},
                      **error_responses(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/consents/{consent_id}/withdraw": {
        "parameters": [_CODE_PARAM, {"name": "consent_id", "in": "path", "required": True,
                                     "schema": {"type": "integer"}}],
        "post": {"summary": "Withdraw a consent (kept as proof)", "tags": ["cases"],
                 "requestBody": {"required": True, **_json("ConsentWithdrawal")},
                 "responses": {"200": {"description": "Withdrawn", **_json("Consent")},
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
}
