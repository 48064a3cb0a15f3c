"""JSON API v1 over the same services as the web: bearer tokens, JSON errors, an OpenAPI document."""
from __future__ import annotations

import importlib

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

# Names, not modules: the area submodules (caseapp.api.audit...) become attributes of this package.
from caseapp import crypto
from caseapp.audit import record_and_commit
from caseapp.errors import Invalid
from caseapp.extensions import csrf, db
from caseapp.models.accounts import ApiToken
from caseapp.timeutil import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Area modules: each adds its routes to `bp` and its OpenAPI path items in PATHS (and SCHEMAS).
AREAS = ("cases", "route", "referrals", "indicators", "audit")
PUBLIC_ENDPOINTS = {"api.openapi"}


def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == crypto.hash_token(token.strip())))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
        db.session.commit()
    return row.user


@bp.before_request
def bearer_auth():
    # Cookies never authenticate the API (no CSRF exposure): only a bearer token does.
    g._login_user = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = _authenticate()
    if user is None:
        record_and_commit("api.auth", outcome="denied", detail={"endpoint": request.endpoint or ""})
        return jsonify(error="unauthorized", message=_("A valid bearer token is required.")), 401
    g._login_user = user
    return None


def json_body() -> dict:
    """The request's JSON object, or Invalid with a clear message."""
    if not request.is_json:
        raise Invalid(_("The body must be JSON (Content-Type: application/json)."))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(_("The body must be a JSON object."))
    return data


@bp.route("/openapi.json")
def openapi():
    from caseapp.api.openapi import document

    return jsonify(document())


def init_app(app) -> None:
    for area in AREAS:
        importlib.import_module(f"caseapp.api.{area}")
    csrf.exempt(bp)
    app.register_blueprint(bp)
