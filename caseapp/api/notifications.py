"""JSON API v1: the signed-in user's notifications, and marking them read. The text and the case code are composed
from the reader's access now: a case she can no longer see is not named."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from caseapp.api import bp, case_roles, iso
from caseapp.api.openapi import S_BOOLEAN, S_DATE, S_INTEGER, S_TEXT, enum, nullable, operation, ref
from caseapp.models.notifications import NOTIFICATION_KINDS
from caseapp.services import notifications as service


def notification_json(view) -> dict:
    return {"id": view.id, "kind": view.kind, "text": view.text, "case": view.case_code,
            "due_on": iso(view.due_on), "created_at": view.created_at.isoformat() + "Z", "read": view.read}


@bp.get("/notifications")
@case_roles
def notifications():
    views = service.notifications(current_user, before=request.args.get("before"),
                                  unread_only=request.args.get("unread") in ("1", "true"))
    return jsonify(items=[notification_json(v) for v in views], unread=service.unread_count(current_user))


@bp.post("/notifications/<int:notification_id>/read")
@case_roles
def notification_read(notification_id):
    service.mark_read(current_user, notification_id)
    return jsonify(id=notification_id, read=True)


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "Notification": {"type": "object", "required": ["id", "kind", "text", "case", "created_at", "read"],
                     "properties": {
                         "id": S_INTEGER, "kind": enum(NOTIFICATION_KINDS),
                         "text": {**S_TEXT, "description": "For people, in the caller's language"},
                         "case": {**nullable(S_TEXT), "description": "The case code, or null when the caller may "
                                                                     "no longer see the case"},
                         "due_on": nullable(S_DATE), "created_at": {**S_TEXT, "format": "date-time"},
                         "read": S_BOOLEAN}},
    "Notifications": {"type": "object", "properties": {
        "items": {"type": "array", "items": ref("Notification"), "description": "Newest first, 50 at most"},
        "unread": S_INTEGER}},
    "NotificationRead": {"type": "object", "properties": {"id": S_INTEGER, "read": S_BOOLEAN}},
}

PATHS: dict = {
    "/api/v1/notifications": {
        "get": {**operation("The caller's notifications, newest first", "notifications", ok="Notifications",
                            schema="Notifications", errors=(401, 403)),
                "parameters": [
                    {"name": "before", "in": "query", "required": False, "schema": {"type": "integer"},
                     "description": "The id of the last notification of the page before (keyset)"},
                    {"name": "unread", "in": "query", "required": False, "schema": {"type": "string",
                                                                                    "enum": ["1", "true"]},
                     "description": "Only the unread ones"}]}},
    "/api/v1/notifications/{notification_id}/read": {
        "parameters": [{"name": "notification_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "post": operation("Mark one of the caller's notifications read", "notifications", ok="Marked read",
                          schema="NotificationRead", errors=(401, 403, 404, 409))},
}
