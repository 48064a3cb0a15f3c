"""The access log: record() is the only writer of its rows; verify() walks the keyed hash chain (audit.chain).

Who did what to which object, never the data itself: cases are named by code, searches by their kind.
A row is appended in the same transaction as the change it describes, so both commit or neither does: to the queue,
sealed into the chain at that commit or just after it, or on SQLite straight into the chain (the policy at the end
of this module).

The log is append-only and erasure never reaches it, so no column may hold free text from a request: every string
written here is a code (bounded length, no spaces, a small alphabet) or it is replaced by OMITTED. `bounded()` is
that one rule; a caller that passes a sentence loses it, never the victim.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
from types import SimpleNamespace

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from caseapp.audit import chain, sealer
from caseapp.audit.chain import GENESIS, VerifyResult, canonical, count, head, seal_all, verify, write_anchor  # noqa: F401 - the log's public interface
from caseapp.database import take_write_lock
from caseapp.extensions import db
from caseapp.models.audit import OUTCOMES, AuditPending
from caseapp.timeutil import utcnow

log = logging.getLogger("caseapp")
_SEAL_AT_COMMIT = "audit_seal_at_commit"  # session.info: this transaction appended rows to seal
_APPENDED = "audit_appended"  # session.info (PostgreSQL): rows this transaction appends, written at its commit
_QUEUED = "audit_queued"  # session.info (PostgreSQL): its commit left rows in the queue (the chain was held)
OMITTED = "~omitted"  # what the log holds instead of a value that is not a code
_CODE = re.compile(r"[A-Za-z0-9_.,:@/+\-]{0,64}")  # codes, usernames, case codes, dates, ids: never a sentence
_ACTION = re.compile(r"[a-z][A-Za-z0-9_.:]{0,47}")  # a code, or "request:<endpoint>"
_OBJECT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_REQUEST_ID = re.compile(r"[0-9a-f-]{36}")
MAX_ITEMS = 200  # a list in a detail: the codes of one page of cases (200 at most) fit


def is_code(value) -> bool:
    """Whether the log may hold `value` as it is (a code, not a sentence)."""
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def _code(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) and _CODE.fullmatch(value) else OMITTED


def _scalar(value):
    if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**63):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else OMITTED
    return _code(value)


def _value(value, depth: int = 0):
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        bounded_items = [_scalar(v) for v in items[:MAX_ITEMS]]
        return bounded_items + ([OMITTED] if len(items) > MAX_ITEMS else [])
    if isinstance(value, dict) and depth == 0:
        return _detail(value, depth + 1)
    return _scalar(value)


def _detail(detail: dict, depth: int = 0) -> dict:
    return {(k if isinstance(k, str) and _KEY.fullmatch(k) else OMITTED): _value(v, depth)
            for k, v in list(detail.items())[:MAX_ITEMS]}


def _ip(value) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return OMITTED


def bounded(action: str, object_type, object_ref, actor, ip, request_id, detail) -> tuple:
    """The row's fields as the log may hold them: codes and bounded values only (see the module docstring)."""
    if not isinstance(action, str) or not _ACTION.fullmatch(action):
        raise ValueError("an access-log action is a code")
    if object_type is not None and not (isinstance(object_type, str) and _OBJECT_TYPE.fullmatch(object_type)):
        raise ValueError("an access-log object type is a code")
    if request_id is not None and not (isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id)):
        request_id = None
    return (action, object_type, _code(object_ref), _code(actor), _ip(ip), request_id,
            _detail(detail) if detail else None)


def _actor_fields(actor) -> tuple[str | None, str | None, str | None]:
    if actor is None and has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            actor = current_user
        else:
            actor = g.get("audit_actor")
    if actor is None:
        return None, None, None
    if isinstance(actor, str):
        return actor, None, None
    entity = getattr(actor, "entity", None)  # the command-line operator belongs to no entity
    return actor.username, entity.code if entity is not None else None, ",".join(sorted(actor.roles))


def object_ref_of(obj) -> tuple[str | None, str | None]:
    """The (object_type, object_ref) that names an object in the log: a case by its code, others by id."""
    if obj is None:
        return None, None
    kind = getattr(obj, "__audit_type__", None) or obj.__tablename__.rstrip("s")
    ref = getattr(obj, "code", None) or getattr(obj, "username", None) or str(obj.id)
    return kind, ref


def record(
    action: str,
    obj=None,
    *,
    object_type: str | None = None,
    object_ref: str | None = None,
    outcome: str = "allowed",
    detail: dict | None = None,
    actor=None,
) -> AuditPending | SimpleNamespace | None:
    """Append one row to the access log in the current transaction (the caller commits): to the queue, without a
    lock, on PostgreSQL; on SQLite, under the write lock from here to the commit (as any write), sealed at once
    unless sealing is deferred."""
    if current_app.config.get("AUDIT_DISABLED"):
        return None
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if obj is not None:
        object_type, object_ref = object_ref_of(obj)
    name, entity, roles = _actor_fields(actor)
    action, object_type, object_ref, name, ip, request_id, detail = bounded(
        action, object_type, object_ref, name, request.remote_addr if has_request_context() else None,
        g.get("request_id") if has_request_context() else None, detail)
    entity = _code(entity)
    entry = {"at": utcnow(), "actor": name, "actor_entity": entity, "roles": roles, "action": action,
             "object_type": object_type, "object_ref": object_ref, "outcome": outcome, "ip": ip,
             "request_id": request_id,
             "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None}
    session = db.session()
    conn = session.connection()
    at_commit = current_app.config.get("AUDIT_SEAL", "commit") == "commit"
    if at_commit and conn.dialect.name == "sqlite":
        # the row as written, as attributes (an AuditEvent built only to be returned cost ~30 us a logged request)
        return SimpleNamespace(**chain.append_sealed(conn, entry))
    if conn.dialect.name == "sqlite":
        take_write_lock(conn)  # the queue id is read before the insert: one writer at a time there
    row = AuditPending(id=chain.next_queue_id(conn), **entry)
    row.mac = chain.pending_mac(row)
    if at_commit and not session.in_nested_transaction():
        # PostgreSQL: written at the commit, straight into the chain when the request wins its lock (no queue row
        # to insert and delete), else into the queue (_seal_before_commit).
        session.info.setdefault(_APPENDED, []).append(row)
    else:  # queued now: sealing deferred, or inside a savepoint, whose rollback must take the row with it
        chain.enqueue(conn, [row])
    if at_commit:
        session.info[_SEAL_AT_COMMIT] = True
    return row


def record_and_commit(action: str, obj=None, **kwargs) -> None:
    """For events outside any business transaction (failed login, denial): roll back, record, commit."""
    db.session.rollback()
    record(action, obj, **kwargs)
    db.session.commit()


# --- when rows are sealed: one policy ----------------------------------------------------------------------------
# AUDIT_SEAL = "commit" (default): rows are sealed at the commit that appends them.
# - SQLite: the writer is alone anyway, so record() seals its row as it appends it, in the same transaction (no
#   queue row, no extra transaction or fsync).
# - PostgreSQL: just before the commit, the request tries the chain lock (pg_try_advisory_xact_lock, which never
#   waits, with the read of the chain's head in one round trip: migration 0027's audit_chain_try) and, if free,
#   seals the queue with its own rows in its own commit (no extra fsync); nobody waits for
#   that lock, others just leave their rows queued. A request whose rows were queued tries again after its commit,
#   and if the chain is still held, a thread of its process tries until it seals them (audit.sealer): no row is
#   stranded, and the queue stays a few rows long without a sealing daemon to run. A request that sealed its own
#   rows sends nothing after its commit.
# AUDIT_SEAL = "deferred": appends never touch the chain; `flask audit seal` (cron) does, and the auditor's console,
# `flask audit verify` and anchors seal (waiting) before they read.


def _seal_before_commit(session) -> None:
    # A savepoint's release fires these events too: the rows wait for the outer commit (written inside the savepoint,
    # its rollback would take them while the outer transaction commits without them).
    if not session.info.get(_SEAL_AT_COMMIT) or session.in_nested_transaction():
        return
    own = session.info.pop(_APPENDED, [])
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    session.info.pop(_SEAL_AT_COMMIT, None)  # handled here: after the commit only what is left queued
    sealed = chain.seal(conn, blocking=False, own=own)
    if sealed is None and own:
        chain.enqueue(conn, own)
    if sealed is None or sealed.more:
        # Another request holds the chain, or a batch of older rows went first and more may wait (with hers, then):
        # what this commit leaves queued (a savepoint's rows too) is sealed after it.
        session.info[_QUEUED] = True


def _seal_after_commit(session) -> None:
    if session.in_nested_transaction():
        return
    # Still set on PostgreSQL when no root before_commit ran for these rows (committed with a savepoint open, its
    # rows queued as they were recorded): sealed after the commit, as queued ones.
    unhandled = session.info.pop(_SEAL_AT_COMMIT, False)
    queued = session.info.pop(_QUEUED, False)
    engine = session.get_bind()
    unwritten = session.info.pop(_APPENDED, None)
    if unwritten:
        # The root transaction was committed with a savepoint still open (`with session.begin():`, not
        # Session.commit(), which releases savepoints first): its before_commit ran inside the savepoint and
        # left them. Queued now rather than lost; the app's own code never commits that way.
        log.warning("access log: %d rows queued after their transaction's commit", len(unwritten))
        with engine.begin() as conn:
            chain.enqueue(conn, unwritten)
    if (queued or unwritten or unhandled) and engine.dialect.name == "postgresql":
        sealer.after_queueing(current_app._get_current_object(), engine)


def _forget(session, transaction) -> None:
    """What a transaction appended goes with it when it ends without its commit (rolled back, closed), as its rows
    do from the database: never into a later transaction of the same session. (At after_rollback the session
    still reports its transaction: only its end says it is over.)"""
    if transaction.parent is None:
        session.info.pop(_SEAL_AT_COMMIT, None)
        session.info.pop(_APPENDED, None)
        session.info.pop(_QUEUED, None)


event.listen(Session, "before_commit", _seal_before_commit)
event.listen(Session, "after_commit", _seal_after_commit)
event.listen(Session, "after_transaction_end", _forget)
