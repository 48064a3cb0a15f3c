"""Sending a referral: to another entity, for a service, sharing named sections, with the victim's consent to
share with that entity (or a coordinator's recorded override with its reason).
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Conflict
from caseapp.extensions import db
from caseapp.labels import label
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.referrals import SHARED_SECTIONS, Referral, SharingOverride
from caseapp.services import notifications
from caseapp.services.casework.step_kinds import kind_by_code
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case,
    load_case_for,
    parse_date,
)
from caseapp.services.referrals.child import mandatory_referral
from caseapp.services.referrals.lookup import _answer_days, _entity
from caseapp.services.route.lifecycle import require_open
from caseapp.timeutil import today, utcnow

# --- consent override -----------------------------------------------------------------------------------------


def record_override(actor, code: str, *, entity: str, reason: str | None) -> SharingOverride:
    """A coordinator of the owning entity records why a case may be shared with an entity without consent."""
    case = load_case(code)
    authz.require(actor, "referral.override_consent", case)
    errors: dict = {}
    target = _entity(entity)
    if target is None or target.id == case.owner_entity_id:
        errors["entity"] = _("Choose another entity from the list.")
    if not clean_text(reason):
        errors["reason"] = _("Say why the case is shared without the victim's consent.")
    if errors:
        raise invalid(errors)
    row = SharingOverride(case=case, entity_id=target.id, decided_by_id=actor.id, decided_at=utcnow())
    db.session.add(row)
    row.reason = clean_text(reason)
    audit.record("referral.override_consent", case, actor=actor, detail={"entity": target.code})
    commit()
    return row


def _unused_override(case: Case, entity: Entity) -> SharingOverride | None:
    return db.session.scalar(select(SharingOverride).where(
        SharingOverride.case_id == case.id, SharingOverride.entity_id == entity.id, SharingOverride.used_at.is_(None)
    ).order_by(SharingOverride.id.desc()).limit(1))


# --- sending -------------------------------------------------------------------------------------------------


def _sections(value) -> list[str] | None:
    """The sections a form (a list) or a client (a list, or text with commas) asked to share; None if malformed."""
    if value is None:
        return ["summary"]
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return None
    return sorted({v.strip() for v in value})


def open_send_form(actor, code: str):
    """The case a referral is about to be written for: checked and logged (the form shows its code and status)."""
    case = load_case_for(actor, code, "case.refer")
    audit.record("referral.form", case, actor=actor)
    commit_read()
    return case


def send(actor, code: str, *, to_entity: str, service: str, reason: str | None, sections=None,
         due_on=None) -> Referral:
    """Refer a case to another entity for a service; needs the victim's sharing consent for that entity."""
    case = load_case_for(actor, code, "case.refer")
    require_open(case)
    errors: dict = {}
    target = _entity(to_entity)
    if target is None:
        errors["to_entity"] = _("Choose an entity from the list.")
    elif target.id == case.owner_entity_id:
        errors["to_entity"] = _("A case cannot be referred to its own entity.")
    kind = kind_by_code(service)
    if kind is None or not kind.active:
        errors["service"] = _("Choose a service from the list.")
    if not clean_text(reason):
        errors["reason"] = _("Say why the case is referred.")
    shared = _sections(sections)
    if not shared or any(s not in SHARED_SECTIONS for s in shared):
        errors["sections"] = _("Choose what the referral shares.")
    elif not set(shared) <= authz.case_sections(actor, case) | {"summary"}:
        errors["sections"] = _("You can share only the sections of the case you may read yourself.")
    elif "summary" not in shared:
        shared = sorted({*shared, "summary"})
    due_on = parse_date(due_on, "due_on", errors)
    if due_on is not None and due_on < today():
        errors["due_on"] = _("The answer cannot be due in the past.")
    if not errors and kind.needed_sections and not kind.needed_sections & set(shared):
        errors["sections"] = _("A referral for %(service)s must share at least one of: %(sections)s.",
                               service=kind.label_es, sections=", ".join(
                                   label("section", s) for s in SHARED_SECTIONS if s in kind.needed_sections))
    if errors:
        raise invalid(errors)
    mandatory = mandatory_referral(case)
    if mandatory is not None and mandatory.to_entity_id == target.id and mandatory.status in ("sent", "accepted"):
        raise Conflict(_("The mandatory referral to the child-protection authority already covers this case: it "
                         "cannot be sent again by hand."), rule="child_referral_exists")
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
    referral.reason = clean_text(reason)
    if override is not None:
        override.used_at = utcnow()
        referral.consent_override_by_id = override.decided_by_id
        referral.override_reason = override.reason
    db.session.flush()
    audit.record("referral.send", case, actor=actor,
                 detail={"referral": referral.id, "to": target.code, "sections": shared,
                         "consent": "override" if override else "sharing"})
    notifications.notify("referral.sent", referral, actor=actor)
    commit()
    return referral
