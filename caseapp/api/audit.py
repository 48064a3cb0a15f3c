"""JSON API v1: the access log for auditors (403 for everyone else, and the denial is logged)."""
from __future__ import annotations

import json

from flask import jsonify, request
from flask_login import current_user

from caseapp.api import bp
from caseapp.api.openapi import error_responses
from caseapp.services.audit import console as audit_console


def _item(row) -> dict:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(timespec="microseconds") + "Z",
        "user": row.actor,
        "entity": row.actor_entity,
        "roles": row.roles.split(",") if row.roles else [],
        "action": row.action,
        "object_type": row.object_type,
        "object_ref": row.object_ref,
        "outcome": row.outcome,
        "ip": row.ip,
        "request_id": row.request_id,
        "detail": json.loads(row.detail) if row.detail else None,
    }


@bp.get("/audit")
def audit_log():
    _filters, page = audit_console.read_page(current_user, request.args, via="api")
    return jsonify(items=[_item(r) for r in page.items], next_cursor=page.older, prev_cursor=page.newer)


def _param(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


PATHS: dict = {
    "/api/v1/audit": {
        "get": {
            "summary": "Read the access log (auditors only), newest first, with keyset pagination",
            "description": "Filters combine with AND. Dates are Colombian dates (YYYY-MM-DD, whole day) or local "
                           "date-times (YYYY-MM-DDTHH:MM), or ISO instants with an offset. Each call is itself "
                           "recorded in the access log as `audit.api`.",
            "operationId": "readAuditLog",
            "tags": ["audit"],
            "parameters": [
                _param("case", "Case code, e.g. SDIS-2025-00042 (the row's object_ref)."),
                _param("user", "Username of the actor."),
                _param("entity", "Entity code of the actor."),
                _param("action", "Action name, e.g. case.view."),
                _param("outcome", "Outcome.", {"type": "string", "enum": ["allowed", "denied", "error"]}),
                _param("since", "Start of the period (inclusive)."),
                _param("until", "End of the period (a date includes that whole day)."),
                _param("cursor", "Opaque cursor from next_cursor (older rows) or prev_cursor (newer rows)."),
                _param("limit", "Rows per page (1-200, default 50).",
                       {"type": "integer", "minimum": 1, "maximum": 200}),
            ],
            "responses": {
                "200": {"description": "One page of rows",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuditPage"}}}},
                **error_responses(401, 403, 422),
            },
        }
    }
}

SCHEMAS: dict = {
    "AuditEvent": {
        "type": "object",
        "required": ["seq", "at", "action", "outcome"],
        "properties": {
            "seq": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "user": {"type": ["string", "null"]},
            "entity": {"type": ["string", "null"]},
            "roles": {"type": "array", "items": {"type": "string"}},
            "action": {"type": "string"},
            "object_type": {"type": ["string", "null"]},
            "object_ref": {"type": ["string", "null"], "description": "A case code, a username or an id"},
            "outcome": {"type": "string", "enum": ["allowed", "denied", "error"]},
            "ip": {"type": ["string", "null"]},
            "request_id": {"type": ["string", "null"]},
            "detail": {"type": ["object", "null"]},
        },
    },
    "AuditPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
            "next_cursor": {"type": ["string", "null"], "description": "Cursor of the next page (older rows)"},
            "prev_cursor": {"type": ["string", "null"], "description": "Cursor of the previous page (newer rows)"},
        },
    },
}
