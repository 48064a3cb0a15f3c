"""Server-side login sessions and API tokens: created at login (or by an admin), checked on every request,
revocable by the user or an admin, and revoked together when the account's credentials or scope change."""
from __future__ import annotations

import functools
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from caseapp import audit, crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, User, UserSession
from caseapp.services import notifications
from caseapp.timeutil import utcnow

TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most once a minute


@functools.cache
def by_token_hash(model):
    """The select() of a credential (a UserSession or an ApiToken) by its token's hash, bound as `token_hash`, with
    its user and her roles: every request needs all three (one statement), and builds it once."""
    return (select(model).options(joinedload(model.user).joinedload(User.role_rows))
            .where(model.token_hash == bindparam("token_hash")))


@functools.cache
def _sign_in():
    """by_token_hash(UserSession) with her unread notifications as a second column: every page's header shows the
    count, and read here it costs no statement of its own."""
    return by_token_hash(UserSession).add_columns(notifications.unread_column(UserSession.user_id))


def start(user: User, ip: str | None) -> str:
    """A new session for `user`; returns the secret token that goes into the signed session cookie."""
    token = crypto.new_token()
    now = utcnow()
    db.session.add(
        UserSession(user_id=user.id, token_hash=crypto.hash_token(token), created_at=now, last_seen_at=now, ip=ip)
    )
    user._session_token = token
    return token


def _cutoffs(now) -> tuple:
    """(idle, absolute): a session last seen before the first, or started before the second, is over. The one owner
    of both timeouts, for the request that uses a session and for the lists that count the live ones."""
    cfg = current_app.config
    return now - cfg["SESSION_IDLE_TIMEOUT"], now - cfg["SESSION_ABSOLUTE_TIMEOUT"]


def resolve(token: str) -> tuple[User | None, str | None]:
    """The user of a live session, or (None, reason) when it ended, idled out or outlived 12 hours."""
    found = db.session.execute(_sign_in(), {"token_hash": crypto.hash_token(token)}).unique().first()
    if found is None or found[0].ended_at is not None:
        return None, "ended"
    row, unread = found
    now = utcnow()
    idle, absolute = _cutoffs(now)
    if row.last_seen_at < idle:
        end(row, "idle_timeout")
        return None, "idle_timeout"
    if row.created_at < absolute:
        end(row, "absolute_timeout")
        return None, "absolute_timeout"
    user = row.user
    if not user.is_active:
        end(row, "user_inactive")
        return None, "user_inactive"
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user._session_token = token
    row.unread_at_sign_in = unread
    user.current_session = row
    return user, None


def end(row: UserSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason
    audit.record("session.end", actor=row.user, object_type="session", object_ref=str(row.id),
                 detail={"reason": reason})
    db.session.commit()


def end_all(user: User, reason: str, *, keep: int | None = None) -> int:
    """End every session of `user` not ended yet but the one `keep` (logout everywhere, admin action, deactivation,
    a password change, which keeps the current one); returns how many of them were live. One that idled out or
    outlived its 12 hours is ended too, uncounted: nobody could use it, and "sessions closed: 37" for a worker who
    never pressed "sign out" would not be true. Caller commits."""
    now = utcnow()  # one instant: the one the sessions end at is the one they are judged live at
    idle, absolute = _cutoffs(now)
    ended = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.id != (keep or 0))
        .values(ended_at=now, end_reason=reason)
        .returning(UserSession.last_seen_at, UserSession.created_at)
    ).all()
    return sum(1 for last_seen_at, created_at in ended if last_seen_at >= idle and created_at >= absolute)


def live_sessions(user: User) -> list[UserSession]:
    """The sessions `user` could still use, newest first: not ended, and within both timeouts. A session whose
    browser was closed without signing out stays unended until it is used again; it is no open session."""
    idle, absolute = _cutoffs(utcnow())
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
                   UserSession.last_seen_at >= idle, UserSession.created_at >= absolute)
            .order_by(UserSession.created_at.desc())
        )
    )


# Why API tokens are revoked: each event that changes who may act, or proves the old credentials are unsafe.
REVOKE_REASONS = ("password_change", "password_reset", "logout_everywhere", "totp_reset", "role_change",
                  "deactivation", "admin")


def revoke_api_tokens(user: User, reason: str) -> int:
    """Revoke every live API token of `user` (the one owner of this rule: every event above calls it).

    Writes an access-log row when any was live; the caller commits with its own change. Returns how many."""
    if reason not in REVOKE_REASONS:
        raise ValueError(f"unknown revoke reason {reason!r}")
    revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    if revoked:
        audit.record("token.revoke", object_type="user", object_ref=user.username,
                     detail={"reason": reason, "tokens_revoked": revoked})
    return revoked


def live_api_tokens(user: User) -> list[ApiToken]:
    """Tokens that still work: not revoked and not expired, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
            .order_by(ApiToken.created_at.desc())
        )
    )
