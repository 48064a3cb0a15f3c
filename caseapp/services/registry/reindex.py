"""`flask victims reindex`: every victim's blind indexes recomputed at the width planned for the deployment."""
from __future__ import annotations

import json

from sqlalchemy import bindparam, select, update

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.accounts import Setting
from caseapp.models.victims import Victim
from caseapp.services.registry import index_width
from caseapp.services.registry.identity import blind_indexes

_WRITE = (update(Victim.__table__).where(Victim.__table__.c.id == bindparam("victim"))
          .values(document_bidx=bindparam("document"), name_bidx=bindparam("name"), phone_bidx=bindparam("phone")))


def reindex(actor="cli", batch: int = 500) -> int:
    """Record the planned width and recompute every victim's blind indexes at it, in one transaction."""
    new = index_width.planned_bits()
    # Locked even when the width does not change: unlocked, a reindex at the same width wrote the indexes of the
    # identity it had read over an edit committed meanwhile.
    row = index_width.locked_for_reindex()
    before = int(json.loads(row.value)) if row is not None else None
    if row is None:
        row = Setting(key=index_width.SETTING, value=json.dumps(new))
        db.session.add(row)
    row.value = json.dumps(new)
    db.session.flush()
    index_width.forget()
    # Written as columns, not through her record: derived values, which leave her version alone, so an edit of
    # her address or her statistics made meanwhile is neither refused as stale nor fails the whole reindex.
    connection, count, rows = db.session.connection(), 0, []
    for victim in db.session.scalars(select(Victim).where(Victim.erased.is_(False)).order_by(Victim.id)
                                     .execution_options(yield_per=batch)):
        indexes = blind_indexes(victim, new)
        rows.append({"victim": victim.id, "document": indexes["document_bidx"], "name": indexes["name_bidx"],
                     "phone": indexes["phone_bidx"]})
        count += 1
        if len(rows) == batch:
            connection.execute(_WRITE, rows)
            rows.clear()
    if rows:
        connection.execute(_WRITE, rows)
    audit.record("victims.reindex", object_type="blind_index", object_ref=index_width.SETTING, actor=actor,
                 detail={"from": before, "to": new, "victims": count})
    db.session.commit()
    return count
