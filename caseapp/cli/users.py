"""`flask users ...`: create and manage user accounts and personal API tokens from the command line.

Every command acts as the operator "cli" (so the access log says so) through caseapp.services.accounts,
the same rules as the admin screens. Errors go to standard error with a non-zero exit status.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import wraps

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from caseapp.errors import DomainError
from caseapp.services import accounts as admin

group = AppGroup("users", help="User accounts and API tokens.")


@contextmanager
def cli_locale():
    """Messages in the default language (es_CO): outside a request there is no user or session to choose it."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "es_CO")):
        yield


def admin_command(fn):
    """Run a command in the default locale; turn a domain error into a clear message and exit status 1."""

    @wraps(fn)
    def wrapped(*args, **kwargs):
        with cli_locale():
            try:
                return fn(*args, **kwargs)
            except DomainError as error:
                raise click.ClickException(describe(error)) from None

    return wrapped


def describe(error: DomainError) -> str:
    if error.field_errors:
        return " ".join(str(m) for msgs in error.field_errors.values() for m in msgs)
    return str(error.message or error.__class__.__name__)


def read_password(username: str) -> str:
    """One line from standard input when it is not a terminal; otherwise ask twice with hidden input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(_("Password for %(username)s", username=username), hide_input=True,
                        confirmation_prompt=_("Repeat the password"), err=True)


@group.command("create")
@click.argument("username")
@click.option("--entity", "entity_code", required=True, help="Code of the user's entity, e.g. CTG.")
@click.option("--role", "roles", multiple=True, required=True,
              help="social_worker, lawyer, coordinator, auditor or admin (repeat for several).")
@click.option("--name", "display_name", default="", help="Display name (defaults to the username).")
@admin_command
def create(username: str, entity_code: str, roles: tuple[str, ...], display_name: str) -> None:
    """Create USERNAME; the password is read from standard input (one line) or prompted for twice."""
    password = read_password(username)
    user = admin.create_user(admin.CLI, username=username, entity_code=entity_code, roles=roles,
                             password=password, display_name=display_name)
    click.echo(_("User %(username)s created (%(entity)s: %(roles)s). They set up the second factor at first "
                 "sign-in.", username=user.username, entity=user.entity.code, roles=", ".join(sorted(user.roles))))


@group.command("token")
@click.argument("username")
@click.option("--days", type=int, default=None,
              help="Days until the token expires (default 90, from API_TOKEN_DAYS; at most API_TOKEN_MAX_DAYS).")
@click.option("--scope", type=click.Choice(["read", "read-write"]), default="read-write", show_default=True,
              help="read: GET requests only; read-write: every request the user's roles allow.")
@admin_command
def token(username: str, days: int | None, scope: str) -> None:
    """Print a new personal API token for USERNAME (and nothing else). Only its hash is stored."""
    click.echo(admin.issue_token(admin.CLI, username, days=days, scope=scope))


@group.command("revoke-token")
@click.argument("username")
@admin_command
def revoke_token(username: str) -> None:
    """Revoke every API token of USERNAME."""
    n = admin.revoke_tokens(admin.CLI, username)
    click.echo(_("%(n)s API token(s) revoked for %(username)s.", n=n, username=admin.normalise_username(username)))


@group.command("reset-password")
@click.argument("username")
@admin_command
def reset_password(username: str) -> None:
    """Set a new password for USERNAME (standard input, or prompted twice): they must choose their own at next
    sign-in; their sessions end and their API tokens are revoked."""
    user = admin.reset_password(admin.CLI, username, read_password(admin.normalise_username(username)))
    click.echo(_("Password of %(username)s reset; they must choose a new one at next sign-in. Their sessions "
                 "ended and their API tokens were revoked.", username=user.username))


@group.command("deactivate")
@click.argument("username")
@admin_command
def deactivate(username: str) -> None:
    """Deactivate USERNAME and end their open sessions."""
    user = admin.deactivate_user(admin.CLI, username, version=admin.get_user(admin.CLI, username).version)
    click.echo(_("User %(username)s deactivated; their open sessions were ended.", username=user.username))


@group.command("reactivate")
@click.argument("username")
@admin_command
def reactivate(username: str) -> None:
    """Reactivate USERNAME."""
    user = admin.reactivate_user(admin.CLI, username, version=admin.get_user(admin.CLI, username).version)
    click.echo(_("User %(username)s reactivated.", username=user.username))


@group.command("reset-totp")
@click.argument("username")
@admin_command
def reset_totp(username: str) -> None:
    """Forget USERNAME's second factor and recovery codes; they set it up again at next sign-in."""
    user = admin.reset_totp(admin.CLI, username, version=admin.get_user(admin.CLI, username).version)
    click.echo(_("Second factor of %(username)s reset; they set it up again at next sign-in.",
                 username=user.username))


@group.command("end-sessions")
@click.argument("username")
@admin_command
def end_sessions(username: str) -> None:
    """End every open session of USERNAME."""
    n = admin.end_sessions(admin.CLI, username)
    click.echo(_("%(n)s open session(s) ended.", n=n))


@group.command("list")
@admin_command
def list_users() -> None:
    """List users: username, entity, roles, status."""
    page = 1
    while True:
        result = admin.list_users(admin.CLI, page=page, per_page=500)
        for u in result.users:
            state = "active" if u.active else "inactive"
            click.echo(f"{u.username}\t{u.entity.code}\t{','.join(sorted(u.roles))}\t{state}")
        if not result.has_next:
            break
        page += 1
