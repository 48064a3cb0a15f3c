"""Security headers and session cookie flags, on every kind of page."""
from __future__ import annotations

import re

import pytest

import config
from caseapp import create_app

REQUIRED_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            assert words[0] not in directives, f"directive {words[0]} repeated"
            directives[words[0]] = words[1:]
    return directives


def _assert_headers(response):
    csp = _csp(response)
    for directive, sources in REQUIRED_CSP.items():
        assert csp.get(directive) == sources, f"{directive} is {csp.get(directive)}"
    for directive, sources in csp.items():
        for source in sources:
            assert source in ("'self'", "'none'"), f"{directive} allows {source}"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("X-Request-Id")


def _session_cookie(response, name="ruta_session"):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    return None


@pytest.mark.parametrize("path", ["/auth/login", "/healthz", "/no/such/page", "/api/v1/openapi.json"])
def test_anonymous_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    _assert_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_logged_in_pages_are_never_stored(client, factory, login_as):
    user = factory.user("ana", roles=("social_worker",))
    login_as(user)
    for path in ("/", "/cases/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        _assert_headers(response)
        assert response.headers["Cache-Control"] == "no-store", path


def test_api_errors_carry_the_headers_too(client):
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    _assert_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_each_request_gets_its_own_request_id(client):
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_login_page_has_no_inline_script_or_style(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> would be blocked by the CSP"
    assert " style=" not in html
    assert "<style" not in html
    assert "http://" not in html and "https://" not in html.replace('xmlns="http', "")


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/auth/login")
    cookie = _session_cookie(response)
    assert cookie, "the login form stores its CSRF token in the session"
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=(Lax|Strict)", cookie)


def test_production_cookie_is_secure_and_strict_transport(instance_path, database_url, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("CASEAPP_KEYRING", raising=False)
    monkeypatch.setenv("CASEAPP_LOG_FORMAT", "text")
    app = create_app(config.load("production"))
    client = app.test_client()
    response = client.get("/auth/login", base_url="https://ruta.example")
    _assert_headers(response)
    cookie = _session_cookie(response)
    assert cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    from caseapp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
