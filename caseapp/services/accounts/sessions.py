"""Server-side login sessions and API tokens: created at login (or by an admin), checked on every request,
revocable by the user or an admin, and revoked together when the account's credentials or scope change."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from caseapp import audit, crypto
from caseapp.database import comma_list
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, Entity, User, UserRole, UserSession
from caseapp.models.base import attach_loaded, loaded_columns
from caseapp.services import notifications
from caseapp.services.primitives import keeping_loaded
from caseapp.timeutil import utcnow

TOUCH_EVERY = timedelta(seconds=60)  # a session's last_seen, a token's last use: written at most once a minute


@dataclass(frozen=True)
class SignedIn:
    """The server-side session a web request belongs to (`User.current_session`): its id, and her unread
    notifications, counted by the statement that found it (every page's header shows the count)."""

    id: int
    unread_at_sign_in: int


@functools.cache
def _user_columns() -> tuple:
    """(user keys, entity keys, their columns): what a load of the user and of her entity reads, less the deferred
    credentials."""
    (user_keys, user_columns), (entity_keys, entity_columns) = loaded_columns(User), loaded_columns(Entity)
    return user_keys, entity_keys, user_columns + entity_columns


@functools.cache
def by_token_hash(model, *columns):
    """The select() of a credential (a UserSession or an ApiToken) by its token's hash, bound as `token_hash`:
    `columns` of it (and any other column), then her user, her entity and her roles, which every request needs (one
    statement), as plain columns for `signed_in_user`. Built once."""
    roles = select(comma_list(UserRole.role)).where(UserRole.user_id == User.id).scalar_subquery()
    return (select(*columns, *_user_columns()[2], roles)
            .select_from(model).join(User, User.id == model.user_id).join(Entity, Entity.id == User.entity_id)
            .where(model.token_hash == bindparam("token_hash")))


def signed_in_user(row, start: int) -> User:
    """The user in `row` of by_token_hash from position `start` (her columns, her entity's, her roles), persistent
    in the request's session as a query would have loaded her."""
    user_keys, entity_keys, _columns = _user_columns()
    middle = start + len(user_keys)
    user, built = attach_loaded(db.session, User, dict(zip(user_keys, row[start:middle], strict=True)))
    if built:  # else as the session holds her (a query would not overwrite her either)
        entity_values = row[middle:middle + len(entity_keys)]
        entity, _ = attach_loaded(db.session, Entity, dict(zip(entity_keys, entity_values, strict=True)))
        set_committed_value(user, "entity", entity)
        user.__dict__["_role_names"] = frozenset(filter(None, (row[-1] or "").split(",")))
    return user


_SESSION = (UserSession.id, UserSession.ended_at, UserSession.last_seen_at, UserSession.created_at)


@functools.cache
def _sign_in():
    """by_token_hash(UserSession) with her unread notifications first: every page's header shows the count, and
    read here it costs no statement of its own."""
    return by_token_hash(UserSession, *_SESSION, notifications.unread_column(UserSession.user_id))


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
    found = db.session.connection().execute(_sign_in(), {"token_hash": crypto.hash_token(token)}).first()
    if found is None or found.ended_at is not None:
        return None, "ended"
    session_id, _ended_at, last_seen_at, created_at, unread = found[:len(_SESSION) + 1]
    now = utcnow()
    idle, absolute = _cutoffs(now)
    if last_seen_at < idle:
        reason = "idle_timeout"
    elif created_at < absolute:
        reason = "absolute_timeout"
    else:
        user = signed_in_user(found, len(_SESSION) + 1)
        reason = None if user.is_active else "user_inactive"
    if reason is not None:
        end(db.session.get(UserSession, session_id), reason)
        return None, reason
    if now - last_seen_at > TOUCH_EVERY:
        _note_use(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    user._session_token = token
    user.current_session = SignedIn(session_id, unread)
    return user, None


@dataclass(frozen=True)
class LiveToken:
    """The live API token of a request: its id, its scope, and her user."""

    id: int
    scope: str
    user: User


_TOKEN = (ApiToken.id, ApiToken.scope, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at)


def resolve_api_token(token: str) -> LiveToken | None:
    """The API token `token` if it is live (not revoked, not expired, its user active), or None."""
    row = db.session.connection().execute(by_token_hash(ApiToken, *_TOKEN),
                                          {"token_hash": crypto.hash_token(token)}).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = signed_in_user(row, len(_TOKEN))
    if not user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:  # not a write on every read
        _note_use(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return LiveToken(row.id, row.scope, user)


def _note_use(statement) -> None:
    """Write a session's or token's last use (`statement`, at most once a minute) and commit it. The commit keeps the
    user as read a moment ago: it need not send her, her entity and her roles to be read again."""
    db.session.execute(statement, execution_options={"synchronize_session": False})
    with keeping_loaded():
        db.session.commit()


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
