"""Accounts: two-step login (password, then TOTP), throttling, second-factor enrolment, recovery codes,
password change, logout and logout everywhere, language preference.

A failed step says only "login failed" to the person (and how long to wait when attempts are throttled); the
reason goes to the access log. Failures slow further attempts down by growing delays (throttle.py); nothing
locks an account. The half-done login between the two steps lives on the server (pending.py), used once.
Login bookkeeping (last login, TOTP counter) is written with plain UPDATEs so that it never makes an admin's
open edit of the same user stale.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import undefer

from caseapp import audit, crypto
from caseapp.extensions import db
from caseapp.models.accounts import PendingLogin, RecoveryCode, User
from caseapp.services.accounts import devices, passwords, pending, sessions, throttle
from caseapp.timeutil import epoch, utcnow

ISSUER = "Ruta"
RECOVERY_CODE_COUNT = 10
TOTP_WINDOW = 1  # accept the previous and the next 30-second step as well (clock drift)
# Failures after which the half-done login cannot go on (the person starts again at the password).
FINAL_REASONS = frozenset({"unknown_user", "inactive", "not_pending", "codes_exhausted"})
_CODE = re.compile(r"\d{6}")
MAX_USERNAME = 64
MAX_PASSWORD_INPUT = 1024
# The account a login names with the password hash it checks, in one statement: read on first use instead, the hash
# would be a statement that only an existing account costs.
_BY_USERNAME = select(User).options(undefer(User.password_hash)).where(User.username == bindparam("username"))


class LoginFailed(Exception):
    """A login step failed. The person is told only the generic message (and `wait`, the seconds before the
    next attempt is heard, when throttled); `reason` is for the access log."""

    def __init__(self, reason: str, wait: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait

    @property
    def final(self) -> bool:
        return self.reason in FINAL_REASONS


# --- failures and throttling ---------------------------------------------------------------------------


def _failure(user: User | None, reason: str, *, username: str | None = None, ip: str | None = None,
             action: str = "login.failure", count: bool = True, actor=None,
             ended: PendingLogin | None = None, device: str | None = None,
             wrong_code: bool = False) -> LoginFailed:
    """Record a failed step in its own transaction; returns the error to raise.

    `count`: the failure slows down further attempts for `username` and `ip`, or for the known `device`
    (throttle.py). `ended`: the pending login this failure ends (it cannot be used again). `wrong_code`: a wrong
    second-factor code, counted towards the ceiling of codes in a row."""
    user_ref = user.username if user is not None else None
    pending_id = ended.id if ended is not None else None
    db.session.rollback()
    wait = throttle.record_failure(username, ip, device) if count else 0
    if wrong_code and user is not None:
        throttle.count_code_failure(user.id)
    if pending_id is not None:
        pending.consume(pending_id)
    ref = {"object_type": "user", "object_ref": user_ref} if user_ref else {}
    detail = {"reason": reason}
    if wait:
        detail["wait_seconds"] = wait
    audit.record(action, outcome="denied", detail=detail, actor=actor, **ref)
    db.session.commit()
    return LoginFailed(reason, wait)


def _throttled(user: User | None, username: str | None, ip: str | None,
               device: str | None = None) -> LoginFailed | None:
    """The refusal to give when attempts for this username from this address (or known device) must still wait."""
    wait = throttle.wait_seconds(username, ip, device)
    if not wait:
        return None
    failure = _failure(user, "throttled", count=False, actor=user)
    failure.wait = wait
    return failure


# --- step 1: password ----------------------------------------------------------------------------------


def authenticate(username: str, password: str, ip: str | None, device_cookie: str | None = None) -> User:
    """Check username and password. Returns the user, whose second factor is still to be checked
    (open_pending() then gives the browser its half-done login).

    Unknown and inactive accounts cost the same Argon2 computation as a wrong password. A throttled attempt
    is refused before the password is looked at, so it tells nothing about the password.
    A user without a second factor gets a fresh TOTP secret, to be confirmed on the enrolment page.
    """
    username = (username or "").strip()
    password = password or ""
    if len(username) > MAX_USERNAME or not username.isprintable() or len(password) > MAX_PASSWORD_INPUT:
        # Refused before any hashing (no Argon2 over megabytes) or query (PostgreSQL refuses NUL bytes).
        raise _failure(None, "malformed", ip=ip)
    device = devices.known(device_cookie, username)
    refused = _throttled(None, username, ip, device)
    if refused is not None:
        raise refused
    user = db.session.scalar(_BY_USERNAME, {"username": username}) if username else None
    if user is None:
        passwords.verify(None, password)
        raise _failure(None, "unknown_user", username=username, ip=ip, device=device)
    ok = passwords.verify(user.password_hash, password)
    if not user.is_active:  # counted like any failure: the throttle never tells an inactive account apart
        raise _failure(user, "inactive", username=username, ip=ip, device=device)
    if not ok:
        raise _failure(user, "bad_password", username=username, ip=ip, device=device)
    if crypto.password_needs_rehash(user.password_hash) or passwords.normalise(password) != password:
        user.password_hash = passwords.hash_password(password)
    if user.totp_enrolled_at is None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_counter = None
    db.session.commit()
    return user


def open_pending(user: User) -> str:
    """The half-done login of `user`, kept on the server; returns the id for the browser's session (commits)."""
    token = pending.open_for(user)
    db.session.commit()
    return token


# --- step 2: second factor -----------------------------------------------------------------------------


def _pending(pending_id: str | None, ip: str | None, *, attempt: bool = True,
             device_cookie: str | None = None) -> tuple[PendingLogin, User, str | None]:
    """The live half-done login of this browser, its user and the browser's known-device nonce for that user, if
    the login may still go on. `attempt`: a code is about to be checked, so a throttled account, address or device
    is refused first."""
    row = pending.find(pending_id)
    if row is None:
        raise _failure(None, "not_pending", count=False)
    user = row.user
    device = devices.known(device_cookie, user.username)
    if not user.is_active:
        raise _failure(user, "inactive", count=False, ended=row)
    if attempt and throttle.codes_exhausted(user.id):
        raise _failure(user, "codes_exhausted", count=False, actor=user, ended=row)
    refused = _throttled(user, user.username, ip, device) if attempt else None
    if refused is not None:
        raise refused
    return row, user, device


def pending_state(pending_id: str | None) -> str | None:
    """'verify' or 'enrol' for the user of a half-done login; None when there is no such login or user."""
    row = pending.find(pending_id)
    if row is None or not row.user.is_active:
        return None
    return "verify" if row.user.totp_enrolled_at is not None else "enrol"


def pending_expired(pending_id: str | None) -> bool:
    """True when the browser's half-done login ran out of time (the person is told to start again)."""
    return pending.expired(pending_id)


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


def _complete_login(user: User, row: PendingLogin, ip: str | None, factor: str, device: str | None = None) -> User:
    """Use up the half-done login, open the server-side session and record the login (commits)."""
    if not pending.consume(row.id):  # another request completed it first: a replay
        raise _failure(user, "not_pending", count=False)
    sessions.start(user, ip)
    throttle.clear(user.username, ip, device)
    throttle.clear_code_failures(user.id)
    db.session.execute(
        update(User).where(User.id == user.id).values(last_login_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    audit.record("login.success", actor=user, object_type="user", object_ref=user.username,
                 detail={"factor": factor})
    db.session.commit()
    return user


def _bad_code(user: User, reason: str, action: str, ip: str | None, device: str | None = None) -> LoginFailed:
    return _failure(user, reason, action=action, actor=user, username=user.username, ip=ip, device=device,
                    wrong_code=True)


def verify_second_factor(pending_id: str | None, code: str, ip: str | None, device_cookie: str | None = None) -> User:
    """Check the TOTP code of a half-done login; on success the login is complete."""
    row, user, device = _pending(pending_id, ip, device_cookie=device_cookie)
    if user.totp_enrolled_at is None:
        raise LoginFailed("not_enrolled")
    counter = match_totp(user.totp_secret, code)
    if counter is None:
        raise _bad_code(user, "bad_code", "totp.failure", ip, device)
    if not _claim_counter(user.id, counter):
        raise _bad_code(user, "replayed_code", "totp.replay", ip, device)
    return _complete_login(user, row, ip, "totp", device)


def use_recovery_code(pending_id: str | None, code: str, ip: str | None, device_cookie: str | None = None) -> User:
    """A one-time recovery code in place of the TOTP code; on success the login is complete."""
    row, user, device = _pending(pending_id, ip, device_cookie=device_cookie)
    normalised = crypto.normalise_recovery_code((code or "")[:64])
    if user.totp_enrolled_at is None or len(normalised) != 12:
        raise _bad_code(user, "bad_recovery_code", "totp.failure", ip, device)
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == crypto.hash_token(normalised),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if used.rowcount != 1:
        raise _bad_code(user, "bad_recovery_code", "totp.failure", ip, device)
    audit.record("recovery_code.used", actor=user, object_type="user", object_ref=user.username,
                 detail={"remaining": remaining_recovery_codes(user)})
    return _complete_login(user, row, ip, "recovery_code", device)


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


def enrolment(pending_id: str | None) -> Enrolment:
    """The secret to show on the enrolment page of a half-done login (as text and as a QR code)."""
    _row, user, _device = _pending(pending_id, None, attempt=False)
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


def confirm_enrolment(pending_id: str | None, code: str, ip: str | None) -> tuple[User, list[str]]:
    """Confirm the new second factor with a code from the app; completes the login.

    Returns the user and the recovery codes, to be shown once.
    """
    row, user, _device = _pending(pending_id, ip)
    if user.totp_enrolled_at is not None:
        raise LoginFailed("already_enrolled")
    counter = match_totp(user.totp_secret, code)
    if counter is None:
        raise _bad_code(user, "bad_code", "totp.failure", ip)
    if not _claim_counter(user.id, counter):
        raise _bad_code(user, "replayed_code", "totp.replay", ip)
    user.totp_enrolled_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record("totp.enrol", actor=user, object_type="user", object_ref=user.username)
    _complete_login(user, row, ip, "enrolment")
    return user, codes
