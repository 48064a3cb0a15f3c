"""`flask victims erase CASE_CODE`: crypto-shred a victim's identity after confirmation (audited);
`flask victims reindex`: blind indexes at the width planned for the deployment."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from caseapp.errors import DomainError

group = AppGroup("victims", help="Victims' identity: erasure by crypto-shredding, blind-index width.")


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


@group.command("reindex")
@click.option("--check", is_flag=True, help="Only say whether the recorded width is the planned one (exit 1 if not).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts).")
def reindex(check: bool, yes: bool) -> None:
    """Recompute every victim's blind indexes at the width planned from RUTA_PLANNED_VICTIMS.

    Run it after changing RUTA_PLANNED_VICTIMS: until then the recorded width stays, so searches keep working.
    """
    from caseapp.extensions import db
    from caseapp.services.registry import index_width
    from caseapp.services.registry.reindex import reindex as reindex_all

    state = index_width.status()
    db.session.rollback()
    click.echo(f"recorded width: {state['recorded_bits'] or 'none yet'} bits; planned: {state['planned_bits']} bits "
               f"for {state['planned_victims']} victims (~{state['candidates_per_value_planned']} per index value); "
               f"{state['victims']} victims indexed")
    if check:
        if state["recorded_bits"] not in (None, state["planned_bits"]):
            raise click.ClickException("the recorded width is not the planned one: run `flask victims reindex`")
        return
    if not yes and not click.confirm("Recompute every victim's blind indexes now?"):
        raise click.ClickException("nothing was changed")
    count = reindex_all(actor="cli")
    click.echo(f"{count} victims reindexed at {state['planned_bits']} bits.")
