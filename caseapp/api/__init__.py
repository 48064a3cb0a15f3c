"""JSON API v1 over the same services as the web: bearer tokens, JSON errors, an OpenAPI document."""
from __future__ import annotations

import importlib
import json

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

# Names, not modules: the area submodules (caseapp.api.audit...) become attributes of this package.
from caseapp import authz
from caseapp.audit import record_and_commit
from caseapp.errors import Invalid, NotFound
from caseapp.extensions import csrf, db
from caseapp.models.accounts import CASE_ROLES
from caseapp.services.accounts import sessions
from caseapp.services.primitives import expect_once, request_fingerprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Area modules: each adds its routes to `bp` and its OpenAPI path items in PATHS (and SCHEMAS).
AREAS = ("cases", "route", "legal", "shelters", "lifecycle", "followup", "referrals", "indicators", "audit",
         "entities", "assignments", "attachments", "family", "safety", "notifications", "timeline")
PUBLIC_ENDPOINTS = {"api.openapi"}

# Only case roles (social worker, lawyer) act on cases: coordinators, auditors and admins get 403.
case_roles = authz.role_required(*CASE_ROLES)

# Kinds of JSON values a body field may hold (checked before any service is called).
TEXT, DATE, INTEGER, BOOLEAN, ANY = "text", "date", "integer", "boolean", "any"
INT_RANGE = (-(2**31), 2**31 - 1)  # ids and counts fit the database's integer


# A `read` token may only read: every other method is refused here, the one place every API call passes.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A registration retried with its Idempotency-Key answers the case it made (services.registry.registration)
OWN_IDEMPOTENCY = frozenset({"api.create_case"})


def _token() -> sessions.LiveToken | None:
    """The live token of the request (not revoked, not expired, its user active), or None."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return sessions.resolve_api_token(token)


def _refuse(status: int, error: str, reason: str, message: str, rule: str | None = None):
    record_and_commit("api.auth", outcome="denied", detail={"endpoint": request.endpoint or "", "reason": reason})
    body = {"error": error, "message": message}
    if rule:
        body["rule"] = rule
    return jsonify(body), status


@bp.before_request
def bearer_auth():
    # Cookies never authenticate the API (no CSRF exposure): only a bearer token does.
    g._login_user = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    row = _token()
    if row is None:
        return _refuse(401, "unauthorized", "no_valid_token", _("A valid bearer token is required."))
    if row.user.must_change_password:
        return _refuse(403, "forbidden", "password_change_required",
                       _("You must choose a new password before you go on: sign in on the website and change it."),
                       rule="password_change_required")
    if row.scope != "read-write" and request.method not in READ_METHODS:
        return _refuse(403, "forbidden", "read_only_token",
                       _("This API token can only read. Ask an administrator for a read-write token."),
                       rule="token_read_only")
    g._login_user = row.user
    key = request.headers.get("Idempotency-Key")
    if key is not None and request.method not in READ_METHODS and request.endpoint not in OWN_IDEMPOTENCY:
        # a retried write (its answer lost on the way) is carried out once: primitives.expect_once (the body is
        # hashed only then: an upload without a key is not read twice)
        expect_once(row.user, key, request_fingerprint(request))
    return None


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def json_body() -> dict:
    """The request's JSON object, or Invalid with a clear message.

    Strict JSON: NaN and Infinity (which Python's parser would accept) and nesting too deep to parse are refused
    like any other malformed body, never reaching a service."""
    if not request.is_json:
        raise Invalid(_("The body must be JSON (Content-Type: application/json)."))
    try:
        data = json.loads(request.get_data(cache=True), parse_constant=_not_json)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise Invalid(_("The body must be a JSON object."))
    return data


def only(body: dict, allowed) -> None:
    """Refuse a body with fields the endpoint does not know (named in `fields`): nothing is saved."""
    unknown = sorted(str(k)[:64] for k in body if k not in allowed)
    if unknown:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={k: _("Unknown field.") for k in unknown})


def _wrong_kind(kind: str, value) -> str | None:
    if value is None or kind == ANY:
        return None
    if kind == TEXT and not isinstance(value, str):
        return _("Enter text.")
    if kind == DATE and not isinstance(value, str):
        return _("Write the date as YYYY-MM-DD.")
    if kind == INTEGER and (isinstance(value, bool) or not isinstance(value, int)
                            or not INT_RANGE[0] <= value <= INT_RANGE[1]):
        return _("Enter a whole number.")
    if kind == BOOLEAN and not isinstance(value, bool):
        return _("Answer yes or no.")
    return None


def body_of(fields: dict[str, str], *, empty_ok: bool = False) -> dict:
    """The request's JSON object with only `fields` ({name: kind}), each of its kind or null; Invalid otherwise.

    Only the shape is checked here: every rule about the values is the service's. `empty_ok`: a request with no
    body at all counts as {} (actions that need no field)."""
    body = {} if empty_ok and not request.get_data(cache=True) else json_body()
    only(body, fields)
    errors = {name: message for name, kind in fields.items() if (message := _wrong_kind(kind, body.get(name)))}
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    return body


def case_row(model, row_id: int, code: str):
    """The row `row_id` of `model` (a step, goal, stay, measure...) when it belongs to the case named `code` in the
    URL; NotFound otherwise, as for a row that does not exist. Who may act on it is the service's to say."""
    row = db.session.get(model, row_id)
    if row is None or not isinstance(code, str) or row.case.code != code.strip().upper():
        raise NotFound()
    return row


def iso(value):
    """A date as ISO text (None stays None)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


@bp.route("/openapi.json")
def openapi():
    from caseapp.api.openapi import document

    return jsonify(document())


def init_app(app) -> None:
    for area in AREAS:
        importlib.import_module(f"caseapp.api.{area}")
    csrf.exempt(bp)
    app.register_blueprint(bp)
