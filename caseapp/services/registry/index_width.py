"""The width of the blind indexes, sized from the deployment's planned number of victims and recorded once.

Too wide and every index value is unique: a copy of the database links one person across entities by it (15 bits
at Cartagena's ~1,000 victims). Too narrow and a search decrypts too many candidates. crypto.blind_index_bits
chooses the width from PLANNED_VICTIMS (2 <= rows / 2**bits < sqrt(rows)). The width in use is recorded in the
settings table when the first victim is indexed, so that changing the plan never silently breaks lookups: the
recorded width stays until `flask victims reindex` (services.registry.reindex) recomputes them at the new one.

Whoever writes a victim's indexes (registration, an edit of her identity, erasure, the reindex) reads the width
through `bits_to_write`, under a lock the reindex takes too, held to the commit: a reindex waits for the indexes
being written, and they wait for it, so no victim is left indexed at a width the reindex has just replaced.
"""
from __future__ import annotations

import json

from flask import current_app, g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import Setting
from caseapp.models.victims import Victim
from caseapp.services.primitives import setting_row

SETTING = "blind_index_bits"


def planned_bits() -> int:
    return crypto.blind_index_bits(current_app.config["PLANNED_VICTIMS"])


def bits(*, record: bool = False) -> int:
    """The recorded width (or the planned one, recorded now when `record`: a victim is being indexed)."""
    if has_request_context() and "_index_bits" in g:  # read once per request: a registration asks six times
        return g._index_bits
    row = setting_row(SETTING)
    if row is not None:
        if has_request_context():
            g._index_bits = int(json.loads(row.value))
        return int(json.loads(row.value))
    value = planned_bits()
    if record:
        try:
            with db.session.begin_nested():  # two first registrations at once: the second reads the first's width
                db.session.add(Setting(key=SETTING, value=json.dumps(value)))
        except IntegrityError:
            return int(json.loads(db.session.get(Setting, SETTING, populate_existing=True).value))
    return value


_LOCKED = select(Setting.value).where(Setting.key == SETTING).with_for_update(read=True)


def bits_to_write() -> int:
    """The width at which a victim's indexes are written now, read with the lock that the reindex's update of the
    same row conflicts with (PostgreSQL: FOR SHARE, which registrations and edits hold side by side; SQLite: the
    write lock), to the end of the transaction. Nothing pending is flushed before: a row written first would be
    locked before this one, in the reverse of the reindex's order (a deadlock on PostgreSQL). The first victim
    indexed records the planned width."""
    with db.session.no_autoflush:
        value = db.session.scalar(_LOCKED)
    if value is None:
        forget()
        bits(record=True)  # ours, or the one a concurrent first registration committed: read again, locked
        with db.session.no_autoflush:
            value = db.session.scalar(_LOCKED)
    width = int(json.loads(value))
    if has_request_context():
        g._index_bits = width  # this request's searches use it too
    return width


def locked_for_reindex() -> Setting | None:
    """The width's row (None before the first victim), locked against bits_to_write to the end of the transaction
    (FOR UPDATE; SQLite: the write lock), whether the reindex then changes it or not: those writing indexes now
    commit before it reads any victim, and those after wait for its commit."""
    return db.session.scalar(select(Setting).where(Setting.key == SETTING).with_for_update()
                             .execution_options(populate_existing=True))


def forget() -> None:
    """Drop the width this request read (the reindex has just recorded another)."""
    if has_request_context():
        g.pop("_index_bits", None)


def status() -> dict:
    """What the operator needs to decide on a reindex: recorded and planned widths, victims, candidates per value."""
    row = db.session.get(Setting, SETTING)
    recorded = int(json.loads(row.value)) if row is not None else None
    victims = db.session.scalar(select(func.count()).select_from(Victim).where(Victim.erased.is_(False)))
    width = recorded or planned_bits()
    return {"recorded_bits": recorded, "planned_bits": planned_bits(),
            "planned_victims": current_app.config["PLANNED_VICTIMS"], "victims": victims,
            "candidates_per_value_planned": round(current_app.config["PLANNED_VICTIMS"] / 2**width, 2)}
