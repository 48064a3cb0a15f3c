"""Registering a victim and her case: one transaction with her consents, her screening and, for a child, the
mandatory referral to the child-protection authority; idempotent per form token or Idempotency-Key.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from caseapp import audit, authz, crypto, labels
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.base import insert_loaded
from caseapp.models.cases import (
    Case,
    CaseCounter,
    Consent,
    IdentificationScreening,
)
from caseapp.models.victims import (
    Victim,
)
from caseapp.services.casework import assignments
from caseapp.services.primitives import keeping_loaded
from caseapp.services.referrals.child import ensure_child_referral
from caseapp.services.registry import index_width
from caseapp.services.registry.fields import IDENTITY_FIELDS, STAT_FIELDS, validate_case_data
from caseapp.services.registry.identity import DuplicateAnswer, PossibleDuplicate, _reindex, answer_duplicates
from caseapp.services.registry.places import apply_places
from caseapp.timeutil import utcnow

# --- registration -----------------------------------------------------------------------------------------


def _next_code(entity: Entity, year: int) -> str:
    """The next ENTITY-YEAR-NNNNN. The counter is raised and read in one statement, which locks its row to the end of
    the transaction (SQLite: the write lock, caseapp.database), as the read FOR UPDATE and the flushed change did in
    two (a round trip less on PostgreSQL, and no counter object)."""
    params = {"counter_entity": entity.id, "counter_year": year}  # (names a column's bind may not take)
    last = db.session.connection().execute(_BUMP_COUNTER, params).scalar()
    if last is None:  # the entity's first case of the year
        _create_counter(params)
        last = db.session.connection().execute(_BUMP_COUNTER, params).scalar()
    return f"{entity.code}-{year}-{last:05d}"


def _create_counter(params: dict) -> None:
    """The counter row of an entity's year, at 0, unless another transaction created it first. A row, not an object:
    an object left in the session would say 0 while the database says 1 once it is raised."""
    try:
        with db.session.begin_nested():
            db.session.connection().execute(_NEW_COUNTER, params)
    except IntegrityError:
        pass


_BUMP_COUNTER = (update(CaseCounter)  # built once: every registration asks
                 .where(CaseCounter.entity_id == bindparam("counter_entity"), CaseCounter.year == bindparam("counter_year"))
                 .values(last=CaseCounter.last + 1).returning(CaseCounter.last))
_NEW_COUNTER = insert(CaseCounter).values(entity_id=bindparam("counter_entity"), year=bindparam("counter_year"), last=0)


def _set_identity(victim: Victim, clean: dict) -> None:
    for key in IDENTITY_FIELDS:
        if key in clean:
            value = clean[key]
            setattr(victim, key, value.isoformat() if isinstance(value, date) else value)


def _new_case(actor, clean: dict, key_hash: str | None) -> Case:
    """Her victim record and her case from `clean` (validate_case_data's), with her consents and screening, outside
    the session. What must be read or stamped under the lock is left to the caller: the case's code, her blind
    indexes (at the width recorded then: a reindex may have just changed it) and when her consents were recorded."""
    identified_on: date = clean["identified_on"]
    is_child = clean["_is_child"]
    victim = Victim.new(**{k: clean[k] for k in STAT_FIELDS if clean.get(k) is not None})
    _set_identity(victim, clean)
    case = Case(
        victim=victim, owner_entity_id=actor.entity_id,
        created_by_id=actor.id, identified_on=identified_on,
        identification_source=clean["identification_source"], trafficking_scope=clean["trafficking_scope"],
        victim_status=clean["victim_status"], is_child=is_child, child_referral_required=is_child,
        control_methods=",".join(clean["control_methods"]), registration_key=key_hash,
    )
    case.purposes = clean["exploitation_purposes"]
    apply_places(case, clean)
    consent_on = clean.get("consent_given_on") or identified_on
    representative = clean.get("representative")
    method = clean["consent_method"]
    for kind, given in (("assistance", clean["consent_assistance"]), ("data_processing", clean["consent_data_processing"])):
        if given:
            consent = Consent(kind=kind, given_on=consent_on, method=method, taken_by_id=actor.id)
            case.consents.append(consent)
            if representative:
                consent.representative = representative
    if clean["consent_assistance"]:
        case.linked_on = consent_on
    else:
        case.declined_assistance = True
        case.declined_reasons = clean.get("declined_reasons")
    if clean["screening_acts"]:
        case.screening = IdentificationScreening(
            acts=",".join(clean["screening_acts"]), means=",".join(clean["screening_means"]),
            purpose_present=clean["screening_purpose"], screened_on=identified_on, screened_by_id=actor.id,
        )
    return case


def _registered_with(key_hash: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.registration_key == key_hash))


def _check_duplicates(actor, clean: dict, bits: int, confirm_duplicate: bool) -> DuplicateAnswer:
    """identity.answer_duplicates at `bits`; PossibleDuplicate (its hints logged) unless `confirm_duplicate`.
    Otherwise the caller logs the answer it keeps (a check run twice is logged once)."""
    answer = answer_duplicates(actor, clean, bits=bits)
    hints, withheld, compared = answer.hints, answer.withheld, answer.matched_on
    if not (hints or withheld) or confirm_duplicate:
        return answer
    answer.record(actor)
    # Telling a user that another entity holds a case is itself a disclosure: it goes in the access log
    # (which entities and what matched, as codes: never a name or a number).
    audit.record("case.duplicate_hint", object_type="case", actor=actor,
                 detail={"entities": sorted({h["entity_code"] for h in hints}), "withheld": withheld,
                         "matched_on": compared})
    db.session.commit()
    if withheld and not hints:
        message = _("You have had today's share of checks against other entities, so whether another entity "
                    "already holds a case for this person is not said: ask your coordinator, or confirm to "
                    "register her anyway.")
    else:
        message = _("A case for this person may already exist. Contact the entity shown before registering "
                    "again.")
    if compared:  # the warning says what was compared, so she can judge whether it is the same person
        message = f"{message} " + _("Compared: %(what)s.", what=labels.label_list("duplicate_match", compared))
    raise PossibleDuplicate(message, hints=hints, withheld=withheld, matched_on=compared)


def register_case(actor, data: dict, *, confirm_duplicate: bool = False, idempotency_key: str | None = None) -> Case:
    """Register a victim and her case (with consents and, when given, the screening) in one transaction.

    Raises PossibleDuplicate (with hints naming the entities to contact, within the daily limit of cross-entity
    hints: identity.duplicate_hints) unless `confirm_duplicate`.
    The returned case carries `possible_duplicates` (the hints, possibly empty) and `replayed`: True when
    `idempotency_key` (the form's one-time token) had already registered this case, which is then returned.
    """
    authz.require(actor, "case.create")
    key_hash = crypto.hash_token(f"registration:{actor.id}:{idempotency_key}") if idempotency_key else None
    if key_hash and (existing := _registered_with(key_hash)) is not None:
        return _replayed(actor, existing)
    data = dict(data) if isinstance(data, dict) else data
    lawyer_name = data.pop("lawyer", None) if isinstance(data, dict) else None
    clean = validate_case_data(data)  # before any hint: an invalid or incomplete form learns nothing
    lawyer = assignments.lawyer_for_registration(actor, lawyer_name)
    # Her record is built (her identity encrypted field by field) before the duplicate check takes any lock, and is
    # not in the session until it passes: a possible duplicate writes only its access-log row.
    case = _new_case(actor, clean, key_hash)
    checked_at = index_width.bits()
    answer = _check_duplicates(actor, clean, checked_at, confirm_duplicate)
    # SQLite's write lock is held from the duplicate check's count of the day's hints to the commit: her record was
    # built before, so only what must be read or stamped under it remains, and the writes.
    width = index_width.bits_to_write()  # under its lock from here to the commit
    if width != checked_at:
        # A reindex committed since the check read the width (on PostgreSQL perhaps between that read and the
        # candidates'): the check compared her at a width the table no longer has. Again, at this one.
        answer = _check_duplicates(actor, clean, width, confirm_duplicate)
    answer.record(actor)
    hints, withheld = answer.hints, answer.withheld
    _reindex(case.victim, width)
    is_child = case.is_child
    case.code = _next_code(db.session.get(Entity, actor.entity_id), clean["identified_on"].year)
    now = utcnow()
    for consent in case.consents:
        consent.recorded_at = now
    people = assignments.assign_at_registration(actor, case, lawyer)  # who works it, from its first moment
    try:
        # Her rows, each with one INSERT, not through the unit of work (3.6 ms of a 13 ms registration, for the
        # work of sorting six new objects that always come in the same order). On PostgreSQL the twin of a form
        # sent twice at once (two app servers) waits here, at the insert of the same registration key, and fails
        # once the first commits: the insert, not only the commit, can lose it.
        victim = case.victim
        insert_loaded(db.session, victim.data_key, victim, case, *case.consents,
                      *([case.screening] if case.screening is not None else []), *people)
        audit.record("case.create", case, actor=actor, detail={
            "possible_duplicate": sorted({h["entity_code"] for h in hints}), "child": is_child,
            "assistance_consent": clean["consent_assistance"],
        })
        # A child's case goes to the child-protection authority in the same transaction (Law 1098 of 2006).
        child_referral = ensure_child_referral(actor, case) if is_child else None
        with keeping_loaded():  # the answer names the case just written: no reload of it after the commit
            db.session.commit()
    except IntegrityError:
        # The same form arrived twice at once: the other request registered it (its unique key refused ours).
        db.session.rollback()
        existing = _registered_with(key_hash) if key_hash else None
        if existing is None:
            raise
        return _replayed(actor, existing)
    case.possible_duplicates = hints
    case.duplicates_withheld = withheld
    case.replayed = False
    case.child_referral = child_referral
    return case


def _replayed(actor, case: Case) -> Case:
    authz.require(actor, "case.read", case)
    audit.record("case.create.replayed", case, actor=actor)
    db.session.commit()
    case.possible_duplicates = []
    case.duplicates_withheld = False
    case.replayed = True
    case.child_referral = None
    return case
