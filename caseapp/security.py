"""Request-level security: session loading, request ids, security headers, and the error pages.

Denied requests are written to the access log here, in one place, after the business transaction
has been rolled back.
"""
from __future__ import annotations

import logging
import time
import uuid

import flask_login.utils
from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from caseapp import audit
from caseapp.errors import Conflict, DomainError, Forbidden, NotFound
from caseapp.extensions import db, login_manager
from caseapp.services.primitives import forget_submission

log = logging.getLogger("caseapp")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to PostgreSQL's integer range (ids are never larger)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


@login_manager.user_loader
def load_user(token: str):
    from caseapp.services.accounts import sessions

    user, reason = sessions.resolve(token)
    if user is None and reason in ("idle_timeout", "absolute_timeout"):
        g.session_expired = True
    return user


def request_user():
    """The request's user, as Flask-Login's `_get_user` finds her (`current_user`: loaded at the first ask, kept on
    `g` for the rest of the request; None outside a request), with one look at `g` instead of two through its
    proxy: a use of `current_user` cost 8.6 us, 3.4 now, and a page makes dozens (its rules, its log rows, its
    templates)."""
    if not has_request_context():
        return None
    found = g._get_current_object()
    try:
        return found._login_user
    except AttributeError:
        current_app.login_manager._load_user()
        return found._login_user


@login_manager.unauthorized_handler
def unauthorized():
    if is_api_request():
        return jsonify(error="unauthorized", message=_("Authentication required.")), 401
    if g.get("session_expired"):
        flash(_("Your session expired. Please sign in again."), "info")
    return redirect(url_for("auth.login"))


def _record_denial(status: int, message: str = "") -> None:
    denial = g.pop("audit_denial", None) or {}
    obj = denial.get("obj")
    try:
        audit.record_and_commit(
            denial.get("action") or f"request:{request.endpoint or 'unknown'}",
            obj,
            outcome="denied",
            detail={"status": status, "method": request.method, "endpoint": request.endpoint or ""},
        )
    except Exception:  # the denial must still be answered even if the log cannot be written
        db.session.rollback()
        log.exception("could not record a denied request")


def _error_response(status: int, message: str, field_errors: dict | None = None, rule: str | None = None):
    if is_api_request():
        body = {"error": {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                          409: "conflict", 422: "invalid", 429: "too_many_requests"}.get(status, "error"),
                "message": message}
        if rule:
            body["rule"] = rule
        if field_errors:
            body["fields"] = {name: [str(m) for m in messages] for name, messages in field_errors.items()}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Authentication required."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("Page not found."),
    405: lambda: _("This method is not allowed here."),
    409: lambda: _("Someone else changed this record while you were editing it. Reload it and try again; nothing was saved."),
    413: lambda: _("The request is too large (at most %(mb)s MB); nothing was saved.",
                   mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)),
    422: lambda: _("Some fields are not valid; nothing was saved."),
    429: lambda: _("Too many attempts. Wait a few minutes and try again."),
    500: lambda: _("Something went wrong on our side; nothing was saved. The team has been notified."),
}


def init_app(app) -> None:
    # Never `setdefault`: Flask's config already holds MAX_CONTENT_LENGTH = None (no limit), which it would keep.
    if not app.config.get("MAX_CONTENT_LENGTH"):
        app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    flask_login.utils._get_user = request_user  # what `current_user` stands for, found with one look at g

    @app.before_request
    def assign_request_id():
        g.request_id = str(uuid.uuid4())
        g.started = time.perf_counter()

    @app.after_request
    def security_headers(response):
        h = response.headers
        h["Content-Security-Policy"] = CSP
        h["Referrer-Policy"] = "no-referrer"
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        h["X-Request-Id"] = g.get("request_id", "")
        if app.config.get("SERVER_TIMING") and "started" in g:  # benchmarks only: a timing oracle otherwise
            h["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.2f}"
        if app.config.get("SESSION_COOKIE_SECURE"):
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint != "static":
            # Every page may show case data: never stored by the browser or a proxy.
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        forget_submission()  # a refusal logged below is not the write the key stood for
        status = error.status
        if isinstance(error, (Forbidden, NotFound)):
            _record_denial(status)
        message = error.message or MESSAGES[status]()
        if isinstance(error, NotFound):
            message = MESSAGES[404]()
        return _error_response(status, message, error.field_errors, None if isinstance(error, NotFound) else error.rule)

    @app.errorhandler(StaleDataError)
    def stale(_error):
        db.session.rollback()
        return domain_error(Conflict(rule="stale_version"))  # a race lost at the UPDATE: the same refusal as require_version

    @app.errorhandler(DataError)
    def data_error(_error):
        # A value the database cannot hold (a NUL byte, an id beyond its integer range) reached a query:
        # bad input, refused like any other, never a 500.
        db.session.rollback()
        return _error_response(422, MESSAGES[422]())

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        g.audit_denial = {"action": "csrf", "obj": None}
        _record_denial(400)
        return _error_response(400, _("The form expired or was not sent from this site. Reload the page and try again; nothing was saved."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        if status in (401, 403):
            _record_denial(status)
            if status == 401 and not is_api_request():
                return unauthorized()
        message = MESSAGES.get(status, lambda: error.description)()
        return _error_response(status, message)

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        forget_submission()
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        try:
            audit.record_and_commit(f"request:{request.endpoint or 'unknown'}", outcome="error")
        except Exception:
            db.session.rollback()
        return _error_response(500, MESSAGES[500]())

    @app.context_processor
    def inject_session_locale():
        # (`current_user`, the signed-in user herself, comes from Flask-Login's own context processor)
        return {"session_locale": session.get("locale")}

