"""Accounts: what the signed-in person does with her own account: new recovery codes, her password, her language,
the overview of her sessions and tokens, and signing out (here or everywhere). The login steps are in login.py."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from caseapp import audit
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.accounts import User, UserSession
from caseapp.services.accounts import passwords, sessions, throttle
from caseapp.services.accounts.login import (
    _claim_counter,
    _failure,
    _new_recovery_codes,
    match_totp,
    remaining_recovery_codes,
)
from caseapp.timeutil import utcnow

# --- the signed-in person's own account ------------------------------------------------------------------


def _wait_message(seconds: int) -> str:
    return _("Too many failed attempts. Wait %(seconds)d seconds and try again.", seconds=seconds)


def _refuse_code(user: User, reason: str, action: str) -> Invalid:
    _failure(user, reason, action=action, actor=user, username=user.username)
    return Invalid(field_errors={"regen_code": [_("The code is not valid. Wait for a new code and try again.")]})


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), confirmed by a current TOTP code."""
    wait = throttle.wait_seconds(user.username, None)
    if wait:
        raise Invalid(field_errors={"regen_code": [_wait_message(wait)]})
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
    """Change the signed-in user's password; ends the user's other sessions and revokes their API tokens.
    Returns how many sessions ended."""
    errors: dict[str, list[str]] = {}
    if (new or "") != (confirm or ""):
        errors["confirm_password"] = [_("The two new passwords are not the same.")]
    problems = passwords.problems(new or "", user.username)
    if problems:
        errors["new_password"] = problems
    elif passwords.normalise(new or "") == passwords.normalise(current or ""):
        errors["new_password"] = [_("The new password must be different from the current one.")]
    wait = throttle.wait_seconds(user.username, None)
    if wait:
        errors["current_password"] = [_wait_message(wait)]
    elif not passwords.verify(user.password_hash, current or ""):
        _failure(user, "bad_password", action="password.change", actor=user, username=user.username)
        errors["current_password"] = [_("The current password is not correct.")]
    if errors:
        raise Invalid(field_errors=errors)
    now = utcnow()
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = now
    user.must_change_password = False
    ended = sessions.end_all(user, "password_change",
                             keep=user.current_session.id if user.current_session is not None else None)
    sessions.revoke_api_tokens(user, "password_change")
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
    """What the account page shows: live sessions (the current one marked), unused recovery codes and live
    API tokens (scope, expiry, last use)."""
    current_id = user.current_session.id if user.current_session is not None else None
    return {
        "sessions": sessions.live_sessions(user),
        "current_session_id": current_id,
        "recovery_codes_left": remaining_recovery_codes(user),
        "tokens": sessions.live_api_tokens(user),
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
    """End every session of the user, on every device, and revoke their API tokens. Returns how many ended."""
    ended = sessions.end_all(user, "logout_everywhere")
    sessions.revoke_api_tokens(user, "logout_everywhere")
    audit.record("logout.everywhere", actor=user, object_type="user", object_ref=user.username,
                 detail={"sessions": ended})
    db.session.commit()
    return ended
