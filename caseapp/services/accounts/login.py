"""Accounts: two-step login (password, then TOTP), throttling and lockout, second-factor enrolment,
recovery codes, password change, logout and logout everywhere, language preference.

A failed step says only "login failed" to the person; the reason goes to the access log. Failures are
counted per account (User.failed_logins → User.locked_until) and per address (failed-login rows of the
access log from that address within LOGIN_ADDRESS_WINDOW). Login bookkeeping (failure counter, lock,
last login, TOTP counter) is written with plain UPDATEs so that it never makes an admin's open edit of
the same user stale.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from caseapp import audit, crypto
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.accounts import RecoveryCode, User, UserSession
from caseapp.models.audit import AuditEvent
from caseapp.services.accounts import passwords, sessions
from caseapp.timeutil import epoch, utcnow

ISSUER = "Ruta"
RECOVERY_CODE_COUNT = 10
TOTP_WINDOW = 1  # accept the previous and the next 30-second step as well (clock drift)
# Access-log actions that count as failed logins from an address.
FAILED_LOGIN_ACTIONS = ("login.failure", "totp.failure", "totp.replay")
# Failures after which the half-done login cannot go on (the person starts again at the password).
FINAL_REASONS = frozenset({"unknown_user", "inactive", "locked", "address_throttled", "not_pending"})
_CODE = re.compile(r"\d{6}")
MAX_USERNAME = 64
MAX_PASSWORD_INPUT = 1024


class LoginFailed(Exception):
    """A login step failed. The person is told only the generic message; `reason` is for the access log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def final(self) -> bool:
        return self.reason in FINAL_REASONS


# --- throttling and lockout ----------------------------------------------------------------------------


def address_throttled(ip: str | None) -> bool:
    """True when the address has too many failed logins within the window (index: action, ip, at)."""
    if not ip:
        return False
    cfg = current_app.config
    limit = cfg["LOGIN_ADDRESS_MAX_FAILURES"]
    recent = (
        select(AuditEvent.seq)
        .where(
            AuditEvent.action.in_(FAILED_LOGIN_ACTIONS),
            AuditEvent.ip == ip,
            AuditEvent.at >= utcnow() - cfg["LOGIN_ADDRESS_WINDOW"],
        )
        .limit(limit)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(recent)) >= limit


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _count_failure(user_id: int) -> bool:
    """Add one failure to the account; lock it when it reaches the limit. True when this locked it."""
    cfg = current_app.config
    db.session.execute(
        update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1),
        execution_options={"synchronize_session": False},
    )
    failures = db.session.scalar(select(User.failed_logins).where(User.id == user_id))
    if failures < cfg["LOGIN_MAX_FAILURES"]:
        return False
    # The counter starts again, so that after the lock the account gets its full number of tries.
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=0, locked_until=utcnow() + cfg["LOGIN_LOCKOUT"]),
        execution_options={"synchronize_session": False},
    )
    return True


def _failure(user: User | None, reason: str, *, action: str = "login.failure", count: bool = True,
             actor=None) -> LoginFailed:
    """Record a failed step in its own transaction (and count it on the account); returns the error to raise."""
    user_id = user.id if user is not None else None
    username = user.username if user is not None else None
    db.session.rollback()
    locked = _count_failure(user_id) if (user_id is not None and count) else False
    ref = {"object_type": "user", "object_ref": username} if username else {}
    audit.record(action, outcome="denied", detail={"reason": reason}, actor=actor, **ref)
    if locked:
        audit.record("login.lockout", outcome="denied", actor=actor,
                     detail={"failures": current_app.config["LOGIN_MAX_FAILURES"]}, **ref)
    db.session.commit()
    return LoginFailed(reason)


# --- step 1: password ----------------------------------------------------------------------------------


def authenticate(username: str, password: str, ip: str | None) -> User:
    """Check username and password. Returns the user, whose second factor is still to be checked.

    Unknown, inactive or locked accounts cost the same Argon2 computation as a wrong password.
    A user without a second factor gets a fresh TOTP secret, to be confirmed on the enrolment page.
    """
    username = (username or "").strip()
    password = password or ""
    if address_throttled(ip):
        raise _failure(None, "address_throttled")
    if len(username) > MAX_USERNAME or not username.isprintable() or len(password) > MAX_PASSWORD_INPUT:
        # Refused before any hashing (no Argon2 over megabytes) or query (PostgreSQL refuses NUL bytes).
        raise _failure(None, "malformed")
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    if user is None:
        passwords.verify(None, password)
        raise _failure(None, "unknown_user")
    ok = passwords.verify(user.password_hash, password)
    if not user.is_active:
        raise _failure(user, "inactive", count=False)
    if is_locked(user):
        raise _failure(user, "locked", count=False)
    if not ok:
        raise _failure(user, "bad_password")
    if crypto.password_needs_rehash(user.password_hash) or passwords.normalise(password) != password:
        user.password_hash = passwords.hash_password(password)
    if user.totp_enrolled_at is None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_counter = None
    db.session.commit()
    return user


# --- step 2: second factor -----------------------------------------------------------------------------


def _pending_user(user_id: int | None) -> User:
    """The user of a half-done login, if the login may still go on."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        raise _failure(None, "not_pending", count=False)
    if not user.is_active:
        raise _failure(user, "inactive", count=False)
    if is_locked(user):
        raise _failure(user, "locked", count=False)
    return user


def pending_state(user_id: int | None) -> str | None:
    """'verify' or 'enrol' for the user of a half-done login; None when there is no such user."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.is_active:
        return None
    return "verify" if user.totp_enrolled_at is not None else "enrol"


def match_totp(secret: str | None, code: str, at: float | None = None) -> int | None:
    """The time-step counter the code belongs to (±TOTP_WINDOW steps), or None."""
    code = re.sub(r"\s", "", (code or "")[:64])
    if not secret or not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    now = int(epoch() if at is None else at)
    base = now // totp.interval
    matched = None
    for counter in range(base - TOTP_WINDOW, base + TOTP_WINDOW + 1):
        if crypto.same_secret(totp.generate_otp(counter), code):
            matched = counter
    return matched


def _claim_counter(user_id: int, counter: int) -> bool:
    """Use a code's time step once: refuse it when that step or a later one was already used (atomic)."""
    result = db.session.execute(
        update(User)
        .where(User.id == user_id, or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter))
        .values(totp_last_counter=counter),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def _complete_login(user: User, ip: str | None, factor: str) -> User:
    """Open the server-side session and record the login (commits)."""
    sessions.start(user, ip)
    db.session.execute(
        update(User).where(User.id == user.id).values(failed_logins=0, last_login_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    audit.record("login.success", actor=user, object_type="user", object_ref=user.username,
                 detail={"factor": factor})
    db.session.commit()
    return user


def verify_second_factor(user_id: int, code: str, ip: str | None) -> User:
    """Check the TOTP code of a half-done login; on success the login is complete."""
    if address_throttled(ip):
        raise _failure(None, "address_throttled")
    user = _pending_user(user_id)
    if user.totp_enrolled_at is None:
        raise LoginFailed("not_enrolled")
    counter = match_totp(user.totp_secret, code)
    if counter is None:
        raise _failure(user, "bad_code", action="totp.failure", actor=user)
    if not _claim_counter(user.id, counter):
        raise _failure(user, "replayed_code", action="totp.replay", actor=user)
    return _complete_login(user, ip, "totp")


def use_recovery_code(user_id: int, code: str, ip: str | None) -> User:
    """A one-time recovery code in place of the TOTP code; on success the login is complete."""
    if address_throttled(ip):
        raise _failure(None, "address_throttled")
    user = _pending_user(user_id)
    normalised = crypto.normalise_recovery_code((code or "")[:64])
    if user.totp_enrolled_at is None or len(normalised) != 12:
        raise _failure(user, "bad_recovery_code", action="totp.failure", actor=user)
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == crypto.hash_token(normalised),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if used.rowcount != 1:
        raise _failure(user, "bad_recovery_code", action="totp.failure", actor=user)
    audit.record("recovery_code.used", actor=user, object_type="user", object_ref=user.username,
                 detail={"remaining": remaining_recovery_codes(user)})
    return _complete_login(user, ip, "recovery_code")


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


# --- enrolment -----------------------------------------------------------------------------------------


@dataclass
class Enrolment:
    username: str
    secret: str
    uri: str


def enrolment(user_id: int) -> Enrolment:
    """The secret to show on the enrolment page of a half-done login (as text and as a QR code)."""
    user = _pending_user(user_id)
    if user.totp_enrolled_at is not None:
        raise LoginFailed("already_enrolled")
    secret = user.totp_secret
    if not secret:
        secret = user.totp_secret = pyotp.random_base32()
        db.session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(user.username, secret, uri)


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with new ones; only their keyed hashes are stored."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = utcnow()
    codes = [crypto.new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, created_at=now,
                                    code_hash=crypto.hash_token(crypto.normalise_recovery_code(code))))
    return codes


def confirm_enrolment(user_id: int, code: str, ip: str | None) -> tuple[User, list[str]]:
    """Confirm the new second factor with a code from the app; completes the login.

    Returns the user and the recovery codes, to be shown once.
    """
    if address_throttled(ip):
        raise _failure(None, "address_throttled")
    user = _pending_user(user_id)
    if user.totp_enrolled_at is not None:
        raise LoginFailed("already_enrolled")
    counter = match_totp(user.totp_secret, code)
    if counter is None:
        raise _failure(user, "bad_code", action="totp.failure", actor=user)
    if not _claim_counter(user.id, counter):
        raise _failure(user, "replayed_code", action="totp.replay", actor=user)
    user.totp_enrolled_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record("totp.enrol", actor=user, object_type="user", object_ref=user.username)
    _complete_login(user, ip, "enrolment")
    return user, codes


# --- the signed-in person's own account ------------------------------------------------------------------


def _refuse_code(user: User, reason: str, action: str) -> Invalid:
    _failure(user, reason, action=action, actor=user)
    return Invalid(field_errors={"regen_code": [_("The code is not valid. Wait for a new code and try again.")]})


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), confirmed by a current TOTP code."""
    if is_locked(user):
        raise Invalid(field_errors={"regen_code": [_("Too many failed attempts. Try again later.")]})
    counter = match_totp(user.totp_secret, code)
    if counter is None:
        raise _refuse_code(user, "bad_code", "totp.failure")
    if not _claim_counter(user.id, counter):
        raise _refuse_code(user, "replayed_code", "totp.replay")
    codes = _new_recovery_codes(user)
    audit.record("recovery_code.regenerate", actor=user, object_type="user", object_ref=user.username)
    db.session.commit()
    return codes


def change_password(user: User, current: str, new: str, confirm: str) -> int:
    """Change the signed-in user's password; ends the user's other sessions. Returns how many ended."""
    errors: dict[str, list[str]] = {}
    if (new or "") != (confirm or ""):
        errors["confirm_password"] = [_("The two new passwords are not the same.")]
    problems = passwords.problems(new or "", user.username)
    if problems:
        errors["new_password"] = problems
    elif passwords.normalise(new or "") == passwords.normalise(current or ""):
        errors["new_password"] = [_("The new password must be different from the current one.")]
    if is_locked(user):
        errors["current_password"] = [_("Too many failed attempts. Try again later.")]
    elif not passwords.verify(user.password_hash, current or ""):
        _failure(user, "bad_password", action="password.change", actor=user)
        errors["current_password"] = [_("The current password is not correct.")]
    if errors:
        raise Invalid(field_errors=errors)
    now = utcnow()
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = now
    user.must_change_password = False
    keep = user.current_session.id if user.current_session is not None else None
    ended = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.id != (keep or 0))
        .values(ended_at=now, end_reason="password_change"),
        execution_options={"synchronize_session": False},
    ).rowcount or 0
    audit.record("password.change", actor=user, object_type="user", object_ref=user.username,
                 detail={"other_sessions_ended": ended})
    db.session.commit()
    return ended


def set_locale(user: User, locale: str) -> None:
    """Save the user's language (es_CO or en)."""
    if locale not in current_app.config["LANGUAGES"]:
        raise Invalid(field_errors={"locale": [_("Choose one of the languages offered.")]})
    user.locale = locale
    audit.record("account.locale", actor=user, object_type="user", object_ref=user.username,
                 detail={"locale": locale})
    db.session.commit()


def overview(user: User) -> dict:
    """What the account page shows: live sessions (the current one marked) and unused recovery codes."""
    current_id = user.current_session.id if user.current_session is not None else None
    return {
        "sessions": sessions.live_sessions(user),
        "current_session_id": current_id,
        "recovery_codes_left": remaining_recovery_codes(user),
    }


def logout(user: User) -> None:
    """End the current server-side session: its cookie is worthless from now on."""
    row = user.current_session
    if row is not None:
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id, UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason="logout"),
            execution_options={"synchronize_session": False},
        )
    audit.record("logout", actor=user, object_type="session", object_ref=str(row.id) if row is not None else None)
    db.session.commit()


def logout_everywhere(user: User) -> int:
    """End every session of the user, on every device. Returns how many ended."""
    ended = sessions.end_all(user, "logout_everywhere")
    audit.record("logout.everywhere", actor=user, object_type="user", object_ref=user.username,
                 detail={"sessions": ended})
    db.session.commit()
    return ended
