"""`flask backup create|restore PATH`: backups of the data (the keyring is backed up separately)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from caseapp.services.ops import backup as service

group = AppGroup("backup", help="Back up and restore the database (data only: back up the keyring separately).")


@group.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create(path: Path) -> None:
    """Write a consistent backup of the database to PATH (online: the app may keep running)."""
    try:
        written = service.create(path)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {written}")
    click.echo("It holds the data only. Back up the keyring separately (see README, Backups).", err=True)


@group.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore(path: Path, force: bool) -> None:
    """Replace the database with the backup at PATH. Stop the app servers first; restore the keyring first."""
    try:
        result = service.restore(path, force=force)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored from {path}: {result.audit_rows} access-log rows.")
    if result.missing_keks:
        click.echo(
            f"WARNING: {len(result.missing_keks)} key-encryption key(s) used by the data are not in the keyring "
            f"({', '.join(result.missing_keks)}): restore the keyring backup that goes with this data.",
            err=True,
        )
    if not result.chain_ok:
        click.echo(f"WARNING: the access-log chain does not verify: {result.chain_problem}", err=True)
        sys.exit(1)
    click.echo("Access-log chain intact.")
