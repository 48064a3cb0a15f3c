"""Protection measures (issue 13): requested -> granted | denied (decision date, deciding authority) -> ended.

`transition` is the one owner of a measure's status: recording a measure, deciding it, ending it and the legacy
PATCH with a status all go through it, so an illegal move (granted back to requested, ended before granted) is
refused the same way on every path, with the rule `measure_transition`.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from caseapp import audit
from caseapp.errors import Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.route import MEASURE_TRANSITIONS, PROTECTION_KINDS, PROTECTION_STATUSES, ProtectionMeasure
from caseapp.services.primitives import (
    clean_text,
    commit,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_version,
)

_NOT_ALLOWED = {
    "requested": _l("A measure already decided or ended cannot go back to requested."),
    "granted": _l("Only a requested measure can be granted."),
    "denied": _l("Only a requested measure can be denied."),
    "ended": _l("Only a granted measure can end."),
}


def transition(measure: ProtectionMeasure, to: str, on, *, authority=None) -> None:
    """Move `measure` to `to` on the date `on` (the decision, or the end); Invalid when the move is not allowed.

    The date is required, not in the future, and not before the step it follows (requested, then decided)."""
    if to not in PROTECTION_STATUSES:
        raise invalid({"status": _("Choose a status from the list.")})
    if to not in MEASURE_TRANSITIONS.get(measure.status, ()):
        text = str(_NOT_ALLOWED[to])
        raise Invalid(text, field_errors={"status": [text]}, rule="measure_transition")
    field = "ended_on" if to == "ended" else "decided_on"
    errors: dict = {}
    day = parse_date(on, field, errors)
    if day is None and field not in errors:
        errors[field] = _("Say the date.")
    not_future(day, field, errors)
    since = measure.decided_on if to == "ended" else measure.requested_on
    if day is not None and since is not None and day < since and field not in errors:
        errors[field] = _("The date cannot be before %(date)s.", date=since.isoformat())
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors, rule="measure_date")
    if to == "ended":
        measure.ended_on = day
    else:
        measure.decided_on = day
        measure.decided_by = clean_text(authority, 200)
    measure.status = to


def add_measure(actor, code: str, *, kind: str, requested_on=None, status: str = "requested", decided_on=None,
                notes: str | None = None, authority: str | None = None) -> ProtectionMeasure:
    """A measure requested for the victim; recorded already decided when `status` says so (the same transition)."""
    case = load_case_for(actor, code, "case.legal.write")
    errors: dict = {}
    if kind not in PROTECTION_KINDS:
        errors["kind"] = _("Choose a kind from the list.")
    if status not in PROTECTION_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    requested_on = parse_date(requested_on, "requested_on", errors)
    if requested_on is None and "requested_on" not in errors:
        errors["requested_on"] = _("Say when it was requested.")
    not_future(requested_on, "requested_on", errors)
    if errors:
        raise invalid(errors)
    measure = ProtectionMeasure(case=case, kind=kind, status="requested", requested_on=requested_on,
                                recorded_by_id=actor.id)
    if status != "requested":
        transition(measure, status, decided_on, authority=authority)
    db.session.add(measure)
    measure.notes = clean_text(notes)
    audit.record("case.legal.measure", case, actor=actor, detail={"kind": kind, "status": measure.status})
    commit()
    return measure


def _measure_for(actor, measure_id: int, version) -> ProtectionMeasure:
    measure = db.session.get(ProtectionMeasure, measure_id)
    if measure is None:
        raise NotFound()
    load_case_for(actor, measure.case.code, "case.legal.write")
    require_version(measure, version)
    return measure


def decide_measure(actor, measure_id: int, *, version, decision: str, decided_on=None,
                   authority: str | None = None) -> ProtectionMeasure:
    """The authority's decision on a requested measure: granted or denied, on a date."""
    measure = _measure_for(actor, measure_id, version)
    if decision not in ("granted", "denied"):
        raise invalid({"decision": _("Choose granted or denied.")})
    transition(measure, decision, decided_on, authority=authority)
    audit.record("case.legal.measure.update", measure.case, actor=actor, detail={"status": decision})
    commit()
    return measure


def end_measure(actor, measure_id: int, *, version, ended_on=None) -> ProtectionMeasure:
    """A granted measure ends (lifted, expired, no longer needed) on a date."""
    measure = _measure_for(actor, measure_id, version)
    transition(measure, "ended", ended_on)
    audit.record("case.legal.measure.update", measure.case, actor=actor, detail={"status": "ended"})
    commit()
    return measure


def update_measure(actor, measure_id: int, *, version, status: str, decided_on=None,
                   authority: str | None = None) -> ProtectionMeasure:
    """The legacy PATCH (a status and a date): the decision or the end, through the same transition."""
    if status == "ended":
        return end_measure(actor, measure_id, version=version, ended_on=decided_on)
    measure = _measure_for(actor, measure_id, version)
    transition(measure, status, decided_on, authority=authority)
    audit.record("case.legal.measure.update", measure.case, actor=actor, detail={"status": status})
    commit()
    return measure
