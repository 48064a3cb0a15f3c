"""`flask entities ...`: the institutions on the route, from the command line (as the operator "cli")."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from caseapp.cli.users import admin_command
from caseapp.models.accounts import ENTITY_KINDS
from caseapp.services import accounts as admin

group = AppGroup("entities", help="Entities (institutions on the route).")


@group.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(ENTITY_KINDS), help="The kind of institution.")
@click.option("--territory", default="CO", show_default=True,
              help="DIVIPOLA code of its municipality (13001 Cartagena, 11001 Bogotá) or department (13), "
                   "or CO for a national entity.")
@admin_command
def create(code: str, name: str, kind: str, territory: str) -> None:
    """Create the entity CODE named NAME (the code prefixes its case codes and never changes)."""
    entity = admin.create_entity(admin.CLI, code=code, name=name, kind=kind, territory=territory)
    click.echo(_("Entity %(code)s created.", code=entity.code))


@group.command("list")
@admin_command
def list_entities() -> None:
    """List entities: code, kind, territory, status, name."""
    for e in admin.list_entities(admin.CLI):
        click.echo(f"{e.code}\t{e.kind}\t{e.territory}\t{'active' if e.active else 'inactive'}\t{e.name}")


@group.command("deactivate")
@click.argument("code")
@admin_command
def deactivate(code: str) -> None:
    """Deactivate CODE: its users can no longer sign in."""
    entity = admin.deactivate_entity(admin.CLI, code, version=admin.get_entity(admin.CLI, code).version)
    click.echo(_("Entity %(code)s deactivated.", code=entity.code))
