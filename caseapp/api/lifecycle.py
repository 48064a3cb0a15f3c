"""JSON API v1: the moves of a case's route — closing the immediate phase (mediate assistance starts), extending a
phase, closing the case and reopening it — and sending the mandatory ICBF referral of a child when it is missing.

Each endpoint calls ONE function of services.route (the case lifecycle, where every rule is checked once, whatever
the path) or services.referrals, and serialises what it returns. A refusal names its rule (`rule`): 409 when the
case's state does not allow the move, 422 when the request is incomplete or wrong. POST /cases/{code}/status
reaches the same lifecycle with one body for every move.
"""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import ANY, BOOLEAN, DATE, INTEGER, TEXT, body_of, bp, case_roles, iso
from caseapp.api.cases import case_json
from caseapp.api.openapi import (
    CODE_PARAM,
    S_BOOLEAN,
    S_DATE,
    S_TEXT,
    VERSION,
    enum,
    nullable,
    operation,
    ref,
)
from caseapp.api.referrals import referral_json
from caseapp.models.cases import CASE_STATUSES, CLOSURE_REASONS
from caseapp.models.route import PHASES, REOPEN_REASONS
from caseapp.services import referrals, route


def closure_json(closure) -> dict:
    # Its note is kept with the closure record; like the route page, the API does not show it.
    ended = getattr(closure, "ended_stay", None)
    return {"id": closure.id, "closed_on": iso(closure.closed_on), "reason": closure.reason,
            "status_before": closure.status_before, "reopened_on": iso(closure.reopened_on),
            "reopen_reason": closure.reopen_code,
            "ended_stay": ended.id if ended is not None else None}


def extension_json(ext, *, with_reason: bool) -> dict:
    body = {"id": ext.id, "phase": ext.phase, "extra_days": ext.extra_days, "extra_months": ext.extra_months,
            "decided_on": iso(ext.decided_on), "decided_by": ext.decided_by,
            "reported_to_secretariat": ext.reported_to_secretariat, "version": ext.version}
    if with_reason:
        body["reason"] = ext.reason
    return body


@bp.post("/cases/<code>/immediate/close")
@case_roles
def close_immediate(code):
    data = body_of({"closed_on": DATE, "complaint_on": DATE, "acta_on": DATE, "acta_summary": TEXT, "version": ANY})
    case = route.close_immediate(current_user, code, version=data.get("version"), closed_on=data.get("closed_on"),
                                 complaint_on=data.get("complaint_on"), acta_on=data.get("acta_on"),
                                 acta_summary=data.get("acta_summary"))
    return jsonify(case_json(case))


@bp.post("/cases/<code>/extensions")
@case_roles
def extend_phase(code):
    data = body_of({"phase": TEXT, "amount": INTEGER, "reason": TEXT, "decided_by": TEXT, "decided_on": DATE,
                    "reported": BOOLEAN, "version": ANY})
    ext = route.extend_phase(current_user, code, version=data.get("version"), phase=data.get("phase"),
                             amount=data.get("amount"), reason=data.get("reason"), decided_by=data.get("decided_by"),
                             decided_on=data.get("decided_on"), reported=data.get("reported") or False)
    body = extension_json(ext, with_reason=True)  # the author wrote it: she may read it back
    body["due_dates"] = {k: iso(v) for k, v in route.due_dates(ext.case).items()}
    return jsonify(body), 201


@bp.post("/cases/<code>/closure")
@case_roles
def close_case(code):
    data = body_of({"reason": TEXT, "closed_on": DATE, "note": TEXT, "version": ANY})
    closure = route.close_case(current_user, code, reason=data.get("reason"), closed_on=data.get("closed_on"),
                               note=data.get("note"), version=data.get("version"))
    return jsonify(case=case_json(closure.case), closure=closure_json(closure))


@bp.post("/cases/<code>/reopen")
@case_roles
def reopen_case(code):
    data = body_of({"reason": TEXT, "reopened_on": DATE, "note": TEXT, "version": ANY})
    case = route.reopen_case(current_user, code, reason=data.get("reason"), reopened_on=data.get("reopened_on"),
                             note=data.get("note"), version=data.get("version"))
    return jsonify(case_json(case))


@bp.post("/cases/<code>/child-referral")
@case_roles
def send_child_referral(code):
    body_of({}, empty_ok=True)
    referral = referrals.send_child_referral(current_user, code)
    return jsonify(referral_json(referral)), 201


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "CloseImmediateIn": {
        "type": "object", "required": ["version"], "additionalProperties": False,
        "description": "Decree 1066 of 2015: mediate assistance starts from the criminal complaint and the acta "
                       "única. Without either date (given here or recorded before) the answer is 422 with rule "
                       "complaint_required or acta_required.",
        "properties": {
            "closed_on": {**S_DATE, "description": "End of immediate assistance (default today)"},
            "complaint_on": {**S_DATE, "description": "Default: the complaint date of the legal follow-up"},
            "acta_on": {**S_DATE, "description": "When the acta única was signed"},
            "acta_summary": {**S_TEXT, "maxLength": 4000, "description": "Objectives and commitments agreed"},
            "version": VERSION}},
    "ExtensionIn": {
        "type": "object", "required": ["phase", "amount", "reason", "decided_by", "version"],
        "additionalProperties": False,
        "description": "One extension per phase, of the phase the case is in, within the rule in force on its "
                       "intake date. `version`: the case's.",
        "properties": {
            "phase": enum(PHASES), "amount": {"type": "integer", "minimum": 1,
                                              "description": "Days (immediate) or months (mediate)"},
            "reason": S_TEXT, "decided_by": {**S_TEXT, "maxLength": 200},
            "decided_on": {**S_DATE, "description": "Default today"},
            "reported": {**S_BOOLEAN, "description": "Reported to the committee's technical secretariat"},
            "version": VERSION}},
    "Extension": {"type": "object", "properties": {
        "id": {"type": "integer"}, "phase": enum(PHASES), "extra_days": {"type": "integer"},
        "extra_months": {"type": "integer"}, "decided_on": S_DATE, "decided_by": S_TEXT,
        "reported_to_secretariat": S_BOOLEAN, "reason": nullable(S_TEXT),
        "version": {"type": "integer"},
        "due_dates": {"type": "object", "properties": {"immediate_due_on": nullable(S_DATE),
                                                       "mediate_due_on": nullable(S_DATE)}}}},
    "ClosureIn": {
        "type": "object", "required": ["reason", "version"], "additionalProperties": False,
        "description": "Refused while a referral waits for an answer (409 referrals_pending, child_referral_pending),"
                       " when a child's mandatory referral was never sent (409 child_referral_missing) and, by the "
                       "deployment's setting, while she is lodged in a shelter (409 shelter_stay_open).",
        "properties": {"reason": enum(CLOSURE_REASONS), "closed_on": {**S_DATE, "description": "Default today"},
                       "note": {**S_TEXT, "maxLength": 2000}, "version": VERSION}},
    "Closure": {"type": "object", "properties": {
        "id": {"type": "integer"}, "closed_on": S_DATE, "reason": enum(CLOSURE_REASONS),
        "status_before": enum(CASE_STATUSES), "reopened_on": nullable(S_DATE),
        "reopen_reason": {"type": ["string", "null"], "enum": [*REOPEN_REASONS, None],
                          "description": "Why it was reopened (a code); its note is not shown"},
        "ended_stay": {"type": ["integer", "null"], "description": "The shelter stay this closure ended, if any"}}},
    "ClosureResult": {"type": "object", "properties": {"case": ref("Case"), "closure": ref("Closure")}},
    "ReopenIn": {"type": "object", "required": ["reason", "version"], "additionalProperties": False,
                 "description": "`reason` is a code (422 reopen_reason_required otherwise); what is said about "
                                "her goes in `note`, encrypted under her key and never in the access log.",
                 "properties": {"reason": enum(REOPEN_REASONS),
                                "note": {**S_TEXT, "maxLength": 4000, "description": "Optional note"},
                                "reopened_on": {**S_DATE, "description": "Default today"}, "version": VERSION}},
}

PATHS: dict = {
    "/api/v1/cases/{code}/immediate/close": {
        "parameters": [CODE_PARAM],
        "post": operation("Close the immediate phase: mediate assistance starts (complaint and acta única)",
                          "lifecycle", ok="The case in mediate assistance", schema="Case", body="CloseImmediateIn")},
    "/api/v1/cases/{code}/extensions": {
        "parameters": [CODE_PARAM],
        "post": operation("Extend the phase the case is in (once per phase, within the rule)", "lifecycle",
                          ok="Recorded, with the new due dates", schema="Extension", body="ExtensionIn",
                          status=201)},
    "/api/v1/cases/{code}/closure": {
        "parameters": [CODE_PARAM],
        "post": operation("Close the case with its reason (social workers of the owning entity)", "lifecycle",
                          ok="The case, closed, and its closure record", schema="ClosureResult", body="ClosureIn")},
    "/api/v1/cases/{code}/reopen": {
        "parameters": [CODE_PARAM],
        "post": operation("Reopen a closed case into the phase it was closed from (its closure stays in the "
                          "history)", "lifecycle", ok="The case, reopened", schema="Case", body="ReopenIn")},
    "/api/v1/cases/{code}/child-referral": {
        "parameters": [CODE_PARAM],
        "post": operation("Send the mandatory referral of a child victim to the child-protection authority (ICBF) "
                          "when it is missing", "referrals", ok="Sent", schema="Referral", status=201,
                          description="No body (or {}). 409 child_referral_exists when it was sent already or no "
                                      "child-protection entity is active.")},
}
