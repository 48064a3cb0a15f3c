"""Erasure of a victim's identity by crypto-shredding: her data key is destroyed, so every encrypted value
written under it (identity, narrative, notes, representatives) becomes unreadable for good.

Her clear statistical fields, the case's dates (identified_on, linked_on...) and so the indicator history stay.
Staff request it; an admin approves (or `flask victims erase CODE` does it from the server's shell).
"""
from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.cases import Case, ErasureRequest
from caseapp.services import attachments
from caseapp.services.primitives import (
    commit,
    load_case,
)
from caseapp.services.registry import index_width
from caseapp.timeutil import utcnow

log = logging.getLogger("caseapp.erasure")

ERASURE_REASONS = ("victim_request", "legal_order", "registered_in_error", "retention_expired", "other")


def request_erasure(actor, code: str, reason: str) -> ErasureRequest:
    """Ask an admin to erase the identity of the victim of this case."""
    case = load_case(code)
    authz.require(actor, "case.erase.request", case)
    if reason not in ERASURE_REASONS:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"reason": _("Choose from the list.")})
    if case.victim.erased:
        raise Conflict(_("This victim's identity was already erased."), rule="identity_erased")
    pending = db.session.scalar(
        select(ErasureRequest).where(ErasureRequest.case_id == case.id, ErasureRequest.status == "pending")
    )
    if pending is not None:
        raise Conflict(_("An erasure request for this case is already waiting for approval."),
                       rule="erasure_pending")
    row = ErasureRequest(case_id=case.id, requested_by_id=actor.id, requested_at=utcnow(), reason=reason)
    db.session.add(row)
    db.session.flush()
    audit.record("case.erase.request", case, actor=actor, detail={"reason": reason, "request": row.id})
    commit()
    return row


def pending_requests(admin) -> list[ErasureRequest]:
    authz.require(admin, "erasure.approve")
    rows = list(db.session.scalars(
        select(ErasureRequest).where(ErasureRequest.status == "pending").order_by(ErasureRequest.id)
    ))
    # The list names cases by code: reading it is logged like any list of cases.
    audit.record("erasure.list", object_type="erasure_request", actor=admin,
                 detail={"cases": [r.case.code for r in rows][:50]})
    db.session.commit()
    return rows


def _pending(admin, request_id) -> ErasureRequest:
    authz.require(admin, "erasure.approve")
    try:
        row = db.session.get(ErasureRequest, int(request_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise NotFound()
    if row.status != "pending":
        raise Conflict(_("This request was already decided."))
    if row.requested_by_id == admin.id:
        raise Conflict(_("Another person must approve an erasure you requested."))
    return row


def approve_erasure(admin, request_id) -> ErasureRequest:
    """Approve a pending request: the victim's identity is crypto-shredded in the same transaction."""
    row = _pending(admin, request_id)
    row.status, row.decided_by_id, row.decided_at = "approved", admin.id, utcnow()
    _shred(row.case, admin, detail={"request": row.id, "reason": row.reason})
    audit.record("case.erase.approve", row.case, actor=admin, detail={"request": row.id})
    db.session.commit()
    _checkpoint()
    return row


def reject_erasure(admin, request_id) -> ErasureRequest:
    row = _pending(admin, request_id)
    row.status, row.decided_by_id, row.decided_at = "rejected", admin.id, utcnow()
    audit.record("case.erase.reject", row.case, actor=admin, detail={"request": row.id})
    db.session.commit()
    return row


def _shred(case: Case, actor, detail: dict | None = None) -> None:
    victim = case.victim
    if victim.erased:
        raise Conflict(_("This victim's identity was already erased."))
    index_width.bits_to_write()  # a reindex running now finishes first, or waits and then skips her
    victim.data_key.destroy()
    victim.document_bidx = victim.name_bidx = victim.phone_bidx = None
    victim.erased = True
    attachments.delete_for_victim(victim.id)  # undecryptable now; their ciphertext goes too
    # Every case of this victim (same person, other episodes) is named in the log.
    audit.record("case.erase", case, actor=actor, detail=detail)


def _checkpoint() -> None:
    """SQLite: move the WAL into the main file (secure_delete overwrote the freed key bytes there)."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # autocommit (isolation_level None): outside any transaction
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


def erase_case(code: str, *, actor="cli") -> None:
    """Crypto-shred the identity of the victim of `code` (from the CLI or an approved request). Audited."""
    case = load_case(code)
    _shred(case, actor, detail={"via": "cli" if isinstance(actor, str) else "service"})
    db.session.commit()
    _checkpoint()
    log.info("identity erased for case %s", case.code)
