"""JSON API v1: the step-kind catalogue, a case's assistance steps, its life plan, its legal events and
need-to-know notes. Each endpoint parses the JSON, calls ONE service function and serialises what it returns."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import ANY, DATE, INTEGER, TEXT, body_of, bp, case_roles, case_row, iso
from caseapp.api.legal import event_json
from caseapp.api.openapi import (
    CODE_PARAM,
    READ_ERRORS,
    VERSION,
    content,
    enum,
    error_responses,
    nullable,
    operation,
    path_param,
)
from caseapp.models.route import GOAL_AREAS, GOAL_STATUSES, STEP_STATUSES, AssistanceStep, LifePlanGoal
from caseapp.services import casework


def step_json(step, actor) -> dict:
    """A step; its notes only for those who may read its section."""
    body = {
        "id": step.id, "phase": step.phase, "kind": step.kind.code, "status": step.status,
        "planned_on": iso(step.planned_on), "done_on": iso(step.done_on),
        "provider_entity": step.provider_entity.code if step.provider_entity else None,
        "version": step.version,
    }
    if casework.can_read_step_notes(actor, step):
        body["notes"] = step.notes
        body["not_provided_reason"] = step.not_provided_reason
    return body


def goal_json(goal) -> dict:
    """A life-plan goal (for readers of the psychosocial section: the services checked it)."""
    return {"id": goal.id, "area": goal.area, "status": goal.status, "description": goal.description,
            "agreed_on": iso(goal.agreed_on), "target_on": iso(goal.target_on), "reviewed_on": iso(goal.reviewed_on),
            "review_note": goal.review_note, "version": goal.version}



@bp.route("/step-kinds")
def step_kinds():
    return jsonify([{"code": k.code, "phase": k.phase, "label": k.label_es, "section": k.section}
                    for k in casework.step_kinds()])


@bp.route("/cases/<code>/steps", methods=["GET"])
def case_steps(code):
    _case, rows = casework.list_steps(current_user, code)
    return jsonify([step_json(s, current_user) for s in rows])


STEP_FIELDS = {"kind": TEXT, "status": TEXT, "planned_on": DATE, "done_on": DATE, "provider_entity": TEXT,
               "notes": TEXT, "not_provided_reason": TEXT}


@bp.route("/cases/<code>/steps", methods=["POST"])
def add_case_step(code):
    data = body_of(STEP_FIELDS)
    step = casework.add_step(current_user, code, kind=data.get("kind"), status=data.get("status") or "done",
                          planned_on=data.get("planned_on"), done_on=data.get("done_on"),
                          provider_entity=data.get("provider_entity"), notes=data.get("notes"),
                          not_provided_reason=data.get("not_provided_reason"))
    return jsonify(step_json(step, current_user)), 201


@bp.patch("/cases/<code>/steps/<int:step_id>")
@case_roles
def update_case_step(code, step_id):
    data = body_of({"status": TEXT, "planned_on": DATE, "done_on": DATE, "notes": TEXT, "not_provided_reason": TEXT,
                    "version": ANY})
    case_row(AssistanceStep, step_id, code)
    step = casework.update_step(current_user, step_id, version=data.get("version"), status=data.get("status"),
                                planned_on=data.get("planned_on"), done_on=data.get("done_on"),
                                notes=data.get("notes"), not_provided_reason=data.get("not_provided_reason"))
    return jsonify(step_json(step, current_user))


# --- life plan -------------------------------------------------------------------------------------------------


@bp.get("/cases/<code>/life-plan")
@case_roles
def life_plan(code):
    _case, goals = casework.list_goals(current_user, code)
    return jsonify([goal_json(g) for g in goals])


@bp.post("/cases/<code>/life-plan")
@case_roles
def add_life_plan_goal(code):
    data = body_of({"area": TEXT, "description": TEXT, "agreed_on": DATE, "target_on": DATE})
    goal = casework.add_goal(current_user, code, area=data.get("area"), description=data.get("description"),
                             agreed_on=data.get("agreed_on"), target_on=data.get("target_on"))
    return jsonify(goal_json(goal)), 201


@bp.post("/cases/<code>/life-plan/<int:goal_id>/review")
@case_roles
def review_life_plan_goal(code, goal_id):
    data = body_of({"status": TEXT, "review_note": TEXT, "reviewed_on": DATE, "version": ANY})
    case_row(LifePlanGoal, goal_id, code)
    goal = casework.review_goal(current_user, goal_id, version=data.get("version"), status=data.get("status"),
                                reviewed_on=data.get("reviewed_on"), review_note=data.get("review_note"))
    return jsonify(goal_json(goal))


# --- legal events and notes ------------------------------------------------------------------------------------


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
    data = body_of({"kind": TEXT, "on": DATE, "title": TEXT, "outcome": TEXT, "proceeding_id": INTEGER,
                    "next_on": DATE})
    event = casework.add_event(current_user, code, kind=data.get("kind") or "hearing", on=data.get("on"),
                            title=data.get("title"), outcome=data.get("outcome"),
                            proceeding_id=data.get("proceeding_id"), next_on=data.get("next_on"))
    return jsonify(event_json(event)), 201  # the event as GET /legal shows it


@bp.route("/cases/<code>/notes/<section>", methods=["GET"])
def case_notes(code, section):
    _case, notes = casework.list_notes(current_user, code, section)
    return jsonify([{"id": n.id, "written_on": n.written_on.isoformat(), "body": n.body} for n in notes])


@bp.route("/cases/<code>/notes/<section>", methods=["POST"])
def add_case_note(code, section):
    data = body_of({"body": TEXT, "written_on": DATE})
    note = casework.add_note(current_user, code, section, body=data.get("body"), written_on=data.get("written_on"))
    return jsonify({"id": note.id}), 201


# --- OpenAPI ------------------------------------------------------------------------------------------------

_CODE = CODE_PARAM
_SECTION = {"name": "section", "in": "path", "required": True,
            "schema": {"type": "string", "enum": ["psychosocial", "legal"]}}
_TEXT, _DATE = {"type": "string"}, {"type": "string", "format": "date"}

SCHEMAS: dict = {
    "StepKind": {"type": "object", "required": ["code", "phase", "label"], "properties": {
        "code": {"type": "string"}, "phase": {"type": "string", "enum": ["immediate", "mediate"]},
        "label": {"type": "string", "description": "Spanish label"},
        "section": {"type": "string", "enum": ["psychosocial", "legal"]}}},
    "StepIn": {"type": "object", "required": ["kind"], "additionalProperties": False, "properties": {
        "kind": {"type": "string", "description": "A step-kind code"},
        "status": {"type": "string", "enum": list(STEP_STATUSES), "default": "done"},
        "done_on": _DATE, "planned_on": _DATE,
        "provider_entity": {"type": "string", "description": "Entity code (default: the caller's)"},
        "notes": _TEXT, "not_provided_reason": {**_TEXT, "description": "Required when not_provided"}}},
    "StepUpdate": {
        "type": "object", "required": ["status", "version"], "additionalProperties": False,
        "description": "The step's new status with its dates (done_on required for done, a reason for "
                       "not_provided); planned_on and notes keep their value when left out.",
        "properties": {"status": enum(STEP_STATUSES), "planned_on": _DATE, "done_on": _DATE, "notes": _TEXT,
                       "not_provided_reason": _TEXT, "version": VERSION}},
    "Step": {"type": "object", "properties": {
        "id": {"type": "integer"}, "phase": {"type": "string"}, "kind": {"type": "string"},
        "status": {"type": "string"}, "planned_on": {"type": ["string", "null"], "format": "date"},
        "done_on": {"type": ["string", "null"], "format": "date"}, "provider_entity": {"type": ["string", "null"]},
        "version": {"type": "integer"},
        "notes": {"type": ["string", "null"], "description": "Only for users who may read the step's section"},
        "not_provided_reason": {"type": ["string", "null"],
                                "description": "Only for users who may read the step's section"}}},
    "GoalIn": {"type": "object", "required": ["area", "description"], "additionalProperties": False,
               "properties": {"area": enum(GOAL_AREAS), "description": {**_TEXT, "maxLength": 2000},
                              "agreed_on": {**_DATE, "description": "Default: today"}, "target_on": _DATE}},
    "GoalReview": {"type": "object", "required": ["status", "version"], "additionalProperties": False,
                   "properties": {"status": enum(GOAL_STATUSES), "review_note": {**_TEXT, "maxLength": 2000},
                                  "reviewed_on": {**_DATE, "description": "Default: today"}, "version": VERSION}},
    "Goal": {"type": "object", "properties": {
        "id": {"type": "integer"}, "area": enum(GOAL_AREAS), "status": enum(GOAL_STATUSES), "description": _TEXT,
        "agreed_on": _DATE, "target_on": nullable(_DATE), "reviewed_on": nullable(_DATE),
        "review_note": nullable(_TEXT), "version": {"type": "integer"}}},
    "LegalEventIn": {"type": "object", "required": ["on"], "additionalProperties": False, "properties": {
        "kind": {"type": "string", "enum": ["hearing", "stage_change", "other"], "default": "hearing"},
        "on": _DATE, "title": {**_TEXT, "maxLength": 120},
        "outcome": {**_TEXT, "description": "Only for a hearing already held"},
        "proceeding_id": {"type": "integer", "description": "A proceeding of this case (default: the criminal one)"},
        "next_on": {**_DATE, "description": "The next hearing, after this one"}}},
    "NoteIn": {"type": "object", "required": ["body"], "additionalProperties": False, "properties": {
        "body": _TEXT, "written_on": _DATE}},
    "Note": {"type": "object", "properties": {"id": {"type": "integer"}, "written_on": {"type": "string"},
                                              "body": {"type": "string"}}},
    "Created": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
}


def _json(ref: str, many: bool = False) -> dict:
    return content(ref, many)


_STEP_ID = path_param("step_id", "A step of this case")
_GOAL_ID = path_param("goal_id", "A life-plan goal of this case")

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
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/steps/{step_id}": {
        "parameters": [_CODE, _STEP_ID],
        "patch": operation("Update a step: its status, dates and notes (with the version read)", "route",
                           ok="The step after the change", schema="Step", body="StepUpdate",
                           description="Those who may record a step of its kind on the case. A closed case is "
                                       "refused (409 case_closed).")},
    "/api/v1/cases/{code}/life-plan": {
        "parameters": [_CODE],
        "get": operation("The life plan (proyecto de vida): goals agreed with the victim", "route",
                         ok="Goals (readers of the psychosocial section)", schema="Goal", many=True,
                         errors=READ_ERRORS),
        "post": operation("Record a goal agreed with the victim (social workers of the owning entity)", "route",
                          ok="Recorded", schema="Goal", body="GoalIn", status=201)},
    "/api/v1/cases/{code}/life-plan/{goal_id}/review": {
        "parameters": [_CODE, _GOAL_ID],
        "post": operation("Review a goal: its status and a note (with the version read)", "route",
                          ok="The goal after the review", schema="Goal", body="GoalReview")},
    "/api/v1/cases/{code}/legal-events": {
        "parameters": [_CODE],
        "get": {"summary": "Legal follow-up: stage, hearings, protection measures (see also /legal)", "tags": ["legal"],
                "responses": {"200": {"description": "Legal follow-up"}, **error_responses(401, 403, 404)}},
        "post": {"summary": "Record a hearing or another legal event (lawyers)", "tags": ["legal"],
                 "requestBody": {"required": True, "content": _json("LegalEventIn")},
                 "responses": {"201": {"description": "Recorded", "content": _json("LegalEvent")},
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
    "/api/v1/cases/{code}/notes/{section}": {
        "parameters": [_CODE, _SECTION],
        "get": {"summary": "Follow-up notes of one need-to-know section", "tags": ["route"],
                "description": "Psychosocial notes: social workers only. Legal notes: lawyers only.",
                "responses": {"200": {"description": "Notes", "content": _json("Note", True)},
                              **error_responses(401, 403, 404)}},
        "post": {"summary": "Add a note", "tags": ["route"],
                 "requestBody": {"required": True, "content": _json("NoteIn")},
                 "responses": {"201": {"description": "Recorded", "content": _json("Created")},
                               **error_responses(400, 401, 403, 404, 409, 422)}}},
}
