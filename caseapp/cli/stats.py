"""`flask stats publish`: count and protect the publication of counts now - on the first day of each month from cron,
so that no reader sees last month's release (the first read after a month closes starts counting it in the
background otherwise)."""
from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from caseapp.cli.users import admin_command
from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity
from caseapp.models.indicators import Policy
from caseapp.services.indicators import publication

group = AppGroup("stats", help="The protected publication of counts.")


def _territories() -> list[str]:
    """Every territory a reader may have: the nation, and each entity's and policy's territory."""
    found = {territories.NATIONAL}
    found |= {t for t in db.session.scalars(select(Entity.territory).distinct()) if t}
    found |= {t for t in db.session.scalars(select(Policy.territory_code).distinct()) if t}
    return sorted(found)


@group.command("publish")
@click.option("--territory", "only", default=None, help="One territory (DIVIPOLA code, or CO); all when omitted.")
@click.option("--year", type=int, default=None, help="One year. When omitted: the current publication's year; with "
                                                     "--stale, every year a reader may be shown.")
@click.option("--stale", is_flag=True, help="Only the publications out of date (missing, a month closed, another k, "
                                            "or data changed with PUBLICATION_REFRESH=on_change): for cron every few "
                                            "minutes.")
@admin_command
def publish(only: str | None, year: int | None, stale: bool) -> None:
    """Count and protect the publication; print its figures as JSON lines (no count of any cell)."""
    publish_all(year, only=only, stale=stale, echo=click.echo)


def publish_all(year: int | None, *, only: str | None = None, stale: bool = False, echo=None) -> None:
    """Count every territory's publication of `year` (or only those out of date), one commit each. With no year:
    the current publication's year; with `stale`, every year a reader of the territory may be shown
    (publication.years_read: the dashboard's trajectory reads each year of its plans, not only this one), so that
    cron counts them all before any reader's page starts a build."""
    for territory in [only] if only else _territories():
        if year is not None:
            years = [year]
        else:
            years = publication.years_read(territory) if stale else [publication.current_cut_off().year]
        for one in years:
            _publish(territory, one, stale, echo)


def _publish(territory: str, year: int, stale: bool, echo) -> None:
    if stale and not publication.stale(territory, year):
        return
    started = time.perf_counter()
    pub = publication.count(territory, year)
    db.session.commit()
    if pub is None or echo is None:
        return
    echo(json.dumps({
        "territory": territory, "year": year, "cut_off": pub.cut_off.isoformat(), "k": pub.k,
        "cells_published": pub.cells_published, "cells_suppressed": pub.cells_suppressed,
        "narrowest": pub.narrowest, "programmes": pub.programmes,
        "seconds": round(time.perf_counter() - started, 2)}))
