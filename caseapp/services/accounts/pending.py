"""The half-done login (password checked, second factor still to come), kept on the server.

The browser's session holds only a random id; the row holds its keyed hash, the user and a short expiry
(LOGIN_PENDING_TTL). It is used once: completing the login, or a failure that ends it, marks it used, so a copy
of the pre-login cookie is worthless afterwards, and it can never be stretched past its expiry by the client.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select, update

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import PendingLogin, User
from caseapp.timeutil import utcnow


def open_for(user: User) -> str:
    """A new pending login for `user`; returns the id for the browser's session. The caller commits."""
    token = crypto.new_token()
    now = utcnow()
    # Old rows (used or expired) are of no use to anyone: keep the table small.
    db.session.execute(delete(PendingLogin).where(PendingLogin.expires_at < now - current_app.config[
        "LOGIN_PENDING_TTL"]).execution_options(synchronize_session=False))
    db.session.add(PendingLogin(token_hash=crypto.hash_token(token), user_id=user.id, created_at=now,
                                expires_at=now + current_app.config["LOGIN_PENDING_TTL"]))
    return token


def find(token: str | None) -> PendingLogin | None:
    """The live pending login of this id (not used, not expired), or None."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    row = db.session.scalar(select(PendingLogin).where(PendingLogin.token_hash == crypto.hash_token(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def expired(token: str | None) -> bool:
    """True when this id names a pending login that ran out of time (the person is told to start again)."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return False
    row = db.session.scalar(select(PendingLogin).where(PendingLogin.token_hash == crypto.hash_token(token)))
    return row is not None and row.used_at is None and row.expires_at <= utcnow()


def consume(row_id: int) -> bool:
    """Mark the pending login used, once: False when another request already used it (a replay or a race)."""
    result = db.session.execute(
        update(PendingLogin).where(PendingLogin.id == row_id, PendingLogin.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
