"""What every administration service shares: the acting operator (an admin, or the command line), its
permission check and access-log row, and how usernames and entity codes are written.

Every administration function takes the acting user first (or CLI, the command-line operator), checks
`admin.manage` through authz, writes its access-log row in the same transaction as the change and commits.
The access log names users by username and entities by code; passwords and tokens never go into it.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.models.accounts import CASE_ROLES
from caseapp.timeutil import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
ENTITY_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
NAME_MAX = 200
CASE_ROLE_GRANT = "admin.case_role.grant"  # access-log action read by the auditors' alerts
DISPLAY_NAME_MAX = 120


class SystemActor:
    """The operator at the command line: may administer accounts, holds no case role, logged as "cli"."""

    is_authenticated = True
    is_active = True
    id = None
    entity_id = None
    roles = frozenset({"admin"})

    def __init__(self, name: str):
        self.username = name

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def __repr__(self) -> str:
        return f"<SystemActor {self.username}>"


CLI = SystemActor("cli")


def _log_actor(actor):
    return actor.username if isinstance(actor, SystemActor) else actor


def _record(actor, action: str, *, object_type: str, object_ref: str, detail: dict | None = None) -> None:
    audit.record(action, object_type=object_type, object_ref=object_ref, detail=detail, actor=_log_actor(actor))


def _require(actor) -> None:
    authz.require(actor, "admin.manage")


def _stale_user() -> str:
    return _("Someone else changed this user while you were editing it. Reload the page and try again; "
             "nothing was saved.")


def _stale_entity() -> str:
    return _("Someone else changed this entity while you were editing it. Reload the page and try again; "
             "nothing was saved.")


# --- lookups -------------------------------------------------------------------------------------------


def normalise_username(username: str | None) -> str:
    return (username or "").strip().lower()


def normalise_entity_code(code: str | None) -> str:
    return (code or "").strip().upper()



def _raise_if(errors: dict) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, field_errors=errors)


# --- users ---------------------------------------------------------------------------------------------


# --- four eyes on admins' case access ------------------------------------------------------------------


def was_admin(user) -> bool:
    """The account holds the admin role now or held it at any time (User.admin_since is never cleared)."""
    return user.admin_since is not None or "admin" in user.roles


def four_eyes_required(user, wanted_roles, entity, *, actor=None) -> bool:
    """The one rule: no admin gives access to case data alone. A change made by an admin needs a second admin's
    approval when it gives an account a case role (social worker, lawyer) or the admin role it does not hold, or
    moves an account that holds a case role or is or was an admin to another entity.

    `user` is None for a new account. An admin who could give case roles alone could make herself an account with
    one (she sets its first password) and read every victim's identity of an entity; an admin she made alone would
    be "another admin" to approve her own requests. The operator at the command line, who holds the server and its
    keys, sets a deployment up; for her only an admin's own case roles need four eyes.
    """
    wanted = set(wanted_roles)
    case_roles = set(CASE_ROLES)
    held = set(user.roles) if user is not None else set()
    if not isinstance(actor, SystemActor):
        if ("admin" in wanted and "admin" not in held) or (wanted & case_roles) - held:
            return True
        moved = user is not None and entity is not None and entity.id != user.entity_id
        return moved and bool(held & case_roles or wanted & case_roles or was_admin(user))
    admin_after = "admin" in wanted or (user is not None and was_admin(user))
    if not admin_after:
        return False
    if user is None:
        return bool(wanted & case_roles)
    kept = held & case_roles if was_admin(user) else set()
    if (wanted & case_roles) - kept:
        return True
    return entity is not None and entity.id != user.entity_id


def note_roles(actor, user, roles_before, *, requested_by: str | None = None) -> None:
    """After roles change: remember that the account became an admin, and log every case role granted (the
    auditors' alert "case role granted" reads these rows; they name who granted it, never any victim's data)."""
    if "admin" in user.roles and user.admin_since is None:
        user.admin_since = utcnow()
    granted = sorted((set(user.roles) - set(roles_before)) & set(CASE_ROLES))
    if granted:
        detail = {"roles": granted, "entity": user.entity.code}
        if requested_by:  # four eyes: `actor` approved what `requested_by` asked for
            detail["requested_by"] = requested_by
        _record(actor, CASE_ROLE_GRANT, object_type="user", object_ref=user.username, detail=detail)
