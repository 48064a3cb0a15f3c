"""Answering a referral: accepted or rejected by the receiver; fulfilled by the receiver, who records the
service it was asked for (the step of that kind, its notes) and nothing else, the referral then done and linked
to that step; withdrawn by the sender. Two answers at once: the second sees the first.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Conflict
from caseapp.extensions import db
from caseapp.labels import label
from caseapp.models.referrals import Referral
from caseapp.models.route import AssistanceStep
from caseapp.services import notifications
from caseapp.services.casework import referral_moves
from caseapp.services.casework import steps as step_service
from caseapp.services.casework.step_kinds import kind_by_code
from caseapp.services.primitives import clean_text, commit, invalid, require_version
from caseapp.services.referrals.lookup import get_referral
from caseapp.timeutil import today


def _answered_at_once() -> str:
    return _("Someone else answered this referral at the same time; nothing was changed. Reload it.")


def _locked(actor, referral_id, action: str, version) -> Referral:
    referral = get_referral(actor, referral_id)
    authz.require(actor, action, referral)
    # Two answers at once: the second waits for the first to commit and then sees its new state (on SQLite,
    # FOR UPDATE takes the database's write lock: caseapp.database).
    db.session.scalar(select(Referral).where(Referral.id == referral.id).with_for_update(of=Referral)
                      .execution_options(populate_existing=True))
    require_version(referral, version, stale=_("This referral was changed by someone else. Reload it; nothing was "
                                               "saved."))
    return referral


def _require_status(referral: Referral, *statuses: str) -> None:
    if referral.status not in statuses:
        raise Conflict(_("This referral is already %(status)s; nothing was changed.",
                         status=label("referral_status", referral.status).lower()), rule="referral_answered")


def _answer(actor, referral_id, new_status: str, *, from_statuses: tuple, action: str, version,
            note: str | None = None, note_required: str | None = None, note_field: str = "answer") -> Referral:
    referral = _locked(actor, referral_id, action, version)
    _require_status(referral, *from_statuses)
    note = clean_text(note)
    if note_required and not note:
        raise invalid({"note": note_required})
    responded = {"responded_by_id": actor.id, "responded_on": today()} if new_status in ("accepted", "rejected") else {}
    referral_moves.move(actor, [referral], new_status, **responded)
    if note:  # the receiver's answer, or the sender's withdrawal reason (never over the answer)
        setattr(referral, note_field, note)
    audit_action = {"accepted": "referral.accept", "rejected": "referral.reject",
                    "withdrawn": "referral.withdraw"}[new_status]
    audit.record(audit_action, referral.case, actor=actor, detail={"referral": referral.id})
    notifications.notify(f"referral.{new_status}", referral, actor=actor)
    commit(_answered_at_once())
    return referral


def accept(actor, referral_id, *, version, note: str | None = None) -> Referral:
    return _answer(actor, referral_id, "accepted", from_statuses=("sent",), action="referral.answer",
                   version=version, note=note)


def reject(actor, referral_id, *, reason: str | None, version) -> Referral:
    return _answer(actor, referral_id, "rejected", from_statuses=("sent",), action="referral.answer",
                   version=version, note=reason, note_required=_("Say why the referral is rejected."))


def withdraw(actor, referral_id, *, version, reason: str | None = None) -> Referral:
    referral = get_referral(actor, referral_id)
    if referral.mandatory:
        authz.require(actor, "referral.withdraw", referral)
        raise Conflict(_("The mandatory referral to the child-protection authority cannot be withdrawn."),
                       rule="mandatory_referral")
    return _answer(actor, referral_id, "withdrawn", from_statuses=("sent", "accepted"), action="referral.withdraw",
                   version=version, note=reason, note_field="withdrawal_reason")


def record_service(actor, referral_id, *, version, status: str = "done", planned_on=None, done_on=None,
                   notes: str | None = None, not_provided_reason: str | None = None) -> Referral:
    """The receiver records the service it was asked for: the step of that kind on the case (created the first
    time, revised after), whatever sections the referral shares. Done, the referral is done and linked to it."""
    referral = _locked(actor, referral_id, "referral.fulfil", version)
    _require_status(referral, "accepted")
    kind = kind_by_code(referral.service)  # authz.can(referral.fulfil) checked it is active and hers to record
    step = db.session.get(AssistanceStep, referral.step_id) if referral.step_id else None
    if step is None:
        step = step_service.record_step(actor, referral.case, kind, status=status, planned_on=planned_on,
                                        done_on=done_on, provider_entity_id=actor.entity_id, notes=notes,
                                        not_provided_reason=not_provided_reason, opens_phase=False)
        referral.step_id = step.id
        step_service.settle_referral(actor, step)
    else:
        step_service.revise_step(actor, step, status=status, planned_on=planned_on, done_on=done_on, notes=notes,
                                 not_provided_reason=not_provided_reason)
    commit(_answered_at_once())
    return referral


def complete(actor, referral_id, *, version, done_on=None, note: str | None = None) -> Referral:
    """Mark the referral done: the service's step is recorded as done (on `done_on`, today by default)."""
    return record_service(actor, referral_id, version=version, status="done", done_on=done_on or today(), notes=note)
