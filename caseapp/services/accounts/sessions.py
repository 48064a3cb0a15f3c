"""Server-side login sessions: created at login, checked on every request, revocable by the user or an admin."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from caseapp import audit, crypto
from caseapp.extensions import db
from caseapp.models.accounts import User, UserSession
from caseapp.timeutil import utcnow

TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most once a minute


def start(user: User, ip: str | None) -> str:
    """A new session for `user`; returns the secret token that goes into the signed session cookie."""
    token = crypto.new_token()
    now = utcnow()
    db.session.add(
        UserSession(user_id=user.id, token_hash=crypto.hash_token(token), created_at=now, last_seen_at=now, ip=ip)
    )
    user._session_token = token
    return token


def resolve(token: str) -> tuple[User | None, str | None]:
    """The user of a live session, or (None, reason) when it ended, idled out or outlived 12 hours."""
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == crypto.hash_token(token)))
    if row is None or row.ended_at is not None:
        return None, "ended"
    now = utcnow()
    cfg = current_app.config
    if now - row.last_seen_at > cfg["SESSION_IDLE_TIMEOUT"]:
        end(row, "idle_timeout")
        return None, "idle_timeout"
    if now - row.created_at > cfg["SESSION_ABSOLUTE_TIMEOUT"]:
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
    user.current_session = row
    return user, None


def end(row: UserSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason
    audit.record("session.end", actor=row.user, object_type="session", object_ref=str(row.id),
                 detail={"reason": reason})
    db.session.commit()


def end_all(user: User, reason: str) -> int:
    """End every live session of `user` (logout everywhere, admin action, deactivation). Caller commits."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return result.rowcount or 0


def live_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at.desc())
        )
    )
