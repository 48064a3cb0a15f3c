"""JSON API v1: the route's entities and their territories, for any signed-in API user."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from caseapp.api import bp
from caseapp.api.openapi import operation
from caseapp.labels import territory_label
from caseapp.models.accounts import ENTITY_KINDS
from caseapp.services import accounts


@bp.route("/entities")
def entities():
    return jsonify(entities=[
        {"code": e.code, "name": e.name, "kind": e.kind, "territory": e.territory,
         "territory_name": territory_label(e.territory), "active": e.active}
        for e in accounts.entity_directory(current_user)
    ])


SCHEMAS: dict = {
    "Entity": {"type": "object", "required": ["code", "name", "kind", "territory", "active"], "properties": {
        "code": {"type": "string", "examples": ["CTG"]}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": list(ENTITY_KINDS)},
        "territory": {"type": "string", "examples": ["13001"],
                      "description": "DIVIPOLA code of its municipality (5 digits) or department (2), or CO"},
        "territory_name": {"type": "string"}, "active": {"type": "boolean"}}},
    "Entities": {"type": "object", "properties": {
        "entities": {"type": "array", "items": {"$ref": "#/components/schemas/Entity"}}}},
}

PATHS: dict = {
    "/api/v1/entities": {
        "get": operation("The route's entities with their territory (any signed-in user)", "entities",
                         ok="Entities", schema="Entities", errors=(401, 403))},
}
