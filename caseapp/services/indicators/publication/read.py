"""Reading the publication: a lookup of stored cells.

A publication is out of date when a month has closed since its cut-off, when k changed, or, with
PUBLICATION_REFRESH = "on_change", when it is older than the stated delay (`PUBLICATION_MAX_AGE_MINUTES`) and its data
changed since. Counting again is off the request (rebuild.py): the reader gets the stored publication - protected as a
whole, its `data_as_of` saying what it counts - while one server counts the new one. Only when nothing may be shown
is it counted during the request: no publication of the year yet, or one protected with a smaller k than the one in
force now (showing it would break the new threshold).
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, Consent
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
from caseapp.models.victims import Victim
from caseapp.services.indicators.dimensions import get_k
from caseapp.services.indicators.publication import rebuild
from caseapp.services.indicators.publication.build import build, cut_off_for
from caseapp.timeutil import utcnow

# What a publication counts from: a change in any of these is a change of the publication.
STAMPED = (Case, Victim, Consent, Referral, AssistanceStep, PhaseExtension, CaseClosure, LegalProceeding,
           ProtectionMeasure, Entity, Policy, Product)


def on_change() -> bool:
    """Whether a publication is counted again when the data changes (within the stated delay), or only when a month
    closes (the default: each release is protected on its own, so releases between month ends would let a reader
    subtract one from another - a status changed, a consent withdrawn)."""
    return current_app.config.get("PUBLICATION_REFRESH", "monthly") == "on_change"


def max_age() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("PUBLICATION_MAX_AGE_MINUTES", 60)))


def publication(territory: str, year: int) -> Publication | None:
    """The territory's publication for `year`, up to date within the stated delay (None: no month of the year has
    closed yet)."""
    # Within one request the publication is looked up once (with no delay allowed, as in tests, every time).
    cache = g.setdefault("_publications", {}) if has_request_context() and max_age() else {}
    if (territory, year) in cache:
        return cache[(territory, year)]
    cut_off = cut_off_for(year)
    if cut_off is None:
        return None
    found = db.session.scalar(select(Publication).where(Publication.territory == territory,
                                                        Publication.year == year))
    if found is None or found.k < get_k():
        found = _rebuild(territory, year)
    elif _out_of_date(found, cut_off):
        if rebuild.inline():
            found = _rebuild(territory, year)
        else:
            rebuild.schedule(territory, year, refresh)
    cache[(territory, year)] = found
    return found


def _out_of_date(found: Publication, cut_off) -> bool:
    if found.cut_off != cut_off or found.k != get_k():
        return True
    if not on_change() or found.built_at >= utcnow() - max_age():
        return False
    # The data stamp is a scan of every counted table: off the request it is read in the background build (which
    # counts again only when it changed), at most once per delay per server.
    return found.data_stamp != data_stamp() if rebuild.inline() else rebuild.due_for_check(found)


def refresh(territory: str, year: int) -> Publication | None:
    """Count the publication again if it is out of date (the background build and `flask stats publish` path)."""
    found = db.session.scalar(select(Publication).where(Publication.territory == territory,
                                                        Publication.year == year))
    cut_off = cut_off_for(year)
    if cut_off is None:
        return None
    if found is not None and found.cut_off == cut_off and found.k == get_k() and not (
            on_change() and found.built_at < utcnow() - max_age() and found.data_stamp != data_stamp()):
        return found
    return _rebuild(territory, year)


def data_stamp() -> str:
    """A mark that changes whenever what the publication counts changes (rows added, removed or edited - every
    edit raises a row's version): one statement of a count and a sum of versions per table."""
    parts = []
    for model in STAMPED:
        parts.append(select(func.count()).select_from(model).scalar_subquery())
        parts.append(select(func.coalesce(func.sum(model.version), 0)).scalar_subquery())
    return ".".join(str(v) for v in db.session.execute(select(*parts)).one())


def _rebuild(territory: str, year: int) -> Publication | None:
    try:
        with db.session.begin_nested():
            stamp = data_stamp()
            built = build(territory, year)
            if built is not None:
                built.data_stamp = stamp
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


def cell(pub: Publication | None, base: str, level: str, period: str, dims=(), values=()) -> tuple[int, bool]:
    """One cell: (value, suppressed); 0 when it is not there."""
    if pub is None:
        return 0, False
    row = db.session.execute(select(PublishedCell.value).where(
        PublishedCell.publication_id == pub.id, PublishedCell.base == base, PublishedCell.dims == ",".join(dims),
        PublishedCell.time == level, PublishedCell.period == period,
        PublishedCell.key == "|".join(values))).first()
    if row is None:
        return 0, False
    return (0, True) if row.value is None else (row.value, False)
