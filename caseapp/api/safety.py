"""JSON API v1: safety flags of a case. Which flags are in force travels in the case JSON (`safety_flags`) to every
reader; these endpoints set and clear them and read their history (the owner's professionals)."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import ANY, TEXT, body_of, bp, case_roles, iso
from caseapp.api.openapi import (
    CODE_PARAM,
    READ_ERRORS,
    S_TEXT,
    VERSION,
    enum,
    nullable,
    operation,
    path_param,
)
from caseapp.crypto import ERASED
from caseapp.models.safety import SAFETY_FLAG_KINDS
from caseapp.services import safety


def flag_json(flag, *, reasons: bool = False) -> dict:
    body = {"id": flag.id, "kind": flag.kind, "in_force": flag.cleared_at is None,
            "professional": flag.professional.username if flag.professional else None,
            "set_at": iso(flag.set_at), "cleared_at": iso(flag.cleared_at), "version": flag.version}
    if reasons:
        body["reason"] = None if flag.reason is ERASED else flag.reason
        body["clear_reason"] = None if flag.clear_reason is ERASED else flag.clear_reason
    return body


@bp.get("/cases/<code>/safety-flags")
@case_roles
def list_safety_flags(code):
    _case, rows = safety.flag_history(current_user, code)
    return jsonify(items=[flag_json(f, reasons=True) for f in rows])


@bp.post("/cases/<code>/safety-flags")
@case_roles
def set_safety_flag(code):
    data = body_of({"kind": TEXT, "reason": TEXT, "professional": TEXT})
    flag = safety.set_flag(current_user, code, kind=data.get("kind"), reason=data.get("reason"),
                           professional=data.get("professional"))
    return jsonify(flag_json(flag, reasons=True)), 201


@bp.post("/cases/<code>/safety-flags/<int:flag_id>/clear")
@case_roles
def clear_safety_flag(code, flag_id):
    data = body_of({"reason": TEXT, "version": ANY})
    flag = safety.clear_flag(current_user, code, flag_id, reason=data.get("reason"), version=data.get("version"))
    return jsonify(flag_json(flag, reasons=True))


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "SafetyFlagIn": {"type": "object", "required": ["kind", "reason"], "additionalProperties": False,
                     "properties": {"kind": enum(SAFETY_FLAG_KINDS), "reason": {**S_TEXT, "maxLength": 2000},
                                    "professional": {**S_TEXT, "description": "Username of the professional of the "
                                                     "owning entity (kind contact_only_through)"}}},
    "SafetyFlagClear": {"type": "object", "required": ["reason", "version"], "additionalProperties": False,
                        "properties": {"reason": {**S_TEXT, "maxLength": 2000}, "version": VERSION}},
    "SafetyFlag": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": enum(SAFETY_FLAG_KINDS), "in_force": {"type": "boolean"},
        "professional": nullable(S_TEXT), "set_at": S_TEXT, "cleared_at": nullable(S_TEXT),
        "reason": nullable(S_TEXT), "clear_reason": nullable(S_TEXT), "version": {"type": "integer"}}},
    "SafetyFlags": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/SafetyFlag"}}}},
}

PATHS: dict = {
    "/api/v1/cases/{code}/safety-flags": {
        "parameters": [CODE_PARAM],
        "get": operation("Every safety flag of the case, with reasons (owner's professionals)", "safety",
                         ok="Flags, newest first", schema="SafetyFlags", errors=READ_ERRORS),
        "post": operation("Set a safety flag with its reason (owner's professionals)", "safety",
                          ok="Set", schema="SafetyFlag", body="SafetyFlagIn", status=201)},
    "/api/v1/cases/{code}/safety-flags/{flag_id}/clear": {
        "parameters": [CODE_PARAM, path_param("flag_id", "A safety flag of this case")],
        "post": operation("Clear a safety flag with its reason (with the version read)", "safety",
                          ok="The flag, cleared", schema="SafetyFlag", body="SafetyFlagClear")},
}
