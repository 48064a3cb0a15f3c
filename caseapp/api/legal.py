"""JSON API v1: the legal follow-up of a case — its proceedings (the criminal one and others) with their stage
history, hearings and other events, and the protection measures. Lawyers of the owning entity write it; readers of the legal section read it. Each endpoint
calls ONE service function (services.casework) and serialises what it returns."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import ANY, DATE, TEXT, body_of, bp, case_roles, case_row, iso
from caseapp.api.openapi import (
    CODE_PARAM,
    READ_ERRORS,
    S_DATE,
    S_TEXT,
    VERSION,
    enum,
    nullable,
    operation,
    path_param,
)
from caseapp.models.route import (
    LEGAL_EVENT_KINDS,
    LEGAL_REPRESENTATION,
    LEGAL_STAGES,
    PROCEEDING_KINDS,
    PROCEEDING_STAGES,
    PROTECTION_KINDS,
    PROTECTION_STATUSES,
    LegalEvent,
    LegalProceeding,
    ProtectionMeasure,
)
from caseapp.services import casework


def proceeding_json(proc) -> dict:
    return {"complaint_filed_on": iso(proc.complaint_filed_on), "receiving_office": proc.receiving_office or None,
            "criminal_case_number": proc.criminal_case_number, "stage": proc.stage,
            "representation": proc.representation, "version": proc.version}


def full_proceeding_json(proc, history=None) -> dict:
    """A proceeding of any kind, with its id, kind and (when given) its stage history, oldest first."""
    return {"id": proc.id, "kind": proc.kind, **proceeding_json(proc),
            "stage_history": [{"stage": h.stage, "on": iso(h.changed_on)} for h in (history or [])]}


def event_json(event) -> dict:
    return {"id": event.id, "proceeding_id": event.proceeding_id, "kind": event.kind, "on": iso(event.on),
            "title": event.title, "outcome": event.outcome, "next_on": iso(event.next_on), "version": event.version}


def measure_json(measure) -> dict:
    # Its notes are not shown on the route page either: they stay with the lawyers' record.
    return {"id": measure.id, "kind": measure.kind, "status": measure.status,
            "requested_on": iso(measure.requested_on), "decided_on": iso(measure.decided_on),
            "decided_by": measure.decided_by, "ended_on": iso(measure.ended_on), "version": measure.version}


def legal_json(view) -> dict:
    """The legal follow-up (services.casework.LegalView) as the route page shows it."""
    proc = view.proceeding
    return {"proceeding": proceeding_json(proc) if proc is not None else None,
            "proceeding_version": proc.version if proc is not None else 0,
            "proceedings": [full_proceeding_json(p, view.history.get(p.id)) for p in view.proceedings],
            "events": [event_json(e) for e in view.events],
            "protection_measures": [measure_json(m) for m in view.measures]}


@bp.get("/cases/<code>/legal")
@case_roles
def get_legal(code):
    _case, view = casework.get_legal(current_user, code)
    return jsonify(legal_json(view))


@bp.put("/cases/<code>/legal")
@case_roles
def save_proceeding(code):
    data = body_of({"complaint_filed_on": DATE, "receiving_office": TEXT, "criminal_case_number": TEXT,
                    "stage": TEXT, "representation": TEXT, "version": ANY})
    proc = casework.save_proceeding(
        current_user, code, version=data.get("version"), complaint_filed_on=data.get("complaint_filed_on"),
        receiving_office=data.get("receiving_office"), criminal_case_number=data.get("criminal_case_number"),
        stage=data.get("stage"), representation=data.get("representation"))
    return jsonify(proceeding_json(proc))


@bp.post("/cases/<code>/protection-measures")
@case_roles
def add_protection_measure(code):
    data = body_of({"kind": TEXT, "requested_on": DATE, "status": TEXT, "decided_on": DATE, "notes": TEXT})
    measure = casework.add_measure(current_user, code, kind=data.get("kind"), requested_on=data.get("requested_on"),
                                   status=data.get("status") or "requested", decided_on=data.get("decided_on"),
                                   notes=data.get("notes"))
    return jsonify(measure_json(measure)), 201


@bp.patch("/cases/<code>/protection-measures/<int:measure_id>")
@case_roles
def update_protection_measure(code, measure_id):
    data = body_of({"status": TEXT, "decided_on": DATE, "version": ANY})
    case_row(ProtectionMeasure, measure_id, code)
    measure = casework.update_measure(current_user, measure_id, version=data.get("version"),
                                      status=data.get("status"), decided_on=data.get("decided_on"))
    return jsonify(measure_json(measure))


_PROC_FIELDS = {"complaint_filed_on": DATE, "receiving_office": TEXT, "criminal_case_number": TEXT,
                "representation": TEXT, "stage": TEXT, "stage_on": DATE}


@bp.post("/cases/<code>/proceedings")
@case_roles
def open_proceeding(code):
    data = body_of({"kind": TEXT, **_PROC_FIELDS})
    proc = casework.open_proceeding(
        current_user, code, kind=data.get("kind"), stage=data.get("stage"), stage_on=data.get("stage_on"),
        complaint_filed_on=data.get("complaint_filed_on"), receiving_office=data.get("receiving_office"),
        criminal_case_number=data.get("criminal_case_number"), representation=data.get("representation") or "none")
    return jsonify(full_proceeding_json(proc, _history(proc))), 201


@bp.put("/cases/<code>/proceedings/<int:proc_id>")
@case_roles
def update_proceeding(code, proc_id):
    data = body_of({**_PROC_FIELDS, "version": ANY})
    case_row(LegalProceeding, proc_id, code)
    proc = casework.update_proceeding(
        current_user, proc_id, version=data.get("version"), complaint_filed_on=data.get("complaint_filed_on"),
        receiving_office=data.get("receiving_office"), criminal_case_number=data.get("criminal_case_number"),
        representation=data.get("representation") or "none", stage=data.get("stage"), stage_on=data.get("stage_on"))
    return jsonify(full_proceeding_json(proc, _history(proc)))


@bp.post("/cases/<code>/proceedings/<int:proc_id>/stages")
@case_roles
def record_stage(code, proc_id):
    data = body_of({"stage": TEXT, "on": DATE, "version": ANY})
    case_row(LegalProceeding, proc_id, code)
    change = casework.record_stage(current_user, proc_id, version=data.get("version"), stage=data.get("stage"),
                                   on=data.get("on"))
    return jsonify(full_proceeding_json(change.proceeding, _history(change.proceeding))), 201


def _history(proc) -> list:
    return casework.history_of([proc.id])[proc.id]


@bp.patch("/cases/<code>/legal-events/<int:event_id>")
@case_roles
def update_legal_event(code, event_id):
    data = body_of({"outcome": TEXT, "next_on": DATE, "version": ANY})
    case_row(LegalEvent, event_id, code)
    # a PATCH: what the body does not name is kept (an outcome is never erased by a body that only moves a date)
    named = {key: data[key] for key in ("outcome", "next_on") if key in data}
    event = casework.update_event(current_user, event_id, version=data.get("version"), **named)
    return jsonify(event_json(event))


@bp.post("/cases/<code>/protection-measures/<int:measure_id>/decision")
@case_roles
def decide_protection_measure(code, measure_id):
    data = body_of({"decision": TEXT, "decided_on": DATE, "authority": TEXT, "version": ANY})
    case_row(ProtectionMeasure, measure_id, code)
    measure = casework.decide_measure(current_user, measure_id, version=data.get("version"),
                                      decision=data.get("decision"), decided_on=data.get("decided_on"),
                                      authority=data.get("authority"))
    return jsonify(measure_json(measure))


@bp.post("/cases/<code>/protection-measures/<int:measure_id>/end")
@case_roles
def end_protection_measure(code, measure_id):
    data = body_of({"ended_on": DATE, "version": ANY})
    case_row(ProtectionMeasure, measure_id, code)
    measure = casework.end_measure(current_user, measure_id, version=data.get("version"),
                                   ended_on=data.get("ended_on"))
    return jsonify(measure_json(measure))


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "ProceedingIn": {
        "type": "object", "required": ["stage", "representation", "version"], "additionalProperties": False,
        "description": "The whole proceeding (a PUT: fields left out are emptied). `version`: 0 while the case "
                       "has none (GET /legal answers `proceeding_version`).",
        "properties": {
            "complaint_filed_on": {**S_DATE, "description": "When the criminal complaint was filed"},
            "receiving_office": {**S_TEXT, "maxLength": 200},
            "criminal_case_number": {**S_TEXT, "maxLength": 60, "pattern": "^[A-Za-z0-9 ./-]*$",
                                     "description": "SPOA number (encrypted at rest)"},
            "stage": enum(LEGAL_STAGES), "representation": enum(LEGAL_REPRESENTATION), "version": VERSION}},
    "Proceeding": {"type": "object", "properties": {
        "complaint_filed_on": nullable(S_DATE), "receiving_office": nullable(S_TEXT),
        "criminal_case_number": nullable(S_TEXT), "stage": enum(LEGAL_STAGES),
        "representation": enum(LEGAL_REPRESENTATION), "version": {"type": "integer"}}},
    "LegalEvent": {"type": "object", "properties": {
        "id": {"type": "integer"}, "proceeding_id": nullable({"type": "integer"}), "kind": enum(LEGAL_EVENT_KINDS),
        "on": S_DATE, "title": S_TEXT, "outcome": nullable(S_TEXT), "next_on": nullable(S_DATE),
        "version": {"type": "integer"}}},
    "LegalEventUpdate": {"type": "object", "required": ["version"], "additionalProperties": False, "properties": {
        "outcome": {**S_TEXT, "description": "Refused (rule hearing_not_held) for a hearing still to come"},
        "next_on": S_DATE, "version": VERSION}},
    "ProceedingOpen": {"type": "object", "required": ["kind"], "additionalProperties": False, "properties": {
        "kind": enum(PROCEEDING_KINDS),
        "stage": {**enum(sorted({st for sts in PROCEEDING_STAGES.values() for st in sts})),
                  "description": "One of its kind's stages (default: the first)"},
        "stage_on": {**S_DATE, "description": "When it entered that stage (default: today)"},
        "complaint_filed_on": S_DATE, "receiving_office": {**S_TEXT, "maxLength": 200},
        "criminal_case_number": {**S_TEXT, "maxLength": 60}, "representation": enum(LEGAL_REPRESENTATION)}},
    "ProceedingUpdate": {"type": "object", "required": ["version"], "additionalProperties": False,
                         "description": "The whole proceeding (fields left out are emptied); a different `stage` "
                                        "is a change of stage dated `stage_on` (default today), kept in its history.",
                         "properties": {
        "stage": S_TEXT, "stage_on": S_DATE, "complaint_filed_on": S_DATE,
        "receiving_office": {**S_TEXT, "maxLength": 200}, "criminal_case_number": {**S_TEXT, "maxLength": 60},
        "representation": enum(LEGAL_REPRESENTATION), "version": VERSION}},
    "StageIn": {"type": "object", "required": ["stage", "version"], "additionalProperties": False, "properties": {
        "stage": S_TEXT, "on": {**S_DATE, "description": "Not in the future nor before the previous change"},
        "version": VERSION}},
    "ProceedingFull": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": enum(PROCEEDING_KINDS), "stage": S_TEXT,
        "complaint_filed_on": nullable(S_DATE), "receiving_office": nullable(S_TEXT),
        "criminal_case_number": nullable(S_TEXT), "representation": enum(LEGAL_REPRESENTATION),
        "version": {"type": "integer"},
        "stage_history": {"type": "array", "items": {"type": "object", "properties": {
            "stage": S_TEXT, "on": S_DATE}}}}},
    "MeasureDecision": {"type": "object", "required": ["decision", "decided_on", "version"],
                        "additionalProperties": False, "properties": {
        "decision": enum(("granted", "denied")), "decided_on": S_DATE,
        "authority": {**S_TEXT, "maxLength": 200, "description": "Who decided (encrypted at rest)"},
        "version": VERSION}},
    "MeasureEnd": {"type": "object", "required": ["ended_on", "version"], "additionalProperties": False,
                   "properties": {"ended_on": S_DATE, "version": VERSION}},
    "MeasureIn": {"type": "object", "required": ["kind", "requested_on"], "additionalProperties": False,
                  "properties": {"kind": enum(PROTECTION_KINDS), "requested_on": S_DATE,
                                 "status": {**enum(PROTECTION_STATUSES), "default": "requested"},
                                 "decided_on": S_DATE, "notes": {**S_TEXT, "maxLength": 2000}}},
    "MeasureUpdate": {"type": "object", "required": ["status", "version"], "additionalProperties": False,
                      "properties": {"status": enum(PROTECTION_STATUSES),
                                     "decided_on": {**S_DATE, "description": "Kept when left out"},
                                     "version": VERSION}},
    "Measure": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": enum(PROTECTION_KINDS), "status": enum(PROTECTION_STATUSES),
        "requested_on": S_DATE, "decided_on": nullable(S_DATE), "decided_by": nullable(S_TEXT),
        "ended_on": nullable(S_DATE), "version": {"type": "integer"}}},
    "Legal": {"type": "object", "required": ["proceeding", "proceeding_version", "events", "protection_measures"],
              "properties": {
                  "proceeding": {"oneOf": [{"$ref": "#/components/schemas/Proceeding"}, {"type": "null"}]},
                  "proceeding_version": {"type": "integer", "description": "The version to send with PUT (0: none)"},
                  "proceedings": {"type": "array", "items": {"$ref": "#/components/schemas/ProceedingFull"},
                                  "description": "Every proceeding, the criminal one first"},
                  "events": {"type": "array", "items": {"$ref": "#/components/schemas/LegalEvent"}},
                  "protection_measures": {"type": "array", "items": {"$ref": "#/components/schemas/Measure"}}}},
}

_MEASURE_ID = path_param("measure_id", "A protection measure of this case")
_PROC_ID = path_param("proc_id", "A legal proceeding of this case")
_EVENT_ID = path_param("event_id", "A hearing or other legal event of this case")

PATHS: dict = {
    "/api/v1/cases/{code}/legal": {
        "parameters": [CODE_PARAM],
        "get": operation("Legal follow-up: the proceeding, hearings and other events, protection measures", "legal",
                         ok="Readers of the legal section", schema="Legal", errors=READ_ERRORS),
        "put": operation("Record or correct the criminal proceeding (lawyers of the owning entity)", "legal",
                         ok="The proceeding after the change", schema="Proceeding", body="ProceedingIn")},
    "/api/v1/cases/{code}/protection-measures": {
        "parameters": [CODE_PARAM],
        "post": operation("Record a protection measure requested for the victim (lawyers)", "legal",
                          ok="Recorded", schema="Measure", body="MeasureIn", status=201)},
    "/api/v1/cases/{code}/protection-measures/{measure_id}": {
        "parameters": [CODE_PARAM, _MEASURE_ID],
        "patch": operation("Record the decision on a protection measure (with the version read)", "legal",
                           ok="The measure after the change", schema="Measure", body="MeasureUpdate")},
    "/api/v1/cases/{code}/protection-measures/{measure_id}/decision": {
        "parameters": [CODE_PARAM, _MEASURE_ID],
        "post": operation("Record the decision on a requested measure: granted or denied, date, authority "
                          "(rule measure_transition when it is not requested)", "legal",
                          ok="The measure after the decision", schema="Measure", body="MeasureDecision")},
    "/api/v1/cases/{code}/protection-measures/{measure_id}/end": {
        "parameters": [CODE_PARAM, _MEASURE_ID],
        "post": operation("Record the end of a granted measure (rule measure_transition otherwise)", "legal",
                          ok="The measure after the change", schema="Measure", body="MeasureEnd")},
    "/api/v1/cases/{code}/proceedings": {
        "parameters": [CODE_PARAM],
        "post": operation("Open a proceeding: criminal (one per case), protection action, migratory regularisation "
                          "or reparation incident (lawyers)", "legal", ok="Opened", schema="ProceedingFull",
                          body="ProceedingOpen", status=201)},
    "/api/v1/cases/{code}/proceedings/{proc_id}": {
        "parameters": [CODE_PARAM, _PROC_ID],
        "put": operation("Correct a proceeding, with the version read", "legal", ok="The proceeding after the change",
                         schema="ProceedingFull", body="ProceedingUpdate")},
    "/api/v1/cases/{code}/proceedings/{proc_id}/stages": {
        "parameters": [CODE_PARAM, _PROC_ID],
        "post": operation("Record a change of stage, dated; the history is kept", "legal",
                          ok="The proceeding with its history", schema="ProceedingFull", body="StageIn", status=201)},
    "/api/v1/cases/{code}/legal-events/{event_id}": {
        "parameters": [CODE_PARAM, _EVENT_ID],
        "patch": operation("Record a hearing's outcome and the next hearing's date, with the version read", "legal",
                           ok="The event after the change", schema="LegalEvent", body="LegalEventUpdate")},
}
