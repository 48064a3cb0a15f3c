"""`flask audit verify|anchor`: tamper evidence for the access log."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from caseapp import audit

group = AppGroup("audit", help="Access-log integrity.")


@group.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An anchor file from `flask audit anchor`: also detect a truncated tail.")
def verify(anchor_file: Path | None) -> None:
    """Exit 0 when the chain is intact; otherwise name the first broken row and exit 1."""
    anchor = json.loads(anchor_file.read_text()) if anchor_file else None
    result = audit.verify(anchor=anchor)
    if result.ok:
        click.echo(f"OK: {result.rows} rows, chain intact, head {result.head_seq} {result.head_mac}")
        return
    click.echo(f"BROKEN at row {result.broken_seq}: {result.problem} ({result.rows} rows verified before it)", err=True)
    sys.exit(1)


@group.command("anchor")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for the anchor file.")
def anchor(out: Path | None) -> None:
    """Write the chain head (seq, MAC, row count) to an anchor file and print it for an outside notary."""
    data, path = audit.write_anchor(out)
    click.echo(json.dumps(data, sort_keys=True))
    click.echo(f"written to {path}", err=True)
