"""Known devices (OWASP's "device cookies"): a browser where an account signed in fully gets a signed cookie, and
its later attempts for that account are throttled under their own key, not under the account's or the address's.

So a stranger failing on purpose, from anywhere, slows down only browsers that never signed in as her: the real
user's own browser goes on. The cookie proves one past sign-in for one account; it never authenticates anything
(both factors are still asked) and holds no name: the account is a keyed hash, the rest a random nonce.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from caseapp import crypto

COOKIE = "ruta_device"
MAX_AGE = timedelta(days=180)
_SALT = "ruta-known-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _account(username: str) -> str:
    return crypto.hash_token(f"device-account:{(username or '').strip().lower()}")[:32]


def issue(username: str) -> str:
    """The cookie value for a browser that just signed in as `username`."""
    return _serializer().dumps({"a": _account(username), "n": secrets.token_urlsafe(16)})


def known(cookie: str | None, username: str | None) -> str | None:
    """The device's nonce when `cookie` is a valid known-device cookie of `username`; None otherwise."""
    if not cookie or not username or len(cookie) > 512:
        return None
    try:
        data = _serializer().loads(cookie, max_age=int(MAX_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not crypto.same_secret(str(data.get("a", "")), _account(username)):
        return None
    nonce = data.get("n")
    return nonce if isinstance(nonce, str) and nonce else None
