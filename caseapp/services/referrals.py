"""Referrals (remisiones) between entities: the only way another entity sees a case.

States: sent → accepted | rejected (with reason) → done, or withdrawn by the sender. A referral is sent only
with the victim's consent to share with that entity, or a coordinator's recorded override with its reason.
The receiving entity sees the shared sections only while the referral is accepted (authz.case_sections).
A child case gets a mandatory referral to the child-protection authority (ICBF): it cannot be withdrawn and
the case cannot close until it is answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.referrals import SHARED_SECTIONS, Referral, SharingOverride
from caseapp.services.route import case_by_code, commit, load_case
from caseapp.services.steps import _text, kind_by_code, parse_date
from caseapp.timeutil import today, utcnow

DEFAULT_ANSWER_DAYS = 5
CHILD_SECTIONS = ("identity", "summary", "psychosocial", "legal")


def _invalid(errors: dict):
    return Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)


def _answer_days() -> int:
    return int(current_app.config.get("REFERRAL_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def _entity(code: str | None) -> Entity | None:
    if not code:
        return None
    return db.session.scalar(select(Entity).where(Entity.code == str(code).strip().upper(), Entity.active.is_(True)))


def get_referral(actor, referral_id) -> Referral:
    try:
        referral = db.session.get(Referral, int(referral_id))
    except (TypeError, ValueError):
        referral = None
    if referral is None or not authz.can(actor, "referral.read", referral):
        raise NotFound()
    return referral


def view_referral(actor, referral_id) -> Referral:
    referral = get_referral(actor, referral_id)
    audit.record("referral.view", referral.case, actor=actor, detail={"referral": referral.id})
    db.session.commit()
    return referral


# --- consent override -----------------------------------------------------------------------------------------


def record_override(actor, code: str, *, entity: str, reason: str | None) -> SharingOverride:
    """A coordinator of the owning entity records why a case may be shared with an entity without consent."""
    case = case_by_code(code)
    authz.require(actor, "referral.override_consent", case)
    errors: dict = {}
    target = _entity(entity)
    if target is None or target.id == case.owner_entity_id:
        errors["entity"] = _("Choose another entity from the list.")
    if not _text(reason):
        errors["reason"] = _("Say why the case is shared without the victim's consent.")
    if errors:
        raise _invalid(errors)
    row = SharingOverride(case=case, entity_id=target.id, decided_by_id=actor.id, decided_at=utcnow())
    db.session.add(row)
    row.reason = _text(reason)
    audit.record("referral.override_consent", case, actor=actor, detail={"entity": target.code})
    commit()
    return row


def _unused_override(case: Case, entity: Entity) -> SharingOverride | None:
    return db.session.scalar(select(SharingOverride).where(
        SharingOverride.case_id == case.id, SharingOverride.entity_id == entity.id, SharingOverride.used_at.is_(None)
    ).order_by(SharingOverride.id.desc()).limit(1))


# --- sending -------------------------------------------------------------------------------------------------


def _sections(value) -> list[str]:
    if value is None:
        return ["summary"]
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    return sorted({str(v).strip() for v in value})


def open_send_form(actor, code: str):
    """The case a referral is about to be written for: checked and logged (the form shows its code and status)."""
    case = load_case(actor, code, "case.refer")
    audit.record("referral.form", case, actor=actor)
    db.session.commit()
    return case


def send(actor, code: str, *, to_entity: str, service: str, reason: str | None, sections=None,
         due_on=None) -> Referral:
    """Refer a case to another entity for a service; needs the victim's sharing consent for that entity."""
    case = load_case(actor, code, "case.refer")
    if case.status == "closed":
        raise Conflict(_("The case is closed. Reopen it first."))
    errors: dict = {}
    target = _entity(to_entity)
    if target is None:
        errors["to_entity"] = _("Choose an entity from the list.")
    elif target.id == case.owner_entity_id:
        errors["to_entity"] = _("A case cannot be referred to its own entity.")
    kind = kind_by_code(service)
    if kind is None or not kind.active:
        errors["service"] = _("Choose a service from the list.")
    if not _text(reason):
        errors["reason"] = _("Say why the case is referred.")
    shared = _sections(sections)
    if not shared or any(s not in SHARED_SECTIONS for s in shared):
        errors["sections"] = _("Choose what the referral shares.")
    elif "summary" not in shared:
        shared = sorted({*shared, "summary"})
    due_on = parse_date(due_on, "due_on", errors)
    if due_on is not None and due_on < today():
        errors["due_on"] = _("The answer cannot be due in the past.")
    if errors:
        raise _invalid(errors)
    override = None
    if case.active_consent("sharing", target.id) is None:
        override = _unused_override(case, target)
        if override is None:
            raise Conflict(_("The victim has not consented to share her case with %(entity)s. Record her consent "
                             "first, or ask a coordinator to record an override with its reason.",
                             entity=target.name))
    if db.session.scalar(select(Referral.id).where(Referral.case_id == case.id, Referral.to_entity_id == target.id,
                                                   Referral.service == kind.code, Referral.status == "sent")):
        raise Conflict(_("A referral of this case to this entity for this service is already waiting for an answer."))
    referral = Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=target.id, service=kind.code,
                        shared_sections=",".join(shared), status="sent", sent_by_id=actor.id, sent_at=utcnow(),
                        due_on=due_on or today() + timedelta(days=_answer_days()))
    db.session.add(referral)
    referral.reason = _text(reason)
    if override is not None:
        override.used_at = utcnow()
        referral.consent_override_by_id = override.decided_by_id
        referral.override_reason = override.reason
    db.session.flush()
    audit.record("referral.send", case, actor=actor,
                 detail={"referral": referral.id, "to": target.code, "sections": shared,
                         "consent": "override" if override else "sharing"})
    commit()
    return referral


# --- answering ---------------------------------------------------------------------------------------------


def _answer(actor, referral_id, new_status: str, *, from_statuses: tuple, action: str, version=None,
            note: str | None = None, note_required: str | None = None) -> Referral:
    referral = get_referral(actor, referral_id)
    authz.require(actor, action, referral)
    if db.session.get_bind().dialect.name == "postgresql":
        # Two answers at once: the second waits for the first to commit and then sees its new state
        # (SQLite already serialises writers with BEGIN IMMEDIATE).
        db.session.scalar(select(Referral).where(Referral.id == referral.id).with_for_update(of=Referral)
                          .execution_options(populate_existing=True))
    if version is not None and str(referral.version) != str(version):
        raise Conflict(_("This referral was changed by someone else. Reload it; nothing was saved."))
    if referral.status not in from_statuses:
        raise Conflict(_("This referral is already %(status)s; nothing was changed.",
                         status=_status_label(referral.status)))
    if note_required and not _text(note):
        raise _invalid({"note": note_required})
    referral.status = new_status
    if new_status in ("accepted", "rejected"):
        referral.responded_by_id, referral.responded_on = actor.id, today()
    if new_status == "done":
        referral.completed_on = today()
    if _text(note):
        referral.answer = _text(note)
    audit_action = {"accepted": "referral.accept", "rejected": "referral.reject", "done": "referral.complete",
                    "withdrawn": "referral.withdraw"}[new_status]
    audit.record(audit_action, referral.case, actor=actor, detail={"referral": referral.id})
    commit(_("Someone else answered this referral at the same time; nothing was changed. Reload it."))
    return referral


def _status_label(status: str) -> str:
    from caseapp.services.route import label

    return label("referral_status", status).lower()


def accept(actor, referral_id, *, version=None, note: str | None = None) -> Referral:
    return _answer(actor, referral_id, "accepted", from_statuses=("sent",), action="referral.answer",
                   version=version, note=note)


def reject(actor, referral_id, *, reason: str | None, version=None) -> Referral:
    return _answer(actor, referral_id, "rejected", from_statuses=("sent",), action="referral.answer",
                   version=version, note=reason, note_required=_("Say why the referral is rejected."))


def complete(actor, referral_id, *, version=None, note: str | None = None) -> Referral:
    return _answer(actor, referral_id, "done", from_statuses=("accepted",), action="referral.answer",
                   version=version, note=note)


def withdraw(actor, referral_id, *, version=None, reason: str | None = None) -> Referral:
    referral = get_referral(actor, referral_id)
    if referral.mandatory:
        authz.require(actor, "referral.withdraw", referral)
        raise Conflict(_("The mandatory referral to the child-protection authority cannot be withdrawn."))
    return _answer(actor, referral_id, "withdrawn", from_statuses=("sent", "accepted"), action="referral.withdraw",
                   version=version, note=reason)


# --- lists -------------------------------------------------------------------------------------------------


@dataclass
class InboxRow:
    referral: Referral
    overdue: bool


def inbox(actor, direction: str = "incoming", status: str | None = None, on: date | None = None) -> list[InboxRow]:
    """Referrals to (incoming) or from (outgoing) the user's entity, with due dates; overdue ones flagged."""
    authz.require(actor, "referral.inbox")
    if direction not in ("incoming", "outgoing"):
        raise _invalid({"direction": _("Use incoming or outgoing.")})
    on = on or today()
    column = Referral.to_entity_id if direction == "incoming" else Referral.from_entity_id
    query = select(Referral).where(column == actor.entity_id).order_by(Referral.due_on, Referral.id)
    if status:
        query = query.where(Referral.status == status)
    rows = [InboxRow(r, r.status == "sent" and r.due_on is not None and r.due_on < on)
            for r in db.session.scalars(query.limit(500))]
    audit.record("referral.inbox", actor=actor, object_type="inbox", object_ref=actor.entity.code,
                 detail={"direction": direction, "rows": len(rows)})
    db.session.commit()
    return rows


# --- the mandatory child referral --------------------------------------------------------------------------------


def child_protection_entity() -> Entity | None:
    return db.session.scalar(select(Entity).where(Entity.kind == "child_protection", Entity.active.is_(True))
                             .order_by(Entity.id).limit(1))


def _needs_child_referral(case: Case, icbf: Entity | None) -> bool:
    if not (case.is_child or case.child_referral_required) or icbf is None or case.owner_entity_id == icbf.id:
        return False
    return db.session.scalar(select(Referral.id).where(Referral.case_id == case.id,
                                                       Referral.to_entity_id == icbf.id,
                                                       Referral.mandatory.is_(True))) is None


def _add_child_referral(case: Case, icbf: Entity, actor=None) -> Referral:
    referral = Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=icbf.id,
                        service="accompaniment", shared_sections=",".join(CHILD_SECTIONS), status="sent",
                        mandatory=True, sent_by_id=getattr(actor, "id", None), sent_at=utcnow(),
                        due_on=(case.identified_on if case.identified_on and case.identified_on > today() else today())
                        + timedelta(days=1))
    db.session.add(referral)
    referral.reason = "Remisión obligatoria de niña, niño o adolescente a la autoridad de protección (Ley 1098 de 2006)."
    db.session.flush()
    audit.record("referral.send.mandatory", case, actor=actor, detail={"referral": referral.id, "to": icbf.code})
    return referral


def ensure_child_referral(actor, case: Case) -> Referral | None:
    """Create the mandatory ICBF referral of a child case if it is missing (in the caller's transaction)."""
    icbf = child_protection_entity()
    if not _needs_child_referral(case, icbf):
        return None
    return _add_child_referral(case, icbf, actor)


# A child case gets its mandatory referral in the same transaction that registers it, whichever service
# registers it: new child cases seen at flush are given their referral just before the commit.
_PENDING = "ruta_new_child_cases"


@event.listens_for(Session, "before_flush")
def _collect_child_cases(session, _flush_context, _instances):
    for obj in session.new:
        if isinstance(obj, Case) and (obj.is_child or obj.child_referral_required):
            session.info.setdefault(_PENDING, []).append(obj)


@event.listens_for(Session, "before_commit")
def _child_referrals(session):
    pending = list(session.info.pop(_PENDING, None) or [])
    pending += [obj for obj in session.new if isinstance(obj, Case) and (obj.is_child or obj.child_referral_required)]
    if not pending:
        return
    icbf = None
    session.flush()
    session.info.pop(_PENDING, None)
    for case in dict.fromkeys(pending):
        icbf = icbf or child_protection_entity()
        if _needs_child_referral(case, icbf):
            _add_child_referral(case, icbf)


@event.listens_for(Session, "after_rollback")
def _forget_child_cases(session):
    session.info.pop(_PENDING, None)
