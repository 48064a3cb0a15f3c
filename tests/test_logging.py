"""Structured logs: JSON lines with the request id, no query strings, no exception text, no personal data."""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

from caseapp import logging_setup


def _capture(app):
    stream = io.StringIO()
    handler = logging_setup.json_handler(stream)
    app.logger.addHandler(handler)
    return stream, handler


def test_json_line_carries_the_request_id(app):
    stream, handler = _capture(app)
    try:
        with app.test_request_context("/cases/?q=52123456"):
            app.preprocess_request()
            from flask import g

            app.logger.warning("something happened")
            request_id = g.request_id
    finally:
        app.logger.removeHandler(handler)
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["message"] == "something happened"
    assert entry["level"] == "WARNING"
    assert entry["request_id"] == request_id
    assert "52123456" not in stream.getvalue()


def test_exceptions_are_logged_by_type_and_place_never_by_message(app):
    stream, handler = _capture(app)
    try:
        try:
            raise ValueError("document 52123456 of Mariana Pérez")
        except ValueError:
            app.logger.exception("unhandled error")
    finally:
        app.logger.removeHandler(handler)
    line = stream.getvalue()
    entry = json.loads(line)
    assert entry["exc_type"] == "builtins.ValueError"
    assert any("test_logging.py" in where for where in entry["exc_where"])
    assert "52123456" not in line and "Mariana" not in line


def test_unhandled_error_in_a_request_leaves_no_value_in_the_log(app, client):
    stream, handler = _capture(app)

    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("secret value 52123456")

    try:
        response = client.get("/boom-for-test?document=52123456")
    finally:
        app.logger.removeHandler(handler)
    assert response.status_code == 500
    assert "52123456" not in response.get_data(as_text=True)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and lines[-1]["exc_type"] == "builtins.RuntimeError"
    assert lines[-1]["request_id"] == response.headers["X-Request-Id"]
    assert "52123456" not in stream.getvalue()


def test_production_switches_the_app_logger_to_json(monkeypatch):
    app = SimpleNamespace(config={"NAME": "production"}, name="ruta-logging-test")
    monkeypatch.delenv("CASEAPP_LOG_FORMAT", raising=False)
    logging_setup.init_app(app)
    logger = logging.getLogger("ruta-logging-test")
    assert any(isinstance(h.formatter, logging_setup.JsonFormatter) for h in logger.handlers)
    assert logging_setup.wants_json(SimpleNamespace(config={"NAME": "development"})) is False


def test_gunicorn_access_line_has_path_without_query_string():
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    log = logging_setup.GunicornLogger(cfg)
    stream = io.StringIO()
    for h in log.access_log.handlers:
        h.setStream(stream)
    resp = SimpleNamespace(status="200 OK", headers=[("X-Request-Id", "rid-1"), ("Content-Type", "text/html")], sent=12)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/cases/CTG-2025-00001", "QUERY_STRING": "name=Mariana",
               "RAW_URI": "/cases/CTG-2025-00001?name=Mariana", "REMOTE_ADDR": "10.9.8.7",
               "HTTP_USER_AGENT": "Mozilla"}
    log.access(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    line = stream.getvalue()
    entry = json.loads(line)
    assert entry["path"] == "/cases/CTG-2025-00001"
    assert entry["status"] == 200 and entry["request_id"] == "rid-1" and entry["method"] == "GET"
    assert "Mariana" not in line and "10.9.8.7" not in line and "Mozilla" not in line
