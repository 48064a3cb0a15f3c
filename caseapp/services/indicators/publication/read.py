"""Reading the publication: a lookup of stored cells, never a count.

A publication is out of date when it is missing, when a month has closed since its cut-off, when k changed, or, with
PUBLICATION_REFRESH = "on_change", when it is older than the stated delay (`PUBLICATION_MAX_AGE_MINUTES`) and its data
changed since. A reader who finds it so gets what is stored - protected as a whole, its `data_as_of` saying what it
counts - or nothing while it is missing or protected with a smaller k than the one in force, and one background
build starts (rebuild.py); `flask stats publish --stale` from cron counts them before anyone asks. With
PUBLICATION_BUILD = "inline" (tests, which read what they have just written) the read counts it first.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, Consent, IndirectVictim
from caseapp.models.indicators import Policy, Product
from caseapp.models.publication import Publication, PublishedCell
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    AssistanceStep,
    CaseClosure,
    LegalProceeding,
    PhaseExtension,
    ProtectionMeasure,
)
from caseapp.models.safety import FamilyStep
from caseapp.models.victims import Victim
from caseapp.services.indicators.dimensions import get_k
from caseapp.services.indicators.publication import rebuild
from caseapp.services.indicators.publication.build import build, cut_off_for
from caseapp.timeutil import utcnow

# What a publication counts from: a change in any of these is a change of the publication.
STAMPED = (Case, Victim, Consent, Referral, AssistanceStep, PhaseExtension, CaseClosure, LegalProceeding,
           ProtectionMeasure, Entity, Policy, Product, IndirectVictim, FamilyStep)


def on_change() -> bool:
    """Whether a publication is counted again when the data changes (within the stated delay), or only when a month
    closes (the default: every release is protected against the values earlier ones published - releases.py - so
    each release between month ends holds back the cells that moved by 1 to k-1 since)."""
    return current_app.config.get("PUBLICATION_REFRESH", "monthly") == "on_change"


def max_age() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("PUBLICATION_MAX_AGE_MINUTES", 60)))


def out_of_date(found: Publication | None, cut_off, changed=None) -> bool:
    """Whether a stored publication (or its absence) is to be counted again. `changed(found)` says whether the data
    under it changed since; by default its stamp is compared with the data's, a scan of every counted table, which a
    request leaves to the background build (it passes rebuild.due_for_check: at most once per delay per server)."""
    if found is None or found.cut_off != cut_off or found.k != get_k():
        return True
    changed = changed or (lambda f: f.data_stamp != data_stamp())
    return on_change() and found.built_at < utcnow() - max_age() and changed(found)


def publication(territory: str, year: int) -> Publication | None:
    """The territory's publication for `year`, up to date within the stated delay (None: no month of the year has
    closed yet)."""
    # Within one request the publication is looked up once (where reads count it with no delay allowed, as in
    # tests, every time: the request may just have written what it counts).
    cache = g.setdefault("_publications", {}) if has_request_context() and (
        max_age() or not rebuild.inline()) else {}
    if (territory, year) in cache:
        return cache[(territory, year)]
    cut_off = cut_off_for(year)
    if cut_off is None:
        return None
    found = db.session.scalar(select(Publication).where(Publication.territory == territory,
                                                        Publication.year == year))
    # Counting on read happens in tests only. Off the request no coordinator waits the minutes a national count
    # takes, and a count that fails fails the background job, not every reader's page.
    if rebuild.inline():
        if out_of_date(found, cut_off):
            found = _rebuild(territory, year)
    else:
        if out_of_date(found, cut_off, changed=rebuild.due_for_check):
            rebuild.schedule(territory, year, refresh)
        # never a publication protected less than the k in force (an administrator raised it since it was counted)
        found = found if found is not None and found.k >= get_k() else None
    cache[(territory, year)] = found
    return found


def refresh(territory: str, year: int) -> Publication | None:
    """Count the publication again if it is out of date (the background build's work)."""
    if stale(territory, year):
        return _rebuild(territory, year)
    return None


def stale(territory: str, year: int) -> bool:
    """Whether `flask stats publish --stale` counts this publication again."""
    cut_off = cut_off_for(year)
    found = db.session.scalar(select(Publication).where(Publication.territory == territory, Publication.year == year))
    return cut_off is not None and out_of_date(found, cut_off)


def data_stamp() -> str:
    """A mark that changes whenever what the publication counts changes (rows added, removed or edited - every
    edit raises a row's version): one statement of a count and a sum of versions per table."""
    parts = []
    for model in STAMPED:
        parts.append(select(func.count()).select_from(model).scalar_subquery())
        parts.append(select(func.coalesce(func.sum(model.version), 0)).scalar_subquery())
    return ".".join(str(v) for v in db.session.execute(select(*parts)).one())


def count(territory: str, year: int) -> Publication | None:
    """Count and store the publication with the mark of the data it counted (in the caller's transaction)."""
    stamp = data_stamp()
    built = build(territory, year)
    if built is not None:
        built.data_stamp = stamp
    return built


def _rebuild(territory: str, year: int) -> Publication | None:
    try:
        with db.session.begin_nested():
            built = count(territory, year)
        db.session.commit()
        return built
    except IntegrityError:  # another server built it at the same moment: read theirs
        db.session.rollback()
        return db.session.scalar(select(Publication).where(Publication.territory == territory,
                                                           Publication.year == year))


def cells(pub: Publication | None, base: str, level: str, dims: tuple[str, ...]) -> dict[tuple, int | None]:
    """(period, values) -> published value, None when suppressed; a cell that is not there holds 0."""
    if pub is None:
        return {}
    stmt = select(PublishedCell.period, PublishedCell.key, PublishedCell.value).where(
        PublishedCell.publication_id == pub.id, PublishedCell.base == base, PublishedCell.dims == ",".join(dims),
        PublishedCell.time == level)
    return {(period, tuple(key.split("|")) if dims else ()): value
            for period, key, value in db.session.execute(stmt)}


def period_cells(pub: Publication | None, bases, level: str, period: str, dims_options) -> dict[tuple, int | None]:
    """Several tables of one period in one statement, for a page that shows them side by side: (base, dims, values)
    -> published value, None when suppressed; a cell that is not there holds 0."""
    if pub is None:
        return {}
    stmt = select(PublishedCell.base, PublishedCell.dims, PublishedCell.key, PublishedCell.value).where(
        PublishedCell.publication_id == pub.id, PublishedCell.base.in_(tuple(bases)),
        PublishedCell.dims.in_([",".join(d) for d in dims_options]), PublishedCell.time == level,
        PublishedCell.period == period)
    return {(base, tuple(dims.split(",")) if dims else (), tuple(key.split("|")) if dims else ()): value
            for base, dims, key, value in db.session.execute(stmt)}


def cell(pub: Publication | None, base: str, level: str, period: str, dims=(), values=()) -> tuple[int, bool]:
    """One cell: (value, suppressed); 0 when it is not there. Read once per request: a page asks for the same total
    once per table it shows (the dashboard's six breakdowns share theirs)."""
    if pub is None:
        return 0, False
    key = (pub.id, pub.built_at, base, level, period, tuple(dims), tuple(values))
    memo = g.setdefault("_published_cells", {}) if has_request_context() else {}
    if key not in memo:
        memo[key] = _cell(pub, base, level, period, dims, values)
    return memo[key]


def _cell(pub: Publication, base: str, level: str, period: str, dims, values) -> tuple[int, bool]:
    row = db.session.execute(select(PublishedCell.value).where(
        PublishedCell.publication_id == pub.id, PublishedCell.base == base, PublishedCell.dims == ",".join(dims),
        PublishedCell.time == level, PublishedCell.period == period,
        PublishedCell.key == "|".join(values))).first()
    if row is None:
        return 0, False
    return (0, True) if row.value is None else (row.value, False)
