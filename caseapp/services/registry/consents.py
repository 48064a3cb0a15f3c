"""Consents kept as proof (assistance, processing of sensitive data under Law 1581 of 2012, sharing with an entity).

A consent is never deleted: it is withdrawn, with date and who recorded it. Assistance consent links the victim to
the programme (`linked_on`); withdrawing it takes her out of the programme's counts from that date on (the
counts ask for the consent in force at their cut-off date) without rewriting the counts of earlier periods.
Withdrawing the consent to share with an entity ends that entity's access at once (referrals.end_access).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import CONSENT_KINDS, CONSENT_METHODS, Consent, JsonRows
from caseapp.services.primitives import (
    blank,
    commit,
    load_case,
    require_version,
)
from caseapp.services.referrals.sharing import end_access
from caseapp.services.registry.fields import check_date
from caseapp.text import fold
from caseapp.timeutil import today, utcnow

CHILD_METHODS = ("legal_representative", "child_protection_authority")


def sharing_entities(case=None) -> list:
    """The entities a consent to share `case` may name, as (code, name) pairs by name (accents and case aside, on
    both databases, whatever their collation): the active ones other than its owner (the consent form offers them
    as a list; give_consent refuses any other). Without a case: every active entity. Pairs, not objects: the case
    page asks on every view, and the form reads two columns; from the case's own statement where it brought them
    (Case.sharing_entities_shown, the case page's), else through the session's connection (no ORM dispatch for a
    Core statement)."""
    if case is None:
        rows = db.session.connection().execute(_ACTIVE)
    elif (shown := case.__dict__.pop("sharing_entities_shown", _NOT_LOADED)) is not _NOT_LOADED:  # read once
        rows = JsonRows.parse(shown)
    else:
        rows = db.session.connection().execute(_ACTIVE_BUT_OWNER, {"owner": case.owner_entity_id})
    return sorted(((code, name) for code, name in rows), key=_by_name)


def _by_name(entity: tuple) -> tuple:
    code, name = entity
    return fold(name), name, code  # "Órgano" beside "Organización", not after "Unidad"


_NOT_LOADED = object()


# built once: the case page's consent form asks on every view
_ACTIVE = select(Entity.code, Entity.name).where(Entity.active.is_(True))
_ACTIVE_BUT_OWNER = _ACTIVE.where(Entity.id != bindparam("owner"))


def give_consent(actor, code: str, kind: str, *, method: str, given_on, entity_code: str | None = None,
                 representative: str | None = None) -> Consent:
    """Record a consent given by the victim (or, for a child, authorised by her representative)."""
    case = load_case(code)
    authz.require(actor, "case.consent", case)
    errors: dict = {}
    if kind not in CONSENT_KINDS:
        errors["kind"] = _("Choose from the list.")
    if method not in CONSENT_METHODS:
        errors["method"] = _("Choose from the list.")
    when = check_date(given_on, errors, "given_on") if not blank(given_on) else None
    if blank(given_on):
        errors["given_on"] = _("This field is required.")
    elif when is not None and when < case.identified_on:
        errors["given_on"] = _("Consent cannot be given before identification.")
    entity = None
    if kind == "sharing":
        if blank(entity_code) or not isinstance(entity_code, str) or len(entity_code) > 16:
            errors["entity"] = _("Choose the entity the data may be shared with.")
        else:
            entity = db.session.scalar(select(Entity).where(Entity.code == entity_code.strip().upper(),
                                                            Entity.active.is_(True)))
            if entity is None:
                errors["entity"] = _("Unknown entity.")
            elif entity.id == case.owner_entity_id:
                errors["entity"] = _("The case already belongs to this entity.")
    elif not blank(entity_code):
        errors["entity"] = _("An entity applies only to consent for sharing.")
    if not blank(representative) and (not isinstance(representative, str) or len(representative) > 200):
        errors["representative"] = _("At most %(n)s characters.", n=200)
    if case.is_child and blank(representative) and "representative" not in errors:
        errors["representative"] = _(
            "For a child, record who authorised (legal representative or child-protection authority)."
        )
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    if case.active_consent(kind, entity.id if entity else None) is not None:
        raise Conflict(_("This consent is already recorded and in force."))
    if case.victim.erased and not blank(representative):
        raise Conflict(_("This victim's identity was erased; it cannot be edited."))
    consent = Consent(kind=kind, entity_id=entity.id if entity else None, given_on=when, method=method,
                      taken_by_id=actor.id, recorded_at=utcnow())
    case.consents.append(consent)
    if not blank(representative):
        consent.representative = representative.strip()
    if kind == "assistance":
        if case.linked_on is None:
            case.linked_on = when
        case.declined_assistance = False
    db.session.flush()
    audit.record("case.consent.give", case, actor=actor,
                 detail={"kind": kind, "entity": entity.code if entity else None, "consent": consent.id})
    commit()
    return consent


def withdraw_consent(actor, code: str, consent_id, *, version, on=None) -> Consent:
    """Withdraw a consent; it stays as proof. Withdrawn assistance does not erase the linkage history."""
    case = load_case(code)
    authz.require(actor, "case.consent", case)
    try:
        consent_id = int(consent_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.case_id != case.id:
        raise NotFound()
    require_version(consent, version)
    if consent.withdrawn_on is not None:
        raise Conflict(_("This consent was already withdrawn."))
    errors: dict = {}
    when = today() if blank(on) else check_date(on, errors, "on")
    if when is not None and when < consent.given_on:
        errors["on"] = _("A consent cannot be withdrawn before it was given.")
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    consent.withdrawn_on, consent.withdrawn_by_id = when, actor.id
    audit.record("case.consent.withdraw", case, actor=actor, detail={"kind": consent.kind, "consent": consent.id})
    if consent.kind == "sharing" and consent.entity_id is not None:
        # Access was computed from this consent: it ends now, and the receiver's referrals say so.
        end_access(actor, case, consent.entity_id, when)
    commit()
    return consent
