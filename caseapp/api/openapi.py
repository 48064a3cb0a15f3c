"""The OpenAPI 3.1 document, assembled from each area module's PATHS and SCHEMAS."""
from __future__ import annotations

import importlib

from caseapp.api import AREAS

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "rule": {"type": "string", "description": "The rule that refused the request (e.g. complaint_required)"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def error_responses(*codes: int) -> dict:
    text = {400: "Bad request", 401: "Missing or invalid token", 403: "Forbidden", 404: "Not found",
            409: "Stale version or state conflict", 422: "Invalid input"}
    return {
        str(c): {"description": text[c], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for c in codes
    }


def document() -> dict:
    paths, schemas = {}, {"Error": ERROR}
    for area in AREAS:
        module = importlib.import_module(f"caseapp.api.{area}")
        paths.update(getattr(module, "PATHS", {}))
        schemas.update(getattr(module, "SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ruta API", "version": "1.0.0",
                 "description": "Case management for the attention route for victims of trafficking. "
                                "Identity never travels in a URL: searches are POSTs."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
