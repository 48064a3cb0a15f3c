"""JSON API v1: a case's family members (indirect victims) and their assistance steps. Readers of the victim's
identity read them; the owner's social workers register and correct them. Each endpoint calls ONE service."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import ANY, DATE, TEXT, body_of, bp, case_roles, iso
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
from caseapp.crypto import ERASED
from caseapp.models.cases import RELATIONSHIPS
from caseapp.models.safety import FAMILY_STEP_STATUSES
from caseapp.models.victims import AGE_GROUPS, DOCUMENT_TYPES
from caseapp.services import family

MEMBER_FIELDS = {"names": TEXT, "relationship": TEXT, "age_group": TEXT, "document_type": TEXT,
                 "document_number": TEXT}


def step_json(step) -> dict:
    return {"id": step.id, "kind": step.kind.code, "status": step.status, "on": iso(step.on)}


def member_json(member) -> dict:
    erased = member.names is ERASED or member.case.victim.erased
    return {"id": member.id, "relationship": member.relationship_kind, "age_group": member.age_group,
            "names": None if erased else member.names,
            "document_type": None if erased else member.document_type,
            "document_number": None if erased else member.document_number,
            "erased": erased, "assisted": any(s.status == "done" for s in member.steps),
            "steps": [step_json(s) for s in member.steps], "version": member.version}


@bp.get("/cases/<code>/family-members")
@case_roles
def list_family_members(code):
    _case, members = family.list_members(current_user, code)
    return jsonify(items=[member_json(m) for m in members], assisted=family.assisted_count(members))


@bp.post("/cases/<code>/family-members")
@case_roles
def add_family_member(code):
    member = family.add_member(current_user, code, body_of(MEMBER_FIELDS))
    return jsonify(member_json(member)), 201


@bp.patch("/cases/<code>/family-members/<int:member_id>")
@case_roles
def update_family_member(code, member_id):
    member = family.update_member(current_user, code, member_id, body_of({**MEMBER_FIELDS, "version": ANY}))
    return jsonify(member_json(member))


@bp.post("/cases/<code>/family-members/<int:member_id>/steps")
@case_roles
def add_family_member_step(code, member_id):
    data = body_of({"kind": TEXT, "status": TEXT, "on": DATE, "notes": TEXT})
    step = family.add_member_step(current_user, code, member_id, kind=data.get("kind"), status=data.get("status"),
                                  on=data.get("on"), notes=data.get("notes"))
    return jsonify(step_json(step)), 201


# --- OpenAPI ------------------------------------------------------------------------------------------------

_MEMBER_PROPS = {"names": {**S_TEXT, "maxLength": 200, "description": "Encrypted under the victim's key"},
                 "relationship": enum(RELATIONSHIPS), "age_group": enum(AGE_GROUPS),
                 "document_type": enum(DOCUMENT_TYPES), "document_number": {**S_TEXT, "maxLength": 40}}

SCHEMAS: dict = {
    "FamilyMemberIn": {"type": "object", "required": ["names", "relationship"], "additionalProperties": False,
                       "properties": _MEMBER_PROPS},
    "FamilyMemberUpdate": {"type": "object", "required": ["version"], "additionalProperties": False,
                           "description": "Only the fields given change.",
                           "properties": {**_MEMBER_PROPS, "version": VERSION}},
    "FamilyStepIn": {"type": "object", "required": ["kind", "status"], "additionalProperties": False,
                     "properties": {"kind": {**S_TEXT, "description": "A step-kind code (GET /step-kinds)"},
                                    "status": enum(FAMILY_STEP_STATUSES),
                                    "on": {**S_DATE, "description": "Done on, or planned for (done: today)"},
                                    "notes": S_TEXT}},
    "FamilyStep": {"type": "object", "properties": {"id": {"type": "integer"}, "kind": S_TEXT,
                                                    "status": enum(FAMILY_STEP_STATUSES), "on": S_DATE}},
    "FamilyMember": {"type": "object", "properties": {
        "id": {"type": "integer"}, "relationship": enum(RELATIONSHIPS), "age_group": enum(AGE_GROUPS),
        "names": nullable(S_TEXT), "document_type": nullable(S_TEXT), "document_number": nullable(S_TEXT),
        "erased": {"type": "boolean", "description": "The victim's identity was erased: so was theirs"},
        "assisted": {"type": "boolean", "description": "At least one service done"},
        "steps": {"type": "array", "items": {"$ref": "#/components/schemas/FamilyStep"}},
        "version": {"type": "integer"}}},
    "FamilyMembers": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/FamilyMember"}},
        "assisted": {"type": "integer", "description": "Family members with a service done (apart from her)"}}},
}

_MEMBER_ID = path_param("member_id", "A family member of this case")

PATHS: dict = {
    "/api/v1/cases/{code}/family-members": {
        "parameters": [CODE_PARAM],
        "get": operation("Family members who also receive assistance (readers of the identity section)", "family",
                         ok="The family members", schema="FamilyMembers", errors=READ_ERRORS),
        "post": operation("Register a family member (social workers of the owning entity)", "family",
                          ok="Registered", schema="FamilyMember", body="FamilyMemberIn", status=201)},
    "/api/v1/cases/{code}/family-members/{member_id}": {
        "parameters": [CODE_PARAM, _MEMBER_ID],
        "patch": operation("Correct a family member (with the version read)", "family",
                           ok="The family member after the change", schema="FamilyMember",
                           body="FamilyMemberUpdate")},
    "/api/v1/cases/{code}/family-members/{member_id}/steps": {
        "parameters": [CODE_PARAM, _MEMBER_ID],
        "post": operation("Record a service given to or planned for a family member", "family",
                          ok="Recorded", schema="FamilyStep", body="FamilyStepIn", status=201)},
}
