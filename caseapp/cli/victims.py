"""`flask victims erase CASE_CODE`: crypto-shred a victim's identity after confirmation (audited)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from caseapp.errors import DomainError

group = AppGroup("victims", help="Victims' identity: erasure by crypto-shredding.")


@group.command("erase")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
def erase(code: str, yes: bool) -> None:
    """Destroy the data key of the victim of CASE_CODE: her identity becomes unreadable for good.

    Statistical fields and dates (and so the indicators) stay. The access log records it.
    """
    from caseapp.services.registry import erasure

    code = code.strip().upper()
    if not yes:
        click.echo(f"This erases for good the identity of the victim of case {code}. It cannot be undone.")
        typed = click.prompt("Type the case code again to confirm", default="", show_default=False)
        if typed.strip().upper() != code:
            raise click.ClickException("confirmation did not match; nothing was erased")
    try:
        erasure.erase_case(code, actor="cli")
    except DomainError as error:
        raise click.ClickException(error.message or f"case {code} not found; nothing was erased") from None
    click.echo(f"Identity of the victim of case {code} erased (data key destroyed).")
