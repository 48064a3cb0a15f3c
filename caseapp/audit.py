"""The access log: record() is the only writer of AuditEvent rows; verify() walks the keyed hash chain.

Who did what to which object, never the data itself: cases are named by code, searches by their kind.
A row is written in the same transaction as the change it describes, so both commit or neither does.

The log is append-only and erasure never reaches it, so no column may hold free text from a request: every string
written here is a code (bounded length, no spaces, a small alphabet) or it is replaced by OMITTED. `bounded()` is
that one rule; a caller that passes a sentence loses it, never the victim.
"""
from __future__ import annotations

import ipaddress
import json
import math
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g, has_request_context, request
from sqlalchemy import func, select, text

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.audit import OUTCOMES, AuditEvent
from caseapp.timeutil import utcnow

GENESIS = "0" * 64
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
CHAIN_LOCK_ID = 0x52555441  # "RUTA": PostgreSQL advisory lock serialising appends


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


def canonical(row: AuditEvent) -> bytes:
    fields = [
        row.seq, row.at.isoformat(timespec="microseconds"), row.actor, row.actor_entity, row.roles, row.action,
        row.object_type, row.object_ref, row.outcome, row.ip, row.request_id, row.detail,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


def _lock_chain() -> None:
    # SQLite: every transaction is BEGIN IMMEDIATE, so the writer is already alone.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_ID})


def record(
    action: str,
    obj=None,
    *,
    object_type: str | None = None,
    object_ref: str | None = None,
    outcome: str = "allowed",
    detail: dict | None = None,
    actor=None,
) -> AuditEvent | None:
    """Append one row to the access log in the current transaction (the caller commits)."""
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
    _lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.mac, AuditEvent.at).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.mac) if head else (1, GENESIS)
    # `at` never goes backwards along the chain (a clock stepped back included), so a date range is a seq range.
    now = utcnow()
    row = AuditEvent(
        seq=seq,
        at=max(now, head.at) if head else now,
        actor=name,
        actor_entity=entity,
        roles=roles,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        outcome=outcome,
        ip=ip,
        request_id=request_id,
        detail=json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None,
        prev_mac=prev,
    )
    row.mac = crypto.audit_mac(prev, canonical(row))
    db.session.add(row)
    db.session.flush()
    return row


def record_and_commit(action: str, obj=None, **kwargs) -> None:
    """For events outside any business transaction (failed login, denial): roll back, record, commit."""
    db.session.rollback()
    record(action, obj, **kwargs)
    db.session.commit()


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    head_seq: int
    head_mac: str
    broken_seq: int | None = None
    problem: str | None = None


def verify(batch: int = 5000, anchor: dict | None = None) -> VerifyResult:
    """Walk the chain in seq order; name the first row whose link or MAC does not hold."""
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(False, count, last_seq, prev, row.seq, f"row {expected_seq} is missing")
            if row.prev_mac != prev:
                return VerifyResult(False, count, last_seq, prev, row.seq, "link to the previous row is broken")
            if not crypto.same_secret(crypto.audit_mac(prev, canonical(row)), row.mac):
                return VerifyResult(False, count, last_seq, prev, row.seq, "row content does not match its MAC")
            prev, last_seq, expected_seq, count = row.mac, row.seq, row.seq + 1, count + 1
        db.session.expunge_all()
        db.session.rollback()  # end the read transaction per batch: on SQLite it holds the write lock
    result = VerifyResult(True, count, last_seq, prev)
    if anchor is not None:
        try:
            a_seq, a_mac = int(anchor["seq"]), str(anchor["mac"])
        except (KeyError, TypeError, ValueError):
            return VerifyResult(False, count, last_seq, prev, None, "the anchor is malformed (needs seq and mac)")
        if a_seq > last_seq:
            return VerifyResult(False, count, last_seq, prev, last_seq + 1,
                                f"the log ends at row {last_seq} but the anchor saw row {a_seq}: tail truncated")
        at_anchor = db.session.get(AuditEvent, a_seq)
        if a_seq and (at_anchor is None or not crypto.same_secret(at_anchor.mac, a_mac)):
            return VerifyResult(False, count, last_seq, prev, a_seq, "row differs from the anchor")
    return result


def head() -> dict:
    """The chain head, for an anchor: its seq and MAC and the row count."""
    row = db.session.execute(select(AuditEvent.seq, AuditEvent.mac).order_by(AuditEvent.seq.desc()).limit(1)).first()
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    return {
        "seq": row.seq if row else 0,
        "mac": row.mac if row else GENESIS,
        "rows": count,
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
