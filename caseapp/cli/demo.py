"""`flask demo`: load demonstration data and print the demo logins (never under the production configuration)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from caseapp import demo
from caseapp.cli.users import cli_locale


@click.command("demo")
@click.option("--url", default="http://127.0.0.1:5000/", show_default=True, help="Where the app is served.")
@with_appcontext
def group(url: str) -> None:
    """Load demo entities, users (and cases, as areas add them); print each login with password and TOTP secret."""
    with cli_locale():
        if not current_app.config.get("DEMO_ALLOWED"):
            click.echo(_("Refused: demo data (with public passwords) is not allowed under this configuration "
                         "(%(name)s). Use the development configuration.",
                         name=current_app.config.get("NAME", "?")), err=True)
            sys.exit(1)
        if demo.faker_missing():
            click.echo(_("The demo data needs Faker, which is not installed (it is not needed in production). "
                         "Install it from the Ruta checkout with: %(command)s (make run does).",
                         command=demo.INSTALL_HINT), err=True)
            sys.exit(1)
        demo.load_all(click.echo)
        demo.print_logins(click.echo, url)
