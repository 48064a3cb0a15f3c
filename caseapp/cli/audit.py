"""`flask audit verify|anchor`: tamper evidence for the access log."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from caseapp import audit
from caseapp.extensions import db

group = AppGroup("audit", help="Access-log integrity.")

NO_ANCHOR_WARNING = ("WARNING: verified without an anchor: rows cut from the end of the log (or a log emptied and "
                     "restarted) cannot be detected. Ship anchors off this machine with `flask audit anchor --to DIR` "
                     "and verify with --anchor FILE.")


@group.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An anchor file from `flask audit anchor`: also detect a truncated tail.")
def verify(anchor_file: Path | None) -> None:
    """Exit 0 when the chain is intact; otherwise name the first broken row and exit 1.

    The chain alone cannot show rows cut from its end (an emptied log is a valid chain of zero rows): without an
    anchor the answer says so, and an empty log is never reported as intact."""
    try:
        anchor = json.loads(anchor_file.read_text()) if anchor_file else None
    except ValueError:
        raise click.ClickException("the anchor file is not JSON; nothing was verified") from None
    result = audit.verify(anchor=anchor)
    db.session.rollback()  # a read: end the transaction
    if not result.ok:
        where = (f"queued row {result.broken_queue_id}" if result.broken_queue_id is not None
                 else f"row {result.broken_seq}")
        click.echo(f"BROKEN at {where}: {result.problem} ({result.rows} rows verified before it)", err=True)
        sys.exit(1)
    if result.rows == 0 and anchor is None:
        click.echo("EMPTY: the access log has no rows. Without an anchor this cannot be told apart from a log that "
                   "was emptied; verify with --anchor FILE.", err=True)
        sys.exit(1)
    if anchor is None:
        click.echo(f"OK: {result.rows} rows, chain intact, head {result.head_seq} {result.head_mac}")
        click.echo(NO_ANCHOR_WARNING, err=True)
        return
    click.echo(f"OK: {result.rows} rows, chain intact up to the anchor's row {anchor['seq']} and beyond, "
               f"head {result.head_seq} {result.head_mac}")


@group.command("seal")
def seal() -> None:
    """Seal every queued access-log row into the chain (for cron when RUTA_AUDIT_SEAL=deferred; harmless otherwise).

    Waits for another sealer rather than skipping; prints how many rows it sealed."""
    click.echo(f"sealed {audit.seal_all()} rows")


@group.command("anchor")
@click.option("--to", "--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the anchor file (e.g. a mounted remote folder); default instance/anchors.")
def anchor(out: Path | None) -> None:
    """Write the chain head (last seq, its MAC, row count, time) to an anchor file and print it.

    One line ships it off the machine, e.g. from cron: `flask audit anchor --to /mnt/notary/ruta`."""
    data, path = audit.write_anchor(out)
    db.session.rollback()  # a read: end the transaction
    click.echo(json.dumps(data, sort_keys=True))
    click.echo(f"written to {path}", err=True)


@group.command("alerts")
@click.option("--since", help="Start of the period: YYYY-MM-DD or YYYY-MM-DDTHH:MM (Colombian time).")
@click.option("--until", help="End of the period (a date includes that whole day).")
def alerts(since: str | None, until: str | None) -> None:
    """Print the alerts on unusual access (default: the configured look-back up to now), one per line."""
    from datetime import timedelta

    from caseapp.errors import Invalid
    from caseapp.services.audit import alerts as alert_service
    from caseapp.services.audit.console import parse_filters
    from caseapp.timeutil import utcnow

    try:
        period = parse_filters({"since": since or "", "until": until or ""})
    except Invalid as error:
        raise click.UsageError("; ".join(f"--{k}: {v}" for k, v in error.field_errors.items())) from None
    values = alert_service.thresholds()[0]
    end = period.until or utcnow() + timedelta(seconds=1)
    start = period.since or end - timedelta(days=values["lookback_days"])
    found = alert_service.compute(start, end, values)
    audit.record("audit.alerts", actor="cli", object_type="audit_log", detail={"alerts": len(found)})
    db.session.commit()
    for a in found:
        where = a.case or a.ip or a.account or ""
        click.echo(f"{a.kind}\t{a.actor or '-'}\t{a.entity or '-'}\t{where}\t{a.count}\t"
                   f"{a.first_at.isoformat(timespec='seconds')}Z\t{a.last_at.isoformat(timespec='seconds')}Z")
    click.echo(f"{len(found)} alert(s)", err=True)
