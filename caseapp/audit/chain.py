"""The access log's keyed hash chain: sealing queued rows into it, verifying it, anchoring its head.

Appending and sealing are apart, as in certificate-transparency logs: a request appends its row to `audit_queue`
(own id, keyed per-row MAC) without any lock, and one sealer at a time moves queued rows, in id order and in
batches, into `audit_events`, each linked to the previous one by `mac = HMAC(audit key, prev_mac | canonical row)`.
The sealer holds the chain lock (PostgreSQL: an advisory lock; SQLite: the database's write lock) only for the
batch, and a batch is one transaction: a crash before its commit leaves every row in the queue, none lost, none
twice. `at` never goes backwards along the chain (a row sealed after a later one takes that one's time), so a date
range is a seq range.

On SQLite one writer runs at a time and a rolled-back id is given back, so queue ids are dense and in commit order:
verify also names a queued row deleted before it was sealed. On PostgreSQL ids come from a sequence (gaps are
normal), so a queued row is protected by its trigger (no DELETE until sealed), its MAC, and a short stay (every
commit tries to seal, and one that had to queue its rows has them sealed after it: audit.sealer); `verify`
reports the queue it finds.
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import Boolean, Integer, bindparam, column, delete, func, insert, literal, select, text, true
from sqlalchemy.engine import Connection

from caseapp import crypto
from caseapp.database import fresh_snapshot, holds_write_lock, take_write_lock
from caseapp.extensions import db
from caseapp.models.audit import AuditEvent, AuditPending
from caseapp.timeutil import utcnow

GENESIS = "0" * 64
PENDING = "pending"  # the MAC domain of a queued row (a chain MAC's prefix is always 64 hex digits)
CHAIN_LOCK_ID = 0x52555441  # "RUTA": PostgreSQL advisory lock held by the one sealer
SEAL_BATCH = 1000
_BEFORE_EVERY_ID = -(2**63)  # the queue is read from ids above it (a signed 64-bit integer on both databases)
log = logging.getLogger("caseapp")

_ENTRY = ("at", "actor", "actor_entity", "roles", "action", "object_type", "object_ref", "outcome", "ip",
          "request_id", "detail")
_QUEUE = AuditPending.__table__
_CHAIN = AuditEvent.__table__

# Statements of every request's append, built once (building them cost more than SQLite takes to run them).
_APPEND = insert(_CHAIN)
_HEAD = select(_CHAIN.c.seq.label("head_seq"), _CHAIN.c.mac.label("head_mac"),
               _CHAIN.c.at.label("head_at")).order_by(_CHAIN.c.seq.desc()).limit(1)
_QUEUE_PEEK = select(_QUEUE.c.id).limit(1)  # before every console page


def _chained(queue_id):
    """Whether the queued row `queue_id` names is already in the chain (through ux_audit_events_queue_id)."""
    return select(_CHAIN.c.seq).where(_CHAIN.c.queue_id == queue_id).exists().label("chained")


def _head_and_queue_statement():
    """The chain's head and up to :limit queued rows after the id :after in one statement: one row with an empty
    queue, so the head is never a statement of its own."""
    head = _HEAD.subquery("head")
    queue = (select(_QUEUE).where(_QUEUE.c.id > bindparam("after", type_=_QUEUE.c.id.type)).order_by(_QUEUE.c.id)
             .limit(bindparam("limit", type_=Integer)).subquery("queue"))
    one = select(literal(1).label("one")).subquery("one")
    return (select(queue, _chained(queue.c.id), head.c.head_seq, head.c.head_mac, head.c.head_at).select_from(one)
            .outerjoin(head, true()).outerjoin(queue, true()).order_by(queue.c.id))


_HEAD_AND_QUEUE = _head_and_queue_statement()
_QUEUE_CHECKED = select(_QUEUE, _chained(_QUEUE.c.id)).order_by(_QUEUE.c.id)  # verify's read of the queue
# PostgreSQL: no row when another sealer holds the chain; else the head (read after the lock) and whether rows are
# queued (migration 0027's function).
# Its columns named: SQLAlchemy keeps the result's description with the compiled statement, where a bare text() had
# it built again from the cursor at every commit.
_TRY_CHAIN = text("SELECT head_seq, head_mac, head_at, queued FROM audit_chain_try(CAST(:k AS BIGINT))").columns(
    _CHAIN.c.seq.label("head_seq"), _CHAIN.c.mac.label("head_mac"), _CHAIN.c.at.label("head_at"),
    column("queued", Boolean))


def _fields(row) -> list:
    return [row.at.isoformat(timespec="microseconds"), row.actor, row.actor_entity, row.roles, row.action,
            row.object_type, row.object_ref, row.outcome, row.ip, row.request_id, row.detail]


def canonical(row) -> bytes:
    """A chain row as its MAC sees it. Rows sealed through the queue also bind their queue id (older rows have none,
    and keep the form they were sealed in)."""
    fields = [row.seq, *_fields(row)]
    if row.queue_id is not None:
        fields.append(row.queue_id)
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


def pending_mac(row) -> str:
    """The MAC of a queued row: its id and content under the audit key (editing or renumbering it shows)."""
    data = json.dumps([row.id, *_fields(row)], separators=(",", ":"), ensure_ascii=False).encode()
    return crypto.audit_mac(PENDING, data)


_ids: dict[tuple, list[int]] = {}  # PostgreSQL: ids taken from the sequence in blocks, per process and database
_ids_lock = threading.Lock()
ID_BLOCK = 32


def next_queue_id(conn: Connection) -> int:
    """The id the next queued row takes (its MAC covers it, so it is known before the insert). SQLite: the caller
    holds the write lock. PostgreSQL: a sequence, no lock, ids taken 32 at a time (one round trip, not one per
    row; ids there are neither dense nor in commit order anyway)."""
    if conn.dialect.name == "postgresql":
        with _ids_lock:
            spare = _ids.setdefault((os.getpid(), str(conn.engine.url)), [])
            if not spare:
                spare.extend(conn.scalars(text("SELECT nextval('audit_queue_id_seq') FROM generate_series(1, :n)"),
                                          {"n": ID_BLOCK}))
                spare.reverse()
            return spare.pop()
    return conn.scalar(text("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_queue'), 0), "
                            "coalesce((SELECT max(id) FROM audit_queue), 0)) + 1"))


def _chain_lock(conn: Connection) -> None:
    """Wait for the chain (PostgreSQL's try is audit_chain_try, in seal)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_ID})
    else:
        take_write_lock(conn)  # SQLite: the one writer is the one sealer


class Sealed(int):
    """How many rows a seal chained; `more` when it stopped at its batch of queued rows to chain, so that more may
    wait."""

    def __new__(cls, count: int, more: bool = False):
        sealed = super().__new__(cls, count)
        sealed.more = more
        return sealed


def seal(conn: Connection, *, blocking: bool = True, limit: int | None = None, own=()) -> Sealed | None:
    """Move up to `limit` (SEAL_BATCH) queued rows into the chain, in id order, then `own` (rows the caller's
    transaction appends and never queued), inside the caller's transaction (the caller commits). Returns how many
    were sealed; None when another sealer holds the chain and `blocking` is False (then `own` is the caller's to
    queue). A queued row whose MAC does not hold, or whose id is already in the chain, is left where it is, as
    evidence (verify names it): see _read_queue."""
    limit = SEAL_BATCH if limit is None else limit
    if limit < 1:
        raise ValueError("a seal reads at least one queued row")
    head = None
    if conn.dialect.name == "postgresql" and not blocking:
        # The try and the head in one round trip (migration 0027); the queue, nearly always empty, only when it is not.
        head = conn.execute(_TRY_CHAIN, {"k": CHAIN_LOCK_ID}).first()
        if head is None:
            return None
    else:
        _chain_lock(conn)  # SQLite's write lock never fails a try: its sealer waits for it, as any writer
    if head is not None and not head.queued:
        queued, more = [], False
    else:
        head, queued, more = _read_queue(conn, limit)  # read after the lock: the last sealer's commit is visible
    if own and more:  # more is queued than one batch: her rows wait their turn behind it
        enqueue(conn, own)
        own = ()
    if not queued and not own:
        return Sealed(0)
    link = _Link(conn, head)
    rows = [link.next({k: getattr(q, k) for k in _ENTRY}, q.id) for q in queued]
    ids = [q.id for q in queued]
    rows.extend(link.next({k: getattr(r, k) for k in _ENTRY}, r.id) for r in own)
    if rows:
        conn.execute(_APPEND, rows)
    if ids:
        conn.execute(delete(_QUEUE).where(_QUEUE.c.id.in_(ids)))
    return Sealed(len(rows), more)


def _read_queue(conn: Connection, limit: int) -> tuple:
    """(a row that carries the chain's head; up to `limit` queued rows to chain, in id order; whether more may wait).

    A queued row whose MAC does not hold, or whose id is already in the chain (a sealed row inserted again: chained
    twice, it would break the chain's unique queue id and fail every seal, and so every commit on PostgreSQL), is
    read and left as evidence (verify names it), and counts for nothing: the reading goes on past it, a batch at a
    time, until `limit` rows are found or the queue ends. Counted with the rest, N of them at the queue's head left
    every seal limit - N % limit rows to chain, with more said to wait: none at all when they filled a batch (seal_all,
    the console, verify and anchors looped for ever; PostgreSQL's commits queued their rows behind them)."""
    after, queued, head = _BEFORE_EVERY_ID, [], None
    while True:
        found = conn.execute(_HEAD_AND_QUEUE, {"limit": limit, "after": after}).all()
        head = head or found[0]  # the queue read under the lock: the head does not move between these reads
        batch = [q for q in found if q.id is not None]
        refused, stopped = [], False
        for q in batch:
            if len(queued) == limit:
                stopped = True  # a batch found inside this read: the rest waits for the next seal
                break
            (queued if _refusal(q) is None else refused).append(q)
        if refused:  # one line a read, not one a row
            log.error("access log: %d queued rows do not match their MAC or are already in the chain (the first: "
                      "%s); left in the queue", len(refused), refused[0].id)
        if stopped or (len(queued) == limit and len(batch) == limit):
            return head, queued, True
        if len(batch) < limit:
            return head, queued, False
        after = batch[-1].id


def _refusal(q) -> str | None:
    """Why a queued row (read with its `chained` column) may not be chained, or None: the one rule the sealer leaves
    evidence by and verify names it by."""
    if not crypto.same_secret(pending_mac(q), q.mac):
        return "a queued row's content does not match its MAC"
    if q.chained:
        return "a queued row's id is already in the chain: a sealed row inserted again"
    return None


def enqueue(conn: Connection, rows) -> None:
    """Queue rows appended (AuditPending, id and MAC set) in one statement, for the next sealer."""
    conn.execute(insert(_QUEUE), [{c.name: getattr(r, c.name) for c in _QUEUE.columns} for r in rows])


def append_sealed(conn: Connection, entry: dict) -> dict:
    """SQLite with sealing at commit: the one writer seals its row as it appends it (head read under the write
    lock, one insert), so the queue costs nothing there. Returns the chain row."""
    take_write_lock(conn)
    row = _Link(conn).next(entry, None)
    conn.execute(_APPEND, [row])
    return row


class _Link:
    """The chain's head as the sealer extends it: seq, previous MAC, and the time `at` may not go below."""

    def __init__(self, conn: Connection, read=None):
        """`read`: a row that already carries the head (head_seq, head_mac, head_at), or None to read it now."""
        if read is None:
            read = conn.execute(_HEAD).first()
        found = read is not None and read.head_seq is not None
        self.seq, self.prev, self.at = (read.head_seq, read.head_mac, read.head_at) if found else (0, GENESIS, None)

    def next(self, entry: dict, queue_id: int | None) -> dict:
        row = dict(entry)
        if self.at is not None and row["at"] < self.at:
            row["at"] = self.at  # sealed after a later row: it takes that row's time
        self.seq += 1
        row.update(seq=self.seq, queue_id=queue_id, prev_mac=self.prev)
        row["mac"] = self.prev = crypto.audit_mac(self.prev, canonical(_Row(row)))
        self.at = row["at"]
        return row


class _Row:
    def __init__(self, values: dict):
        self.__dict__.update(values)


def seal_all() -> int:
    """Seal every row committed so far, waiting for the chain if a sealer holds it (the auditor's console, verify,
    anchors, `flask audit seal`), so that the session's next reads see them."""
    session = db.session()
    if holds_write_lock(session):  # SQLite: the session is the one writer; another connection would wait for it
        return seal(session.connection(), blocking=True, limit=2**31)
    # The first look through the session's own transaction, not a second connection with its BEGIN and ROLLBACK, for
    # a queue that is nearly always empty. On SQLite the session's snapshot dates from its first read (the user
    # loader's): renewed first, or rows committed since would stay queued and unseen.
    fresh_snapshot(session)
    if session.connection().execute(_QUEUE_PEEK).first() is None:
        return 0  # nothing queued: no lock taken
    total = 0
    while True:
        with db.engine.begin() as conn:
            sealed = seal(conn, blocking=True)
        total += sealed
        if not sealed.more or queue_is_empty(db.engine):
            break
    if total:
        fresh_snapshot(session)
    return total


def queue_is_empty(engine) -> bool:
    """Whether nothing waits in the queue. On PostgreSQL a statement on its own (autocommit): the BEGIN and ROLLBACK
    a transaction puts around it would be two more round trips."""
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn:
        return conn.execute(_QUEUE_PEEK).first() is None


def count(since: datetime, action: str, **equal) -> int:
    """Rows of `action` with these other column values at or after `since`, sealed or still queued (one statement).

    Read through the (action, seq) index from the first row at or after `since` (`at` never goes backwards along
    the chain, so that row starts the range): the other columns filter what it finds, never choose the index
    (`col || ''` keeps SQLite, which has no statistics here, from reading a user's whole history through
    (actor, seq): 19,000 rows, 12 ms, for the bench's busiest registrar's hints of the day)."""
    params = {"since": since, "action": action, **{f"equal_{k}": v for k, v in equal.items() if v is not None}}
    empty = tuple(sorted(k for k, v in equal.items() if v is None))  # compared with IS NULL, as a value could not be
    return db.session.scalar(_count_statement(tuple(sorted(equal)), empty), params)


@functools.lru_cache(maxsize=32)  # per set of compared columns: built once (every registration counts its hints)
def _count_statement(columns: tuple, empty: tuple = ()):
    since, action = bindparam("since"), bindparam("action")
    first = (select(AuditEvent.seq).where(AuditEvent.at >= since).order_by(AuditEvent.at, AuditEvent.seq)
             .limit(1).scalar_subquery())

    def part(model, *since_seq):
        return select(func.count()).select_from(model).where(
            model.action == action, *since_seq, model.at >= since,
            *(getattr(model, k).concat("").is_(None) if k in empty else getattr(model, k).concat("") == bindparam(
                f"equal_{k}") for k in columns)).scalar_subquery()
    return select(part(AuditEvent, AuditEvent.seq >= first) + part(AuditPending))


# --- verification ------------------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    head_seq: int
    head_mac: str
    broken_seq: int | None = None
    problem: str | None = None
    queued: int = 0  # rows still in the queue after sealing (committed meanwhile, or refused as tampered)
    broken_queue_id: int | None = None


def _dense_ids() -> bool:
    return db.engine.dialect.name == "sqlite"


def _check_queue(result: VerifyResult, gaps: list[range], last_queue_id: int) -> VerifyResult:
    """The rows left in the queue must be ones a sealer would chain (_refusal), the first that is not named; on
    SQLite every id ever given must be somewhere."""
    queued_ids = set()
    for q in db.session.execute(_QUEUE_CHECKED):
        queued_ids.add(q.id)
        problem = _refusal(q)
        if problem is not None:
            result.ok, result.broken_queue_id, result.problem = False, q.id, problem
            return result
    result.queued = len(queued_ids)
    if _dense_ids():
        given = db.session.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_queue'")) or 0
        if type(given) is not int:  # SQLite keeps whatever is written there ('x', 1e300)
            result.ok, result.problem = False, "the queue's id counter is not an id: edited"
            return result
        # gaps looked through, never listed: an id counter set far ahead (UPDATE sqlite_sequence, or a row given
        # id 2**40 and then deleted) made a list of that many ids
        lost = next((i for i in itertools.chain(*gaps, range(last_queue_id + 1, given + 1)) if i not in queued_ids),
                    None)
        if lost is not None:
            result.ok, result.broken_queue_id = False, lost
            result.problem = "a row given this queue id is neither in the chain nor in the queue: deleted"
    return result


def verify(batch: int = 5000, anchor: dict | None = None) -> VerifyResult:
    """Seal what is queued, walk the chain in seq order, name the first row whose link or MAC does not hold,
    then check what is left in the queue."""
    seal_all()
    fresh_snapshot(db.session())  # SQLite: read the log as committed now, not as when the caller's reads began
    prev, expected_seq, count_, last_seq, last_at = GENESIS, 1, 0, 0, None
    dense, last_queue_id, gaps = _dense_ids(), 0, []
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(False, count_, last_seq, prev, row.seq, f"row {expected_seq} is missing")
            if row.prev_mac != prev:
                return VerifyResult(False, count_, last_seq, prev, row.seq, "link to the previous row is broken")
            if not crypto.same_secret(crypto.audit_mac(prev, canonical(row)), row.mac):
                return VerifyResult(False, count_, last_seq, prev, row.seq, "row content does not match its MAC")
            if last_at is not None and row.at < last_at:  # the sealer keeps it (_Link.next); count() relies on it
                return VerifyResult(False, count_, last_seq, prev, row.seq, "row's time is before the previous row's")
            if dense and row.queue_id is not None:
                if row.queue_id <= last_queue_id:
                    return VerifyResult(False, count_, last_seq, prev, row.seq, "rows are out of queue order")
                if row.queue_id > last_queue_id + 1:
                    gaps.append(range(last_queue_id + 1, row.queue_id))
                last_queue_id = row.queue_id
            prev, last_seq, expected_seq, count_, last_at = row.mac, row.seq, row.seq + 1, count_ + 1, row.at
        db.session.expunge_all()
        db.session.rollback()  # one short read transaction per batch
    result = _check_queue(VerifyResult(True, count_, last_seq, prev), gaps, last_queue_id)
    if not result.ok or anchor is None:
        return result
    try:
        a_seq, a_mac = int(anchor["seq"]), str(anchor["mac"])
    except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: a seq of Infinity
        a_seq = None
    if a_seq is None or not 0 <= a_seq < 2**63:  # a seq the database cannot hold is no row of it
        return VerifyResult(False, count_, last_seq, prev, None, "the anchor is malformed (needs seq and mac)")
    if a_seq > last_seq:
        return VerifyResult(False, count_, last_seq, prev, last_seq + 1,
                            f"the log ends at row {last_seq} but the anchor saw row {a_seq}: tail truncated")
    at_anchor = db.session.get(AuditEvent, a_seq)
    if a_seq and (at_anchor is None or not crypto.same_secret(at_anchor.mac, a_mac)):
        return VerifyResult(False, count_, last_seq, prev, a_seq, "row differs from the anchor")
    return result


def head() -> dict:
    """The chain head, for an anchor: its seq and MAC and the row count (everything committed is sealed first)."""
    seal_all()
    row = db.session.execute(select(AuditEvent.seq, AuditEvent.mac).order_by(AuditEvent.seq.desc()).limit(1)).first()
    rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
    return {
        "seq": row.seq if row else 0,
        "mac": row.mac if row else GENESIS,
        "rows": rows,
        "at": utcnow().isoformat(timespec="seconds") + "Z",
    }


def write_anchor(directory: Path | None = None) -> tuple[dict, Path]:
    """Record the head in the instance's anchors folder (copy it off the machine for a notary)."""
    anchor = head()
    directory = directory or Path(current_app.config["INSTANCE_PATH"]) / "anchors"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"anchor-{anchor['seq']:012d}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(anchor, sort_keys=True) + "\n")
    return anchor, path
