"""`flask translate compile|check`: the Babel catalogues (see caseapp/i18n_catalog.py)."""
import sys

import click
from flask.cli import AppGroup

from caseapp import i18n_catalog

group = AppGroup("translate", help="Translation catalogues.")


@group.command("compile")
def compile_() -> None:
    """Merge the per-area fragments and compile the catalogues."""
    i18n_catalog.compile_all()
    click.echo("compiled")


@group.command("check")
def check() -> None:
    """Fail when a message has no Spanish translation."""
    sys.exit(i18n_catalog.main(["", "check"]))
