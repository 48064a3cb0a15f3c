"""JSON API v1: shelters (casas de acogida) — the beds free, placing a victim, recording her departure. Where she
is lodged goes with her identity: only those who may see it read a stay. Each endpoint calls ONE service function
(services.casework) and serialises what it returns."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import ANY, DATE, INTEGER, TEXT, body_of, bp, case_roles, case_row, iso
from caseapp.api.openapi import (
    CODE_PARAM,
    S_DATE,
    S_TEXT,
    VERSION,
    nullable,
    operation,
    path_param,
)
from caseapp.models.route import ShelterStay
from caseapp.services import casework


def shelter_json(row) -> dict:
    shelter = row.shelter
    return {"id": shelter.id, "code": shelter.code, "name": shelter.name, "city": shelter.city or None,
            "operator_entity": shelter.operator_entity.code, "capacity": shelter.capacity,
            "occupied": row.occupied, "free": row.free}


def stay_json(stay) -> dict:
    return {"id": stay.id, "case": stay.case.code,
            "shelter": {"id": stay.shelter.id, "code": stay.shelter.code, "name": stay.shelter.name},
            "admitted_on": iso(stay.admitted_on), "left_on": iso(stay.left_on), "step": stay.step_id,
            "version": stay.version}


@bp.get("/shelters")
@case_roles
def shelters():
    rows, stays = casework.shelters_page(current_user)
    return jsonify(shelters=[shelter_json(r) for r in rows], stays=[stay_json(s) for s in stays])


@bp.post("/cases/<code>/shelter-stays")
@case_roles
def place_in_shelter(code):
    data = body_of({"shelter_id": INTEGER, "admitted_on": DATE, "notes": TEXT})
    stay = casework.place(current_user, code, shelter_id=data.get("shelter_id"), admitted_on=data.get("admitted_on"),
                          notes=data.get("notes"))
    return jsonify(stay_json(stay)), 201


@bp.post("/cases/<code>/shelter-stays/<int:stay_id>/leave")
@case_roles
def leave_shelter(code, stay_id):
    data = body_of({"left_on": DATE, "version": ANY})
    case_row(ShelterStay, stay_id, code)
    stay = casework.end_stay(current_user, stay_id, version=data.get("version"), left_on=data.get("left_on"))
    return jsonify(stay_json(stay))


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "Shelter": {"type": "object", "properties": {
        "id": {"type": "integer"}, "code": S_TEXT, "name": S_TEXT, "city": nullable(S_TEXT),
        "operator_entity": S_TEXT, "capacity": {"type": "integer"}, "occupied": {"type": "integer"},
        "free": {"type": "integer", "description": "Beds free now"}}},
    "ShelterStay": {"type": "object", "properties": {
        "id": {"type": "integer"}, "case": {**S_TEXT, "description": "Case code"},
        "shelter": {"type": "object", "properties": {"id": {"type": "integer"}, "code": S_TEXT, "name": S_TEXT}},
        "admitted_on": S_DATE, "left_on": nullable(S_DATE),
        "step": {"type": "integer", "description": "The lodging step of the case"}, "version": {"type": "integer"}}},
    "Shelters": {"type": "object", "properties": {
        "shelters": {"type": "array", "items": {"$ref": "#/components/schemas/Shelter"}},
        "stays": {"type": "array", "description": "Open stays of the cases whose identity the caller may see",
                  "items": {"$ref": "#/components/schemas/ShelterStay"}}}},
    "PlacementIn": {"type": "object", "required": ["shelter_id", "admitted_on"], "additionalProperties": False,
                    "properties": {"shelter_id": {"type": "integer", "description": "From GET /api/v1/shelters"},
                                   "admitted_on": S_DATE, "notes": S_TEXT}},
    "DepartureIn": {"type": "object", "required": ["left_on", "version"], "additionalProperties": False,
                    "properties": {"left_on": S_DATE, "version": VERSION}},
}

PATHS: dict = {
    "/api/v1/shelters": {
        "get": operation("Shelters with their free beds, and the open stays the caller may see (social workers)",
                         "shelters", ok="Shelters and stays", schema="Shelters", errors=(401, 403))},
    "/api/v1/cases/{code}/shelter-stays": {
        "parameters": [CODE_PARAM],
        "post": operation("Lodge the victim in a shelter: a lodging step and a stay, refused when no bed is free",
                          "shelters", ok="Placed", schema="ShelterStay", body="PlacementIn", status=201)},
    "/api/v1/cases/{code}/shelter-stays/{stay_id}/leave": {
        "parameters": [CODE_PARAM, path_param("stay_id", "A shelter stay of this case")],
        "post": operation("Record her departure from the shelter (with the version read)", "shelters",
                          ok="The stay, ended", schema="ShelterStay", body="DepartureIn")},
}
