"""`flask plans import FILE`: load a policy action plan (CSV or XLSX) as the operator "cli".

Every row is checked first; errors are listed row by row (in Spanish) and nothing is written. Re-importing the same
plan updates it in place, never duplicating a policy, objective, product, target or value.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from caseapp.cli.users import admin_command
from caseapp.services import accounts as admin
from caseapp.services.indicators import plans as plan_service

group = AppGroup("plans", help="Policy action plans.")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
@click.option("--territory", default=None,
              help="DIVIPOLA code of a new policy's territory (13001 Cartagena, 11001 Bogotá); CO when omitted.")
@admin_command
def import_plan(file: Path, dry_run: bool, territory: str | None) -> None:
    """Import the action plan in FILE (.csv or .xlsx)."""
    content = file.read_bytes()
    preview = plan_service.preview_file(admin.CLI, content, file.name)
    if not preview.ok:
        for row in preview.rows:
            for error in row.errors:
                click.echo(error, err=True)
        raise click.ClickException(_("The plan has errors; nothing was written."))
    counts = preview.counts
    if dry_run:
        click.echo(_("Checked: %(rows)s rows, %(products)s products (%(new)s new). Nothing was written.",
                     rows=counts["rows"], products=counts["products"], new=counts["products_new"]))
        return
    plan_service.apply(admin.CLI, preview, filename=file.name, territory=territory)
    click.echo(_("Plan imported: %(rows)s rows, %(products)s products (%(new)s new).", rows=counts["rows"],
                 products=counts["products"], new=counts["products_new"]))
