"""Administration of users: the rules behind the admin screens and the `flask users` CLI.

An admin cannot lock the system out: nobody deactivates themself or drops their own admin role, and the
last active admin stays an admin.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from caseapp import crypto
from caseapp.errors import Conflict, Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import (
    CASE_ROLES,
    ROLES,
    TOKEN_SCOPES,
    ApiToken,
    Entity,
    RecoveryCode,
    User,
    UserRole,
)
from caseapp.services.accounts import approvals, passwords, sessions, throttle
from caseapp.services.accounts.administration import (
    DISPLAY_NAME_MAX,
    USERNAME_RE,
    SystemActor,
    _raise_if,
    _record,
    _require,
    _stale_user,
    four_eyes_required,
    normalise_entity_code,
    normalise_username,
    note_roles,
)
from caseapp.services.primitives import (
    require_version,
)
from caseapp.timeutil import utcnow


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(_("There is no user with that username."))
    return user



def get_user(actor, username: str) -> User:
    _require(actor)
    return _user(username)




@dataclass
class UserPage:
    users: list[User]
    page: int
    has_next: bool


def list_users(actor, *, entity_code: str | None = None, status: str | None = None, page: int = 1,
               per_page: int = 50) -> UserPage:
    """Users ordered by username, optionally of one entity and/or active or inactive only."""
    _require(actor)
    page = max(int(page or 1), 1)
    query = select(User).order_by(User.username)
    if entity_code:
        query = query.join(User.entity).where(Entity.code == normalise_entity_code(entity_code))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "inactive":
        query = query.where(User.active.is_(False))
    rows = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return UserPage(rows[:per_page], page, len(rows) > per_page)



def live_session_count(actor, user: User) -> int:
    _require(actor)
    return len(sessions.live_sessions(user))


def live_token_count(actor, user: User) -> int:
    _require(actor)
    return db.session.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                         ApiToken.expires_at > utcnow())
    )




# --- validation ----------------------------------------------------------------------------------------


def _active_admins_besides(user: User) -> int:
    """Active admins of active entities other than `user`."""
    return db.session.scalar(
        select(func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .join(Entity, Entity.id == User.entity_id)
        .where(UserRole.role == "admin", User.active.is_(True), Entity.active.is_(True), User.id != user.id)
    )


def _clean_roles(roles, errors: dict) -> list[str]:
    wanted = sorted({(r or "").strip() for r in (roles or []) if (r or "").strip()})
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        errors["roles"] = [_("Unknown role: %(roles)s. Choose among: %(known)s.",
                             roles=", ".join(unknown), known=", ".join(ROLES))]
    elif not wanted:
        errors["roles"] = [_("Choose at least one role.")]
    return wanted


def _clean_display_name(display_name: str | None, username: str, errors: dict) -> str:
    name = " ".join((display_name or "").split())
    if len(name) > DISPLAY_NAME_MAX:
        errors["display_name"] = [_("At most %(n)s characters.", n=DISPLAY_NAME_MAX)]
    return name or username


def _assignable_entity(code: str | None, errors: dict) -> Entity | None:
    code = normalise_entity_code(code)
    if not code:
        errors["entity"] = [_("Choose an entity.")]
        return None
    entity = db.session.scalar(select(Entity).where(Entity.code == code))
    if entity is None:
        errors["entity"] = [_("There is no entity with the code %(code)s.", code=code)]
    elif not entity.active:
        errors["entity"] = [_("The entity %(code)s is inactive; reactivate it first.", code=code)]
    return entity


def _check_password(password: str | None, username: str, errors: dict) -> None:

    if not password:
        errors["password"] = [_("Enter an initial password.")]
        return
    problems = passwords.problems(password, username)
    if problems:
        errors["password"] = [str(p) for p in problems]


def _hash_password(password: str) -> str:
    """Hashed the way the login checks it (the policy module normalises before hashing)."""

    return passwords.hash_password(password)





def create_user(actor, *, username: str, entity_code: str, roles, password: str, display_name: str = "",
                must_change_password: bool = False, bootstrap: bool = False) -> User:
    """A new active user, not yet enrolled in the second factor (they enrol at first login).

    An account with the admin role and a case role needs a second admin (four eyes): it is refused here; create it
    without the case role and ask for it on the user's page. `bootstrap` lifts that for the setup of a deployment
    or of the demo, run as the command-line operator only (the grant is still logged and raises the alert).
    """
    _require(actor)
    if bootstrap and not isinstance(actor, SystemActor):
        raise Forbidden(_("Only the setup from the command line may create accounts without a second admin."),
                        rule="four_eyes_bootstrap")
    errors: dict[str, list[str]] = {}
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        errors["username"] = [_("Use 3 to 64 lowercase letters, digits, dots, hyphens or underscores, "
                                "starting with a letter or digit.")]
    elif db.session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = [_("The username %(username)s is already taken.", username=username)]
    name = _clean_display_name(display_name, username, errors)
    entity = _assignable_entity(entity_code, errors)
    wanted = _clean_roles(roles, errors)
    needs_second = "roles" not in errors and not bootstrap and four_eyes_required(None, wanted, entity, actor=actor)
    if needs_second and isinstance(actor, SystemActor):
        errors["roles"] = [_("An account becomes an admin only with a second admin's approval: create it without "
                             "the admin role, then ask for it on the user's page.") if not set(wanted) & set(CASE_ROLES) else
                           _("An account with the admin role gets a case role only with a second admin's approval: "
                             "create it without the case role, then ask for it on the user's page.")]
    _check_password(password, username, errors)
    _raise_if(errors)
    if needs_second:
        approvals.require_approver(actor, username)  # before anything is written
    now = utcnow()
    user = User(username=username, display_name=name, entity=entity, active=True,
                password_hash=_hash_password(password), password_changed_at=now,
                must_change_password=must_change_password)
    # Made by an admin, an account gets its case roles (and the admin role) only when a second admin approves:
    # until then it holds the other roles, and the request waits (`user.pending_change`).
    granted_now = [r for r in wanted if r not in CASE_ROLES and r != "admin"] if needs_second else wanted
    user.set_roles(granted_now)
    db.session.add(user)
    db.session.flush()
    _record(actor, "admin.user.create", object_type="user", object_ref=username,
            detail={"entity": entity.code, "roles": granted_now})
    note_roles(actor, user, ())
    user.pending_change = approvals.request_change(actor, user, roles=wanted, entity=entity) if needs_second else None
    db.session.commit()
    return user


def update_user(actor, username: str, *, version, display_name: str, entity_code: str,
                roles) -> User:
    """Change a user's display name, entity and roles. A stale version is refused (409).

    When the change of roles or entity needs a second admin (administration.four_eyes_required), only the display
    name is changed now; the roles and entity wait in a request, returned as `user.pending_change` (else None).
    """
    _require(actor)
    user = _user(username)
    require_version(user, version, stale=_stale_user())
    errors: dict[str, list[str]] = {}
    name = _clean_display_name(display_name, user.username, errors)
    entity = user.entity if normalise_entity_code(entity_code) == user.entity.code else _assignable_entity(
        entity_code, errors)
    wanted = _clean_roles(roles, errors)
    if "roles" not in errors and "admin" in user.roles and "admin" not in wanted:
        if getattr(actor, "id", None) == user.id:
            errors["roles"] = [_("You cannot remove your own admin role; ask another admin.")]
        elif user.active and not _active_admins_besides(user):
            errors["roles"] = [_("This is the last active admin; give another user the admin role first.")]
    _raise_if(errors)
    pending = None
    if four_eyes_required(user, wanted, entity, actor=actor):
        pending = approvals.request_change(actor, user, roles=wanted, entity=entity)
        entity, wanted = user.entity, sorted(user.roles)  # the rest of the change waits for the second admin
    changed = []
    roles_before = set(user.roles)
    if name != user.display_name:
        changed.append("display_name")
        user.display_name = name
    if entity.id != user.entity_id:
        changed.append("entity")
        user.entity = entity
    if set(wanted) != set(user.roles):
        changed.append("roles")
        user.set_roles(wanted)
    user.pending_change = pending
    if not changed:
        db.session.commit()  # the request, if any
        return user
    if "roles" in changed or "entity" in changed:  # a token's scope was the old one's
        sessions.revoke_api_tokens(user, "role_change")
    user.updated_at = utcnow()  # bumps the version even when only roles (another table) changed
    detail = {"fields": changed}
    if "entity" in changed:
        detail["entity"] = entity.code
    if "roles" in changed:
        detail["roles"] = wanted
    # Roles and entity are read afresh on every request: open sessions get the new scope at once.
    _record(actor, "admin.user.update", object_type="user", object_ref=user.username, detail=detail)
    note_roles(actor, user, roles_before)
    if pending is not None:  # the display name moved the version on: the request applies to the account as now
        db.session.flush()
        pending.base_version = user.version
    db.session.commit()
    return user


def deactivate_user(actor, username: str, *, version) -> User:
    """The user can no longer sign in; their open sessions end now."""
    _require(actor)
    user = _user(username)
    require_version(user, version, stale=_stale_user())
    if getattr(actor, "id", None) == user.id:
        raise Conflict(_("You cannot deactivate your own account; ask another admin."))
    if not user.active:
        raise Conflict(_("The user %(username)s is already inactive.", username=user.username))
    if "admin" in user.roles and not _active_admins_besides(user):
        raise Conflict(_("This is the last active admin; give another user the admin role first."))
    user.active = False
    user.updated_at = utcnow()
    ended = sessions.end_all(user, "admin")
    sessions.revoke_api_tokens(user, "deactivation")
    _record(actor, "admin.user.deactivate", object_type="user", object_ref=user.username,
            detail={"sessions_ended": ended})
    db.session.commit()
    return user


def reactivate_user(actor, username: str, *, version) -> User:
    _require(actor)
    user = _user(username)
    require_version(user, version, stale=_stale_user())
    if user.active:
        raise Conflict(_("The user %(username)s is already active.", username=user.username))
    user.active = True
    user.updated_at = utcnow()
    _record(actor, "admin.user.reactivate", object_type="user", object_ref=user.username)
    db.session.commit()
    return user


def reset_totp(actor, username: str, *, version) -> User:
    """Forget the user's second factor and recovery codes and end their sessions: they enrol again at next login."""
    _require(actor)
    user = _user(username)
    require_version(user, version, stale=_stale_user())
    user.totp_secret_enc = None
    user.totp_enrolled_at = None
    user.totp_last_counter = None
    user.updated_at = utcnow()
    codes = db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)).rowcount or 0
    ended = sessions.end_all(user, "admin")
    sessions.revoke_api_tokens(user, "totp_reset")
    throttle.clear_code_failures(user.id)  # a new second factor answers again
    _record(actor, "admin.totp.reset", object_type="user", object_ref=user.username,
            detail={"recovery_codes_deleted": codes, "sessions_ended": ended})
    db.session.commit()
    return user


def end_sessions(actor, username: str) -> int:
    """End every open session of the user (they must sign in again). Returns how many ended."""
    _require(actor)
    user = _user(username)
    ended = sessions.end_all(user, "admin")
    _record(actor, "admin.sessions.end", object_type="user", object_ref=user.username,
            detail={"sessions_ended": ended})
    db.session.commit()
    return ended


def reset_password(actor, username: str, password: str) -> User:
    """An admin sets a new password: the user must choose their own at next sign-in, and their sessions and API
    tokens end now (whoever knew the old password loses what it opened)."""
    _require(actor)
    user = _user(username)
    errors: dict[str, list[str]] = {}
    _check_password(password, user.username, errors)
    _raise_if(errors)
    user.password_hash = _hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.updated_at = utcnow()
    ended = sessions.end_all(user, "admin")
    revoked = sessions.revoke_api_tokens(user, "password_reset")
    throttle.clear_code_failures(user.id)
    _record(actor, "admin.password.reset", object_type="user", object_ref=user.username,
            detail={"sessions_ended": ended, "tokens_revoked": revoked})
    db.session.commit()
    return user


def token_days(days: int | None) -> int:
    """The lifetime of a new token in days: API_TOKEN_DAYS by default, at most API_TOKEN_MAX_DAYS."""
    cfg = current_app.config
    if days is None:
        return int(cfg["API_TOKEN_DAYS"])
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= cfg["API_TOKEN_MAX_DAYS"]:
        raise Invalid(field_errors={"days": [_("Choose between 1 and %(max)d days.",
                                               max=cfg["API_TOKEN_MAX_DAYS"])]})
    return days


def issue_token(actor, username: str, *, days: int | None = None, scope: str = "read-write") -> str:
    """A new personal API token for the user, valid `days` days (default API_TOKEN_DAYS), `read` (GET only) or
    `read-write`. Only its hash is stored: the token is shown once."""
    _require(actor)
    user = _user(username)
    if not user.is_active:
        raise Conflict(_("The user %(username)s is inactive; reactivate them first.", username=user.username))
    lifetime = token_days(days)
    if scope not in TOKEN_SCOPES:
        raise Invalid(field_errors={"scope": [_("Choose read or read-write.")]})
    token = crypto.new_token()
    now = utcnow()
    db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(token), created_at=now,
                            expires_at=now + timedelta(days=lifetime), scope=scope))
    db.session.flush()
    _record(actor, "admin.token.create", object_type="user", object_ref=user.username,
            detail={"days": lifetime, "scope": scope})
    db.session.commit()
    return token


def revoke_tokens(actor, username: str) -> int:
    """Revoke every live API token of the user. Returns how many were revoked."""
    _require(actor)
    user = _user(username)
    revoked = sessions.revoke_api_tokens(user, "admin")
    _record(actor, "admin.token.revoke", object_type="user", object_ref=user.username,
            detail={"tokens_revoked": revoked})
    db.session.commit()
    return revoked


# --- entities ------------------------------------------------------------------------------------------
