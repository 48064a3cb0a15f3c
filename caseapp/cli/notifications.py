"""`flask notifications`: the cron jobs of notifications (due dates, e-mail) and a user's e-mail address."""
from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import AppGroup

from caseapp.cli.users import admin_command
from caseapp.services import notifications

group = AppGroup("notifications", help="Notifications: due dates and e-mail, from cron.")


@group.command("due")
@click.option("--on", "on", default=None, help="As if today were this date (YYYY-MM-DD); today when omitted.")
@admin_command
def due(on: str | None) -> None:
    """Notify the phases due within two days and the overdue ones (daily from cron; running it again sends
    nothing twice)."""
    try:
        when = date.fromisoformat(on) if on else None
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--on") from None
    click.echo(json.dumps({"notified": notifications.scan_due(when)}))


@group.command("mail")
@admin_command
def mail() -> None:
    """Send the e-mail waiting in the outbox (every few minutes from cron); a failed server is retried next run."""
    click.echo(json.dumps(notifications.deliver_mail()))


@group.command("email")
@click.argument("username")
@click.argument("address", default="")
@admin_command
def email(username: str, address: str) -> None:
    """Set USERNAME's e-mail address for notifications (an empty ADDRESS clears it)."""
    notifications.set_email(None, username, address)
    click.echo("ok")
