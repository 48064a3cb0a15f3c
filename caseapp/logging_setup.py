"""Structured logs: one JSON object per line, with the request id, and no personal data.

What a log line may hold: time, level, logger, the message our code wrote (which never names a person: cases
are named by code), the request id (to join a line to the access log, where the actor and address are kept
under the hash chain), method, path WITHOUT the query string, status, duration. What it never holds: query
strings, form or JSON bodies, headers, cookies, client addresses, user agents, or exception messages (an
exception's text can quote a SQL parameter or a submitted value); an exception is logged by its type and the
code locations of its traceback.

`init_app(app)` switches the app's loggers to JSON when `CASEAPP_LOG_FORMAT=json`, or by default under the
production configuration. `GunicornLogger` (named by gunicorn.conf.py) writes gunicorn's error and access logs
in the same format.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime

# Extra attributes a record may carry into the JSON line (anything else passed in `extra=` is dropped).
EXTRA_FIELDS = ("request_id", "method", "path", "endpoint", "status", "duration_ms", "bytes", "pid", "event")


def _request_id() -> str | None:
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover - flask is a dependency
        return None
    if has_request_context():
        return g.get("request_id")
    return None


class RequestIdFilter(logging.Filter):
    """Attach the current request's id (caseapp.security sets g.request_id) to every record made in a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; exceptions by type and location only, never their message."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id()
        for key in EXTRA_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            entry["exc_type"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
            entry["exc_where"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)[-8:]
            ]
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def wants_json(app) -> bool:
    choice = os.environ.get("CASEAPP_LOG_FORMAT") or app.config.get("LOG_FORMAT")
    if choice:
        return choice.lower() == "json"
    return app.config.get("NAME") == "production"


def init_app(app) -> None:
    """Send the app's logs (logger "caseapp") as JSON lines to standard error when JSON logging is on."""
    if not wants_json(app):
        return
    from flask.logging import default_handler

    logger = logging.getLogger(app.name)
    logger.removeHandler(default_handler)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        logger.addHandler(json_handler())
    logger.setLevel(os.environ.get("CASEAPP_LOG_LEVEL", "INFO").upper())


try:  # gunicorn is a dependency, but keep this module importable without it
    from gunicorn.glogging import Logger as _GunicornBase
except ImportError:  # pragma: no cover
    _GunicornBase = object


class GunicornLogger(_GunicornBase):
    """gunicorn's error and access logs as JSON lines: the path without its query string, plus the request id."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        request_id = None
        for name, value in resp.headers:
            if name.lower() == "x-request-id":
                request_id = value
        self.access_log.info(
            "request",
            extra={
                "event": "access",
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),  # never RAW_URI / QUERY_STRING
                "status": int(status) if str(status).isdigit() else status,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "request_id": request_id,
                "pid": os.getpid(),
            },
        )
