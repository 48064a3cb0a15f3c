"""Changing a registered case: its data and its victim's (versioned), and the identification screening.

Statuses are not changed here: the case lifecycle (services.route.lifecycle) owns them.
"""
from __future__ import annotations

from flask_babel import gettext as _

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.models.cases import (
    SCREENING_ACTS,
    SCREENING_MEANS,
    Case,
    IdentificationScreening,
)
from caseapp.services.primitives import (
    blank,
    commit,
    load_case,
    require_current,
    require_version,
)
from caseapp.services.referrals.child import end_child_referral, ensure_child_referral
from caseapp.services.registry.fields import (
    CASE_FIELDS,
    IDENTITY_FIELDS,
    STAT_FIELDS,
    UPDATABLE_FIELDS,
    check_bool,
    check_date,
    check_list,
    validate_case_data,
)
from caseapp.services.registry.identity import _reindex
from caseapp.services.registry.places import apply_places
from caseapp.services.registry.reading import _iso
from caseapp.services.registry.registration import _set_identity
from caseapp.timeutil import utcnow

# --- updates ----------------------------------------------------------------------------------------------


def update_case(actor, code: str, data: dict, *, version: int) -> Case:
    """Change some fields of a case and its victim (statuses excepted); a stale version changes nothing."""
    case = load_case(code)
    authz.require(actor, "case.update", case)
    require_version(case, version)
    victim = case.victim
    context = {
        "identified_on": case.identified_on, "age_group": victim.age_group,
        "purpose_codes": [p.code for p in case.purposes],
        "trafficking_scope": case.trafficking_scope, "destination_country": case.destination_country,
    }
    if not victim.erased:
        context.update(document_type=victim.document_type, document_number=victim.document_number,
                       birth_date=victim.birth_date)
    if victim.erased and isinstance(data, dict):
        # An erased field shows blank in a form: blank back is no change.
        data = {k: v for k, v in data.items() if not (k in IDENTITY_FIELDS + ("declined_reasons",) and blank(v))}
    clean = validate_case_data(data, partial=True, context=context)
    is_child = clean.pop("_is_child")
    # Keep only what changes (a whole edit form comes back with every field): the log names real changes.
    for key in list(clean):
        if key in IDENTITY_FIELDS or key == "declined_reasons":
            current = case.declined_reasons if key == "declined_reasons" else (
                None if victim.erased else getattr(victim, key))
            if _iso(clean[key]) == (current or None):
                del clean[key]
        elif key in STAT_FIELDS:
            if clean[key] == getattr(victim, key):
                del clean[key]
        elif key == "exploitation_purposes":
            if sorted(p.code for p in clean[key]) == sorted(p.code for p in case.purposes):
                del clean[key]
        elif key == "control_methods":
            if clean[key] == case.control_method_list:
                del clean[key]
        elif key in CASE_FIELDS and clean[key] == getattr(case, key):
            del clean[key]
    changed = sorted(k for k in clean if k in UPDATABLE_FIELDS)
    if not changed:
        db.session.rollback()
        return load_case(code)
    if clean.get("identified_on"):
        # Identification comes first: a corrected date may not fall after what the case recorded since.
        later = [d for d in (case.intake_on, case.linked_on, *(c.given_on for c in case.consents)) if d is not None]
        if later and clean["identified_on"] > min(later):
            raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors={"identified_on": [
                _("The identification date cannot be after the case's consents or its intake (%(date)s).",
                  date=min(later).strftime("%d/%m/%Y"))]})
    if victim.erased and any(k in IDENTITY_FIELDS or k == "declined_reasons" for k in clean):
        raise Conflict(_("This victim's identity was erased; it cannot be edited."))
    if clean.get("declined_reasons") and not case.declined_assistance:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors={
            "declined_reasons": _("Reasons for declining apply only when assistance is declined.")})
    _set_identity(victim, clean)
    if any(k in clean for k in ("document_type", "document_number", "given_names", "family_names", "phone")):
        _reindex(victim)
    for key in STAT_FIELDS:
        if key in clean:
            # Blank is "unknown" for the coded fields, and stays blank for nationality (no country is assumed).
            setattr(victim, key, clean[key] if clean[key] is not None or key == "nationality" else "unknown")
    for key in ("identified_on", "identification_source", "trafficking_scope", "victim_status"):
        if key in clean:
            setattr(case, key, clean[key])
    apply_places(case, clean)
    if "control_methods" in clean:
        case.control_methods = ",".join(clean["control_methods"])
    if "exploitation_purposes" in clean:
        case.purposes = clean["exploitation_purposes"]
    if "declined_reasons" in clean:
        case.declined_reasons = clean["declined_reasons"]
    if is_child and not case.is_child:
        case.is_child = True
        case.child_referral_required = True
        ensure_child_referral(actor, case)
    elif not is_child and case.is_child and ("birth_date" in clean or "age_group" in clean or "identified_on" in clean):
        case.is_child = False
        end_child_referral(actor, case)
    case.updated_at = utcnow()  # bumps the case version even when only the victim changed
    audit.record("case.update", case, actor=actor, detail={"fields": changed})
    commit()
    return case




def record_screening(actor, code: str, data: dict, *, version) -> IdentificationScreening:
    """Record or correct the identification screening (act, means, purpose; means not required for a child)."""
    case = load_case(code)
    authz.require(actor, "case.update", case)
    if not isinstance(data, dict):
        raise Invalid(_("The data must be an object with named fields."))
    errors: dict = {}
    acts = check_list(data.get("acts", data.get("screening_acts")) or [], errors, "screening_acts")
    means = check_list(data.get("means", data.get("screening_means")) or [], errors, "screening_means")
    purpose = data.get("purpose_present", data.get("screening_purpose", False))
    purpose = check_bool(purpose, errors, "screening_purpose") if purpose is not None else False
    if acts is not None and (not acts or any(a not in SCREENING_ACTS for a in acts)):
        errors["screening_acts"] = _("Choose at least one act.") if not acts else _("Choose from the list.")
    if means is not None and any(m not in SCREENING_MEANS for m in means):
        errors["screening_means"] = _("Choose from the list.")
    elif means is not None and not means and not case.is_child:
        errors["screening_means"] = _("Choose at least one means (not required for a child).")
    screened_on = case.identified_on
    if data.get("screened_on") not in (None, ""):
        screened_on = check_date(data["screened_on"], errors, "screened_on")
    notes = data.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > 4000):
        errors["notes"] = _("At most %(n)s characters.", n=4000)
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    screening = case.screening
    require_current(screening.version if screening is not None else 0, version)
    if screening is None:
        screening = IdentificationScreening(case=case, screened_on=screened_on)
        db.session.add(screening)
    screening.acts, screening.means, screening.purpose_present = ",".join(acts), ",".join(means), purpose
    screening.screened_on, screening.screened_by_id = screened_on, actor.id
    if notes is not None:
        if case.victim.erased:
            raise Conflict(_("This victim's identity was erased; it cannot be edited."))
        screening.notes = notes
    audit.record("case.screening", case, actor=actor)
    commit()
    return screening
