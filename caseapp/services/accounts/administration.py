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

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
ENTITY_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
NAME_MAX = 200
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
