"""JSON API v1: the legal follow-up of a case — the criminal proceeding, its hearings and other events, and the
protection measures. Lawyers of the owning entity write it; readers of the legal section read it. Each endpoint
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
    PROTECTION_KINDS,
    PROTECTION_STATUSES,
    ProtectionMeasure,
)
from caseapp.services import casework


def proceeding_json(proc) -> dict:
    return {"complaint_filed_on": iso(proc.complaint_filed_on), "receiving_office": proc.receiving_office or None,
            "criminal_case_number": proc.criminal_case_number, "stage": proc.stage,
            "representation": proc.representation, "version": proc.version}


def event_json(event) -> dict:
    return {"id": event.id, "kind": event.kind, "on": iso(event.on), "title": event.title, "outcome": event.outcome}


def measure_json(measure) -> dict:
    # Its notes are not shown on the route page either: they stay with the lawyers' record.
    return {"id": measure.id, "kind": measure.kind, "status": measure.status,
            "requested_on": iso(measure.requested_on), "decided_on": iso(measure.decided_on),
            "version": measure.version}


def legal_json(view) -> dict:
    """The legal follow-up (services.casework.LegalView) as the route page shows it."""
    proc = view.proceeding
    return {"proceeding": proceeding_json(proc) if proc is not None else None,
            "proceeding_version": proc.version if proc is not None else 0,
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
        "id": {"type": "integer"}, "kind": enum(LEGAL_EVENT_KINDS), "on": S_DATE, "title": S_TEXT,
        "outcome": nullable(S_TEXT)}},
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
        "requested_on": S_DATE, "decided_on": nullable(S_DATE), "version": {"type": "integer"}}},
    "Legal": {"type": "object", "required": ["proceeding", "proceeding_version", "events", "protection_measures"],
              "properties": {
                  "proceeding": {"oneOf": [{"$ref": "#/components/schemas/Proceeding"}, {"type": "null"}]},
                  "proceeding_version": {"type": "integer", "description": "The version to send with PUT (0: none)"},
                  "events": {"type": "array", "items": {"$ref": "#/components/schemas/LegalEvent"}},
                  "protection_measures": {"type": "array", "items": {"$ref": "#/components/schemas/Measure"}}}},
}

_MEASURE_ID = path_param("measure_id", "A protection measure of this case")

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
}
