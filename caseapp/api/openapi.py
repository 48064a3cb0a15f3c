"""The OpenAPI 3.1 document, assembled from each area module's PATHS and SCHEMAS."""
from __future__ import annotations

import importlib

from caseapp.api import AREAS

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "description": "Every refusal. Nothing was written. 404 is also the answer for a case the caller may not know "
                   "exists; 409 and 422 name the rule that refused the request in `rule` when there is one.",
    "properties": {
        "error": {"type": "string", "enum": ["bad_request", "unauthorized", "forbidden", "not_found", "conflict",
                                             "invalid", "too_many_requests", "error"]},
        "message": {"type": "string", "description": "For people, in the caller's language (Spanish by default)"},
        "rule": {"type": "string", "description": "The rule that refused the request, for programs: e.g. "
                                                  "stale_version, version_required, complaint_required, "
                                                  "acta_required, referrals_pending, child_referral_pending, "
                                                  "shelter_stay_open, case_closed, transition_not_allowed"},
        "fields": {"type": "object", "description": "Messages by field name: each value is a LIST of messages "
                                                    "(unknown fields are named here too)",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def error_responses(*codes: int) -> dict:
    text = {400: "Bad request", 401: "Missing or invalid token", 403: "Forbidden", 404: "Not found",
            409: "Stale version or state conflict (see `rule`)", 422: "Invalid input (see `fields` and `rule`)"}
    return {
        str(c): {"description": text[c], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for c in codes
    }


WRITE_ERRORS = (400, 401, 403, 404, 409, 422)  # any write on a case
READ_ERRORS = (401, 403, 404)  # any read of a case

# Schema pieces shared by the area modules.
S_TEXT = {"type": "string"}
S_DATE = {"type": "string", "format": "date"}
S_INTEGER = {"type": "integer"}
S_BOOLEAN = {"type": "boolean"}
VERSION = {"type": "integer", "description": "The version of the record read: the edit is refused (409 "
                                             "stale_version) if it changed meanwhile"}


def nullable(schema: dict) -> dict:
    kind = schema.get("type", "string")
    return {**schema, "type": [kind, "null"]}


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def content(name: str, many: bool = False) -> dict:
    """A JSON body of the named schema (or a list of them)."""
    schema = {"type": "array", "items": ref(name)} if many else ref(name)
    return {"application/json": {"schema": schema}}


def path_param(name: str, description: str, kind: str = "integer") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}, "description": description}


CODE_PARAM = path_param("code", "Case code ENTITY-YEAR-NNNNN (the public handle of a case)", "string")


def operation(summary: str, tag: str, *, ok: str, schema: str | None = None, many: bool = False,
              body: str | None = None, errors=WRITE_ERRORS, description: str | None = None, status: int = 200,
              body_required: bool = True) -> dict:
    """One operation: its request body (a schema name), its success answer and its error answers."""
    answer = {"description": ok}
    if schema:
        answer["content"] = content(schema, many)
    op = {"summary": summary, "tags": [tag], "responses": {str(status): answer, **error_responses(*errors)}}
    if description:
        op["description"] = description
    if body:
        op["requestBody"] = {"required": body_required, "content": content(body)}
    return op


# Every write (caseapp.api.bearer_auth -> services.primitives.expect_once)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A key of the client's own (8 to 128 printable ASCII characters, e.g. a UUID), new for each "
                   "write: the same key again, from the same user, writes nothing and answers 409 with rule "
                   "\"already_submitted\" (a retry after a lost answer is carried out once).",
    "schema": {"type": "string", "minLength": 8, "maxLength": 128}}


def document() -> dict:
    paths, schemas = {}, {"Error": ERROR}
    for area in AREAS:
        module = importlib.import_module(f"caseapp.api.{area}")
        paths.update(getattr(module, "PATHS", {}))
        schemas.update(getattr(module, "SCHEMAS", {}))
    for operations in paths.values():
        for method, op in operations.items():
            if method in ("post", "put", "patch", "delete"):
                params = op.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append(IDEMPOTENCY_KEY)
                for status, answer in error_responses(409, 422).items():  # a key sent again; a malformed one
                    op["responses"].setdefault(status, answer)
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
