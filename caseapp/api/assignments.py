"""JSON API v1: the professionals assigned to a case, and the signed-in user's agenda. Each endpoint calls ONE
function of services.casework.assignments or services.followup and serialises what it returns."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import TEXT, body_of, bp, case_roles, iso
from caseapp.api.openapi import (
    CODE_PARAM,
    READ_ERRORS,
    S_BOOLEAN,
    S_DATE,
    S_TEXT,
    enum,
    nullable,
    operation,
    ref,
)
from caseapp.models.assignments import ASSIGNMENT_ROLES
from caseapp.services import followup
from caseapp.services.casework import assignments

AGENDA_KINDS = ("phase", "step", "goal", "hearing", "referral", "legal_due", "measure")


def assignment_json(row) -> dict:
    return {"id": row.id, "username": row.user.username, "role": row.role,
            "assigned_at": iso(row.assigned_at), "ended_at": iso(row.ended_at)}


@bp.post("/cases/<code>/assignments")
@case_roles
def add_assignment(code):
    data = body_of({"username": TEXT, "role": TEXT})
    row = assignments.assign(current_user, code, data.get("username"), data.get("role"))
    return jsonify({"case": row.case.code, **assignment_json(row)}), 201


@bp.delete("/cases/<code>/assignments")
@case_roles
def end_assignment(code):
    data = body_of({"username": TEXT, "role": TEXT, "replacement": TEXT})
    row = assignments.unassign(current_user, code, data.get("username"), data.get("role"),
                               replacement=data.get("replacement"))
    return jsonify({"case": row.case.code, **assignment_json(row)})


@bp.get("/agenda")
@case_roles
def agenda():
    result = followup.agenda(current_user)
    items = sorted(result["overdue"] + result["upcoming"] + result["referrals"], key=lambda i: (i.due_on, i.case_code))
    return jsonify(items=[{"case": i.case_code, "kind": i.kind, "due_on": iso(i.due_on), "overdue": i.overdue}
                          for i in items])


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "AssignmentRequest": {"type": "object", "required": ["username", "role"], "properties": {
        "username": S_TEXT, "role": enum(ASSIGNMENT_ROLES),
        "replacement": {**S_TEXT, "description": "DELETE only: who takes her place in the same change (needed "
                                                 "to remove the last social worker of an open case)"}}},
    "Assignment": {"type": "object", "properties": {
        "id": {"type": "integer"}, "case": S_TEXT, "username": S_TEXT, "role": enum(ASSIGNMENT_ROLES),
        "assigned_at": S_TEXT, "ended_at": nullable(S_TEXT)}},
    "AgendaItem": {"type": "object", "required": ["case", "kind", "due_on", "overdue"], "properties": {
        "case": {**S_TEXT, "description": "Case code (never a name)"}, "kind": enum(AGENDA_KINDS),
        "due_on": S_DATE, "overdue": S_BOOLEAN}},
    "Agenda": {"type": "object", "properties": {"items": {"type": "array", "items": ref("AgendaItem")}}},
}

PATHS: dict = {
    "/api/v1/cases/{code}/assignments": {
        "parameters": [CODE_PARAM],
        "post": operation("Assign a professional (an active social worker or lawyer of the owning entity, or of an "
                          "entity with an accepted referral for a service of her role) to the case", "assignments",
                          ok="The assignment", schema="Assignment", body="AssignmentRequest", status=201),
        "delete": operation("End a professional's assignment (kept in the history). The last social worker of an "
                            "open case is removed only with a replacement (409 last_social_worker)", "assignments",
                            ok="The ended assignment", schema="Assignment", body="AssignmentRequest")},
    "/api/v1/agenda": {
        "get": operation("The signed-in professional's agenda: what is overdue and what falls due in the next "
                         "seven days in the cases she is assigned to", "assignments", ok="Items",
                         schema="Agenda", errors=READ_ERRORS[:2])},
}
