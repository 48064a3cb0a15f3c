"""JSON API v1: referrals between entities (same services and permission rules as the web)."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user

from caseapp import authz
from caseapp.api import ANY, DATE, TEXT, body_of, bp
from caseapp.api.openapi import error_responses
from caseapp.models.referrals import REFERRAL_STATUSES, SHARED_SECTIONS
from caseapp.models.safety import SAFETY_FLAG_KINDS
from caseapp.services import referrals as service


def _referral_json(r, overdue: bool | None = None) -> dict:
    body = {
        "id": r.id, "case": r.case.code, "from_entity": r.from_entity.code, "to_entity": r.to_entity.code,
        "service": r.service, "status": r.status, "mandatory": r.mandatory, "shared_sections": sorted(r.sections),
        "due_on": r.due_on.isoformat() if r.due_on else None, "version": r.version,
        "step": r.step_id, "access_ended_on": r.access_ended_on.isoformat() if r.access_ended_on else None,
        # a flag travels with an open referral, a sent one included: the receiver knows before she accepts (lists
        # load them with the page, services.safety.flags_with_cases); authz.referral_carries_flags says when
        "safety_flags": [f.kind for f in r.case.safety_flags] if authz.referral_carries_flags(current_user, r)
        else [],
    }
    if overdue is not None:
        body["overdue"] = overdue
    return body


referral_json = _referral_json  # for the other areas (the route overview, the child referral)


API_PAGE = 500  # referrals a page of the API's list carries (the list was cut there before it had pages)


@bp.route("/referrals", methods=["GET"])
def list_referrals():
    """A page of the list, the earliest due first; the whole count in X-Total-Count and the next page, while there
    is one, in a Link header (rel="next"), which starts after this page's last referral (`after`), so that a client
    walking the list misses none that others answer meanwhile: the body stays the array it always was. `page`
    (from 1) counts by position instead."""
    direction = request.args.get("direction", "incoming")
    status = request.args.get("status") or None
    shown = service.inbox(current_user, direction, status, page=request.args.get("page", 1),
                          after=request.args.get("after"), per_page=API_PAGE)
    response = jsonify([_referral_json(row.referral, row.overdue) for row in shown.rows])
    response.headers["X-Total-Count"] = str(shown.total)
    if shown.next_after is not None:
        following = url_for(".list_referrals", direction=direction, status=status, after=shown.next_after)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


@bp.route("/referrals", methods=["POST"])
def send_referral():
    data = body_of({"case": TEXT, "to_entity": TEXT, "service": TEXT, "reason": TEXT, "sections": ANY,
                    "due_on": DATE})
    referral = service.send(current_user, data.get("case") or "", to_entity=data.get("to_entity"),
                            service=data.get("service"), reason=data.get("reason"),
                            sections=data.get("sections"), due_on=data.get("due_on"))
    return jsonify({"id": referral.id}), 201


@bp.route("/referrals/<int:referral_id>", methods=["GET"])
def referral_detail(referral_id):
    return jsonify(_referral_json(service.view_referral(current_user, referral_id)))


ANSWER_FIELDS = {"version": ANY, "note": TEXT, "reason": TEXT, "done_on": DATE}


def _answer_body() -> dict:
    return body_of(ANSWER_FIELDS, empty_ok=True)


@bp.route("/referrals/<int:referral_id>/accept", methods=["POST"])
def accept_referral(referral_id):
    data = _answer_body()
    r = service.accept(current_user, referral_id, version=data.get("version"), note=data.get("note"))
    return jsonify(_referral_json(r))


@bp.route("/referrals/<int:referral_id>/reject", methods=["POST"])
def reject_referral(referral_id):
    data = _answer_body()
    r = service.reject(current_user, referral_id, version=data.get("version"), reason=data.get("reason"))
    return jsonify(_referral_json(r))


@bp.route("/referrals/<int:referral_id>/complete", methods=["POST"])
def complete_referral(referral_id):
    data = _answer_body()
    r = service.complete(current_user, referral_id, version=data.get("version"), done_on=data.get("done_on"),
                         note=data.get("note"))
    return jsonify(_referral_json(r))


@bp.route("/referrals/<int:referral_id>/service", methods=["POST"])
def record_referral_service(referral_id):
    data = body_of({"version": ANY, "status": TEXT, "planned_on": DATE, "done_on": DATE, "notes": TEXT,
                    "not_provided_reason": TEXT})
    r = service.record_service(current_user, referral_id, version=data.get("version"),
                               status=data.get("status") or "done", planned_on=data.get("planned_on"),
                               done_on=data.get("done_on"), notes=data.get("notes"),
                               not_provided_reason=data.get("not_provided_reason"))
    return jsonify(_referral_json(r))


@bp.route("/referrals/<int:referral_id>/withdraw", methods=["POST"])
def withdraw_referral(referral_id):
    data = _answer_body()
    r = service.withdraw(current_user, referral_id, version=data.get("version"), reason=data.get("reason"))
    return jsonify(_referral_json(r))


SCHEMAS: dict = {
    "ReferralIn": {"type": "object", "required": ["case", "to_entity", "service", "reason"],
                   "additionalProperties": False, "properties": {
        "case": {"type": "string", "description": "Case code"},
        "to_entity": {"type": "string", "description": "Entity code"},
        "service": {"type": "string", "description": "A step-kind code"},
        "reason": {"type": "string"},
        "sections": {"type": "array", "items": {"type": "string",
                                                "enum": list(SHARED_SECTIONS)},
                     "default": ["summary"]},
        "due_on": {"type": "string", "format": "date"}}},
    "Referral": {"type": "object", "properties": {
        "id": {"type": "integer"}, "case": {"type": "string"}, "from_entity": {"type": "string"},
        "to_entity": {"type": "string"}, "service": {"type": "string"},
        "status": {"type": "string", "enum": list(REFERRAL_STATUSES)},
        "step": {"type": ["integer", "null"], "description": "The step that recorded the service (when done)"},
        "access_ended_on": {"type": ["string", "null"], "format": "date",
                            "description": "When the receiving entity's access ended"},
        "mandatory": {"type": "boolean"}, "shared_sections": {"type": "array", "items": {"type": "string"}},
        "due_on": {"type": ["string", "null"], "format": "date"}, "overdue": {"type": "boolean"},
        "version": {"type": "integer"},
        "safety_flags": {"type": "array", "items": {"type": "string", "enum": list(SAFETY_FLAG_KINDS)},
                         "description": "The case's safety flags in force (never their reasons), whatever the "
                                        "referral's sections: while it is sent or accepted, and to the owning "
                                        "entity; empty once it ended for its receiver"}}},
    "ReferralAnswer": {"type": "object", "required": ["version"], "additionalProperties": False, "properties": {
        "version": {"type": "integer", "description": "The version read: the answer is refused if it changed"},
        "note": {"type": "string"}, "reason": {"type": "string", "description": "Required to reject"},
        "done_on": {"type": "string", "format": "date", "description": "complete: when the service was given"}}},
    "ReferralService": {"type": "object", "required": ["version"], "additionalProperties": False, "properties": {
        "version": {"type": "integer"},
        "status": {"type": "string", "enum": ["planned", "in_progress", "done", "not_provided"], "default": "done"},
        "planned_on": {"type": "string", "format": "date"}, "done_on": {"type": "string", "format": "date"},
        "notes": {"type": "string"}, "not_provided_reason": {"type": "string"}}},
}

_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Referral"}}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _action(summary: str) -> dict:
    return {"parameters": [_ID], "post": {
        "summary": summary, "tags": ["referrals"],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ReferralAnswer"}}}},
        "responses": {"200": {"description": "The referral after the change", "content": _REF},
                      **error_responses(401, 403, 404, 409, 422)}}}


PATHS: dict = {
    "/api/v1/referrals": {
        "get": {"summary": "Referrals of the user's entity", "tags": ["referrals"],
                "parameters": [{"name": "direction", "in": "query", "schema": {
                    "type": "string", "enum": ["incoming", "outgoing"], "default": "incoming"}},
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                    {"name": "after", "in": "query", "schema": {"type": "string"},
                     "description": "The page after the one that ended there: follow the Link header"},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1},
                     "description": "500 referrals a page, the earliest due first, counted by position; past the "
                                    "last, the last"}],
                "responses": {"200": {"description": "Referrals with due dates and overdue flag",
                                      "headers": {
                                          "X-Total-Count": {"schema": {"type": "integer"},
                                                            "description": "The referrals of the list, all pages"},
                                          "Link": {"schema": {"type": "string"},
                                                   "description": 'The next page (rel="next"), while there is one'}},
                                      "content": {"application/json": {"schema": {
                                          "type": "array", "items": {"$ref": "#/components/schemas/Referral"}}}}},
                              **error_responses(401, 403, 422)}},
        "post": {"summary": "Refer a case to another entity (needs the victim's sharing consent)",
                 "tags": ["referrals"],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/ReferralIn"}}}},
                 "responses": {"201": {"description": "Sent", "content": {"application/json": {"schema": {
                     "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}}}},
                     **error_responses(401, 403, 404, 409, 422)}}},
    "/api/v1/referrals/{id}": {"parameters": [_ID], "get": {
        "summary": "One referral (sender or receiver)", "tags": ["referrals"],
        "responses": {"200": {"description": "The referral", "content": _REF}, **error_responses(401, 404)}}},
    "/api/v1/referrals/{id}/accept": _action("Accept (receiving entity): the shared sections become visible"),
    "/api/v1/referrals/{id}/reject": _action("Reject with a reason (receiving entity)"),
    "/api/v1/referrals/{id}/complete": _action("The service was given: record its step as done and close the referral "
                                               "(receiving entity)"),
    "/api/v1/referrals/{id}/service": {"parameters": [_ID], "post": {
        "summary": "Record the service asked for, as a step of its kind on the case (receiving entity, whatever "
                   "sections the referral shares); done, the referral is done and linked to the step",
        "tags": ["referrals"],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ReferralService"}}}},
        "responses": {"200": {"description": "The referral after the change", "content": _REF},
                      **error_responses(401, 403, 404, 409, 422)}}},
    "/api/v1/referrals/{id}/withdraw": _action("Withdraw (sending entity); not for the mandatory child referral"),
}
