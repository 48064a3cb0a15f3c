"""JSON API v1: the step-kind catalogue, a case's assistance steps, its legal events and need-to-know notes."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import bp, json_body
from caseapp.api.openapi import error_responses
from caseapp.services import casework


def _step_json(step, actor) -> dict:
    body = {
        "id": step.id, "phase": step.phase, "kind": step.kind.code, "status": step.status,
        "planned_on": step.planned_on.isoformat() if step.planned_on else None,
        "done_on": step.done_on.isoformat() if step.done_on else None,
        "provider_entity": step.provider_entity.code if step.provider_entity else None,
        "version": step.version,
    }
    if casework.can_read_step_notes(actor, step):
        body["notes"] = step.notes
    return body


@bp.route("/step-kinds")
def step_kinds():
    return jsonify([{"code": k.code, "phase": k.phase, "label": k.label_es, "section": k.section}
                    for k in casework.step_kinds()])


@bp.route("/cases/<code>/steps", methods=["GET"])
def case_steps(code):
    _case, rows = casework.list_steps(current_user, code)
    return jsonify([_step_json(s, current_user) for s in rows])


@bp.route("/cases/<code>/steps", methods=["POST"])
def add_case_step(code):
    data = json_body()
    step = casework.add_step(current_user, code, kind=data.get("kind"), status=data.get("status") or "done",
                          planned_on=data.get("planned_on"), done_on=data.get("done_on"),
                          provider_entity=data.get("provider_entity"), notes=data.get("notes"),
                          not_provided_reason=data.get("not_provided_reason"))
    return jsonify(_step_json(step, current_user)), 201


@bp.route("/cases/<code>/legal-events", methods=["GET"])
def legal_events(code):
    _case, view = casework.get_legal(current_user, code)
    proc = view.proceeding
    return jsonify({
        "stage": proc.stage if proc else None,
        "complaint_filed_on": proc.complaint_filed_on.isoformat() if proc and proc.complaint_filed_on else None,
        "events": [{"id": e.id, "kind": e.kind, "on": e.on.isoformat(), "title": e.title, "outcome": e.outcome}
                   for e in view.events],
        "protection_measures": [{"id": m.id, "kind": m.kind, "status": m.status,
                                 "requested_on": m.requested_on.isoformat()} for m in view.measures],
    })


@bp.route("/cases/<code>/legal-events", methods=["POST"])
def add_legal_event(code):
    data = json_body()
    event = casework.add_event(current_user, code, kind=data.get("kind") or "hearing", on=data.get("on"),
                            title=data.get("title"), outcome=data.get("outcome"))
    return jsonify({"id": event.id}), 201


@bp.route("/cases/<code>/notes/<section>", methods=["GET"])
def case_notes(code, section):
    _case, notes = casework.list_notes(current_user, code, section)
    return jsonify([{"id": n.id, "written_on": n.written_on.isoformat(), "body": n.body} for n in notes])


@bp.route("/cases/<code>/notes/<section>", methods=["POST"])
def add_case_note(code, section):
    data = json_body()
    note = casework.add_note(current_user, code, section, body=data.get("body"), written_on=data.get("written_on"))
    return jsonify({"id": note.id}), 201


_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "Case code, e.g. SDIS-2025-00001"}
_SECTION = {"name": "section", "in": "path", "required": True,
            "schema": {"type": "string", "enum": ["psychosocial", "legal"]}}

SCHEMAS: dict = {
    "StepKind": {"type": "object", "required": ["code", "phase", "label"], "properties": {
        "code": {"type": "string"}, "phase": {"type": "string", "enum": ["immediate", "mediate"]},
        "label": {"type": "string", "description": "Spanish label"},
        "section": {"type": "string", "enum": ["psychosocial", "legal"]}}},
    "StepIn": {"type": "object", "required": ["kind"], "properties": {
        "kind": {"type": "string", "description": "A step-kind code"},
        "status": {"type": "string", "enum": ["planned", "in_progress", "done", "not_provided"], "default": "done"},
        "done_on": {"type": "string", "format": "date"}, "planned_on": {"type": "string", "format": "date"},
        "provider_entity": {"type": "string"}, "notes": {"type": "string"},
        "not_provided_reason": {"type": "string"}}},
    "Step": {"type": "object", "properties": {
        "id": {"type": "integer"}, "phase": {"type": "string"}, "kind": {"type": "string"},
        "status": {"type": "string"}, "planned_on": {"type": ["string", "null"], "format": "date"},
        "done_on": {"type": ["string", "null"], "format": "date"}, "provider_entity": {"type": ["string", "null"]},
        "version": {"type": "integer"},
        "notes": {"type": ["string", "null"], "description": "Only for users who may read the step's section"}}},
    "Note": {"type": "object", "properties": {"id": {"type": "integer"}, "written_on": {"type": "string"},
                                              "body": {"type": "string"}}},
    "Created": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
}


def _json(ref: str, many: bool = False) -> dict:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    return {"application/json": {"schema": {"type": "array", "items": schema} if many else schema}}


PATHS: dict = {
    "/api/v1/step-kinds": {"get": {
        "summary": "The catalogue of assistance step kinds", "tags": ["route"],
        "responses": {"200": {"description": "Active kinds", "content": _json("StepKind", True)},
                      **error_responses(401)}}},
    "/api/v1/cases/{code}/steps": {
        "parameters": [_CODE],
        "get": {"summary": "Assistance steps of a case", "tags": ["route"],
                "responses": {"200": {"description": "Steps", "content": _json("Step", True)},
                              **error_responses(401, 404)}},
        "post": {"summary": "Log an assistance step (the first immediate step starts immediate assistance)",
                 "tags": ["route"], "requestBody": {"required": True, "content": _json("StepIn")},
                 "responses": {"201": {"description": "Recorded", "content": _json("Step")},
                               **error_responses(401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/legal-events": {
        "parameters": [_CODE],
        "get": {"summary": "Legal follow-up: stage, hearings, protection measures", "tags": ["legal"],
                "responses": {"200": {"description": "Legal follow-up"}, **error_responses(401, 403, 404)}},
        "post": {"summary": "Record a hearing or another legal event (lawyers)", "tags": ["legal"],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["on"], "properties": {
                         "kind": {"type": "string", "enum": ["hearing", "stage_change", "other"]},
                         "on": {"type": "string", "format": "date"}, "title": {"type": "string"},
                         "outcome": {"type": "string"}}}}}},
                 "responses": {"201": {"description": "Recorded", "content": _json("Created")},
                               **error_responses(401, 403, 404, 422)}}},
    "/api/v1/cases/{code}/notes/{section}": {
        "parameters": [_CODE, _SECTION],
        "get": {"summary": "Follow-up notes of one need-to-know section", "tags": ["route"],
                "description": "Psychosocial notes: social workers only. Legal notes: lawyers only.",
                "responses": {"200": {"description": "Notes", "content": _json("Note", True)},
                              **error_responses(401, 403, 404)}},
        "post": {"summary": "Add a note", "tags": ["route"],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["body"], "properties": {
                         "body": {"type": "string"}, "written_on": {"type": "string", "format": "date"}}}}}},
                 "responses": {"201": {"description": "Recorded", "content": _json("Created")},
                               **error_responses(401, 403, 404, 422)}}},
}
