"""The case lifecycle: the only code that writes Case.status, and the dates that go with each move.

    identified ──► in_immediate_assistance ──► in_mediate_assistance ──► closed ──► (reopened into the phase
        └──────────────────► closed ◄──────────────────┘                            it was closed from)

Every path — the case page, the route page, the API, the first immediate step, the demo loader — calls the
functions here, and each rule is checked here once. The model refuses any other write of Case.status
(models.cases.status_writer). A refusal names its rule: `rule` is one of RULES, answered by the API as
`"rule": code` with 409 (the case's state does not allow it) or 422 (the request is incomplete or wrong).

Decree 1066 of 2015 (art. 2.2.2.2.37): immediate assistance needs no criminal complaint; mediate assistance
starts from the complaint and the acta única (agreed record of objectives and commitments). Both need the
victim's consent to assistance in force. A case closes only when no referral waits for an answer (the mandatory
one to ICBF included) and, by the deployment's choice (setting `closure_open_stay`, shown to admins on the route
catalogues page), either refuses to close while she is lodged in a shelter or ends that stay on the closure date.
Each closure writes its record (reason, note, the phase it closed); reopening keeps it in the history.
"""
from __future__ import annotations

import json
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, Setting
from caseapp.models.cases import CASE_STATUSES, CLOSURE_REASONS, Case, status_writer
from caseapp.models.referrals import Referral
from caseapp.models.route import REOPEN_REASONS, CaseClosure, CaseRoute, LegalProceeding, ShelterStay
from caseapp.services.primitives import (
    clean_text,
    commit,
    load_case_for,
    not_future,
    parse_date,
    require_current,
    require_version,
)
from caseapp.timeutil import today

TRANSITIONS = {
    "identified": ("in_immediate_assistance", "closed"),
    "in_immediate_assistance": ("in_mediate_assistance", "closed"),
    "in_mediate_assistance": ("closed",),
    "closed": ("reopened",),
}
REOPENED = "reopened"  # not a state: the move back into the phase the case was closed from

# The rules, by code, with what they say when they refuse (Spanish through Babel).
RULES = {
    "transition_not_allowed": _l("The case cannot move from its current status to the one chosen."),
    "case_closed": _l("The case is closed. Reopen it first."),
    "assistance_consent_required": _l("Assistance needs the victim's consent to assistance in force: record it "
                                      "first."),
    "complaint_required": _l("Mediate assistance starts from the criminal complaint (Decree 1066 of 2015): "
                             "record its date."),
    "acta_required": _l("Mediate assistance needs the acta única, the agreed record of objectives and commitments "
                        "(Decree 1066 of 2015): record its date."),
    "referrals_pending": _l("The case has referrals waiting for an answer; it cannot be closed until they are "
                            "answered."),
    "child_referral_pending": _l("The mandatory referral to the child-protection authority (ICBF) has not been "
                                 "answered; the case cannot be closed until it is."),
    "child_referral_missing": _l("The mandatory referral to the child-protection authority (ICBF) was never "
                                 "sent: send it before closing the case."),
    "shelter_stay_open": _l("The victim is still lodged in a shelter: record her departure before closing the "
                            "case."),
    "closure_reason_required": _l("Choose the reason for closing the case."),
    "reopen_reason_required": _l("Choose from the list why the case is reopened."),
    "invalid_date": _l("Some dates are not valid; nothing was saved."),
}

# What a closure does with an open shelter stay: the deployment's choice, set by an admin.
OPEN_STAY_SETTING = "closure_open_stay"
OPEN_STAY_CHOICES = ("refuse", "end")
OPEN_STAY_DEFAULT = "refuse"


def refuse(rule: str, *, field: str | None = None, invalid: bool = False, message: str | None = None):
    """The error naming `rule`: Conflict (the state does not allow it) or Invalid (the request is wrong)."""
    text = message or str(RULES[rule])
    if invalid:
        return Invalid(text, field_errors={field: [text]} if field else None, rule=rule)
    return Conflict(text, rule=rule)


def _dates_invalid(errors: dict) -> Invalid:
    return Invalid(str(RULES["invalid_date"]), field_errors=errors, rule="invalid_date")


def require_open(case: Case) -> None:
    if case.status == "closed":
        raise refuse("case_closed")


def _require_move(case: Case, to: str) -> None:
    if to not in TRANSITIONS.get(case.status, ()):
        if case.status == "closed":
            raise refuse("case_closed")
        raise refuse("transition_not_allowed")


def require_assistance_consent(case: Case) -> None:
    if case.declined_assistance or case.active_consent("assistance") is None:
        raise refuse("assistance_consent_required")


def _write(case: Case, status: str, **dates) -> None:
    with status_writer():
        case.status = status
        for name, value in dates.items():
            setattr(case, name, value)


def _record(actor, action: str, case: Case, previous: str, **detail) -> None:
    audit.record(action, case, actor=actor, detail={"from": previous, "to": case.status, **detail})


# --- the moves (no permission check, no commit: the entry points below and other services call them) ------------


def start_immediate(actor, case: Case, *, on: date | None) -> None:
    """Identified → in immediate assistance, from `on` (its intake date)."""
    _require_move(case, "in_immediate_assistance")
    require_assistance_consent(case)
    errors: dict = {}
    on = on or today()
    not_future(on, "on", errors)
    if on < case.identified_on and "on" not in errors:
        errors["on"] = _("The date cannot be before the identification date.")
    consent = case.active_consent("assistance")
    if consent is not None and on < consent.given_on and "on" not in errors:
        errors["on"] = _("Assistance cannot start before she consented to it (%(date)s).",
                         date=consent.given_on.strftime("%d/%m/%Y"))
    if errors:
        raise _dates_invalid(errors)
    previous = case.status
    _write(case, "in_immediate_assistance", intake_on=on)
    _record(actor, "case.phase.immediate", case, previous)


def _recorded_complaint(case: Case, route: CaseRoute | None) -> date | None:
    proc = db.session.scalar(select(LegalProceeding).where(LegalProceeding.case_id == case.id,
                                                           LegalProceeding.kind == "criminal"))  # the complaint
    return (proc.complaint_filed_on if proc else None) or (route.complaint_on if route else None)


def start_mediate(actor, case: Case, *, on: date | None, complaint_on=None, acta_on=None,
                  acta_summary: str | None = None) -> None:
    """In immediate assistance → in mediate assistance, on `on` (the end of the immediate phase)."""
    _require_move(case, "in_mediate_assistance")
    require_assistance_consent(case)
    errors: dict = {}
    on = parse_date(on, "closed_on", errors) or (today() if "closed_on" not in errors else None)
    complaint_on = parse_date(complaint_on, "complaint_on", errors)
    acta_on = parse_date(acta_on, "acta_on", errors)
    for name, value in (("closed_on", on), ("complaint_on", complaint_on), ("acta_on", acta_on)):
        not_future(value, name, errors)
    if on and case.intake_on and on < case.intake_on and "closed_on" not in errors:
        errors["closed_on"] = _("The immediate phase cannot end before it started.")
    if errors:
        raise _dates_invalid(errors)
    route = db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id))
    complaint_on = complaint_on or _recorded_complaint(case, route)
    acta_on = acta_on or (route.acta_on if route else None)
    missing = [(rule, name) for rule, name, value in (("complaint_required", "complaint_on", complaint_on),
                                                     ("acta_required", "acta_on", acta_on)) if value is None]
    if missing:  # both named at once when both are missing
        raise Invalid(str(RULES[missing[0][0]]), rule=missing[0][0],
                      field_errors={name: [str(RULES[rule])] for rule, name in missing})
    if route is None:
        route = CaseRoute(case=case)
        db.session.add(route)
    route.complaint_on, route.acta_on, route.immediate_closed_by_id = complaint_on, acta_on, actor.id
    if clean_text(acta_summary):
        route.acta_summary = clean_text(acta_summary)
    previous = case.status
    _write(case, "in_mediate_assistance", immediate_closed_on=on)
    _record(actor, "case.phase.mediate", case, previous)


def child_protection_entity() -> Entity | None:
    """The child-protection authority (ICBF) of the deployment: the first active entity of that kind."""
    return db.session.scalar(select(Entity).where(Entity.kind == "child_protection", Entity.active.is_(True))
                             .order_by(Entity.id).limit(1))


def _check_referrals(case: Case) -> None:
    waiting = list(db.session.scalars(select(Referral).where(Referral.case_id == case.id,
                                                             Referral.status == "sent")))
    if any(r.mandatory for r in waiting):
        raise refuse("child_referral_pending")
    if waiting:
        raise refuse("referrals_pending")
    if case.child_referral_required:
        sent = db.session.scalar(select(Referral.id).where(Referral.case_id == case.id, Referral.mandatory.is_(True)))
        icbf = child_protection_entity()
        if sent is None and icbf is not None and icbf.id != case.owner_entity_id:
            raise refuse("child_referral_missing")


def open_stay_policy() -> str:
    row = db.session.get(Setting, OPEN_STAY_SETTING)
    try:
        value = json.loads(row.value) if row else OPEN_STAY_DEFAULT
    except ValueError:
        value = OPEN_STAY_DEFAULT
    return value if value in OPEN_STAY_CHOICES else OPEN_STAY_DEFAULT


def close(actor, case: Case, *, reason, on: date | None, note: str | None = None) -> CaseClosure:
    """Any open phase → closed, with its reason; writes the closure record. Returns it (`ended_stay` is set)."""
    _require_move(case, "closed")
    errors: dict = {}
    if not isinstance(reason, str) or reason not in CLOSURE_REASONS:
        raise refuse("closure_reason_required", field="reason", invalid=True)
    on = on or today()
    not_future(on, "closed_on", errors)
    if on < case.identified_on and "closed_on" not in errors:
        errors["closed_on"] = _("The case cannot close before it was identified.")
    started = max(d for d in (case.identified_on, case.intake_on, case.immediate_closed_on) if d is not None)
    if on < started and "closed_on" not in errors:
        errors["closed_on"] = _("The case cannot close before its current phase started (%(date)s).",
                                date=started.strftime("%d/%m/%Y"))
    if errors:
        raise _dates_invalid(errors)
    _check_referrals(case)
    stay = db.session.scalar(select(ShelterStay).where(ShelterStay.case_id == case.id, ShelterStay.left_on.is_(None)))
    if stay is not None:
        if open_stay_policy() == "refuse":
            raise refuse("shelter_stay_open")
        if on < stay.admitted_on:
            raise _dates_invalid({"closed_on": _("The case cannot close before the victim entered the shelter.")})
        stay.end(on)
        # The log names the stay, never the shelter: where she is lodged is part of her identity.
        audit.record("shelter.leave", case, actor=actor, detail={"stay": stay.id, "by": "closure"})
    closure = CaseClosure(case=case, closed_on=on, reason=reason, status_before=case.status, closed_by_id=actor.id)
    db.session.add(closure)
    closure.note = clean_text(note)
    previous = case.status
    _write(case, "closed", closed_on=on, closure_reason=reason)
    _record(actor, "case.close", case, previous, reason=reason, shelter_stay_ended=stay is not None)
    closure.ended_stay = stay  # transient: the screens say when a closure ended her stay
    case.last_closure = closure
    return closure


def reopen(actor, case: Case, *, reason: str | None, on: date | None = None, note: str | None = None) -> None:
    """Closed → the phase it was closed from; the closure stays in the history with its reopening.

    `reason` is a code of REOPEN_REASONS (so the access log can name it); anything said about her goes in `note`,
    encrypted under her key."""
    _require_move(case, REOPENED)
    if not isinstance(reason, str) or reason not in REOPEN_REASONS:
        raise refuse("reopen_reason_required", field="reason", invalid=True)
    closure = _open_closure(case)
    on = on or today()
    errors: dict = {}
    not_future(on, "reopened_on", errors)
    if case.closed_on and on < case.closed_on and "reopened_on" not in errors:
        errors["reopened_on"] = _("A case cannot be reopened before it was closed.")
    if errors:
        raise _dates_invalid(errors)
    back_to = closure.status_before if closure else (
        "in_mediate_assistance" if case.immediate_closed_on else
        "in_immediate_assistance" if case.intake_on else "identified")
    if back_to != "identified":
        require_assistance_consent(case)
    if closure is not None:
        closure.reopened_on, closure.reopened_by_id, closure.reopen_code = on, actor.id, reason
        closure.reopen_reason = clean_text(note)
    previous = case.status
    _write(case, back_to, closed_on=None, closure_reason=None)
    _record(actor, "case.reopen", case, previous, reason=reason)


# --- entry points: load, permission, version, the move, commit ---------------------------------------------------


def _load(actor, code, action: str, version) -> Case:
    case = load_case_for(actor, code, action)
    require_version(case, version)
    return case


def change_status(actor, code: str, status: str, *, version, on=None, reason=None, note=None, complaint_on=None,
                  acta_on=None, acta_summary=None) -> Case:
    """Move a case to `status` (or "reopened"), whatever the path: each move checks its own rules."""
    if status not in CASE_STATUSES + (REOPENED,):
        raise Invalid(_("Choose from the list."), field_errors={"status": [_("Choose from the list.")]},
                      rule="transition_not_allowed")
    case = _load(actor, code, "case.close" if status in ("closed", REOPENED) else "case.update", version)
    if case.status == "closed":
        authz.require(actor, "case.close", case)
    errors: dict = {}
    when = parse_date(on, "on", errors)
    if errors:
        raise _dates_invalid(errors)
    if case.status == "closed" and status != "closed":
        closure = _open_closure(case)
        if status != REOPENED and (closure is None or closure.status_before != status):
            raise refuse("transition_not_allowed")
        reopen(actor, case, reason=reason, on=when, note=note)
    elif status == "in_immediate_assistance":
        start_immediate(actor, case, on=when)
    elif status == "in_mediate_assistance":
        start_mediate(actor, case, on=when, complaint_on=complaint_on, acta_on=acta_on, acta_summary=acta_summary)
    elif status == "closed":
        close(actor, case, reason=reason, on=when, note=note)
    else:
        raise refuse("transition_not_allowed")
    commit()
    return case


def _open_closure(case: Case) -> CaseClosure | None:
    return db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case.id,
                                                       CaseClosure.reopened_on.is_(None))
                             .order_by(CaseClosure.id.desc()).limit(1))


def close_immediate(actor, code: str, *, version, closed_on=None, complaint_on=None, acta_on=None,
                    acta_summary: str | None = None) -> Case:
    """Close the immediate phase and open the mediate one (the route page's form)."""
    case = _load(actor, code, "case.update", version)
    start_mediate(actor, case, on=closed_on, complaint_on=complaint_on, acta_on=acta_on, acta_summary=acta_summary)
    commit()
    return case


def close_case(actor, code: str, *, reason, closed_on=None, note: str | None = None, version) -> CaseClosure:
    """Close a case with its reason (the route page's and the API's closure)."""
    case = _load(actor, code, "case.close", version)
    errors: dict = {}
    closed_on = parse_date(closed_on, "closed_on", errors)
    if errors:
        raise _dates_invalid(errors)
    closure = close(actor, case, reason=reason, on=closed_on, note=note)
    commit()
    return closure


def reopen_case(actor, code: str, *, reason: str | None, reopened_on=None, version, note: str | None = None) -> Case:
    case = _load(actor, code, "case.close", version)
    errors: dict = {}
    reopened_on = parse_date(reopened_on, "reopened_on", errors)
    if errors:
        raise _dates_invalid(errors)
    reopen(actor, case, reason=reason, on=reopened_on, note=note)
    commit()
    return case


# --- the deployment's choice for open shelter stays ---------------------------------------------------------------


def set_open_stay_policy(actor, value: str, *, version) -> str:
    """An admin chooses what closing a case does with an open shelter stay: refuse, or end it on that date."""
    authz.require(actor, "admin.manage")
    if value not in OPEN_STAY_CHOICES:
        raise Invalid(_("Choose from the list."), field_errors={"policy": [_("Choose from the list.")]})
    row = db.session.get(Setting, OPEN_STAY_SETTING)
    require_current(row.version if row else 0, version)
    before = open_stay_policy()
    if row is None:
        row = Setting(key=OPEN_STAY_SETTING, value=json.dumps(OPEN_STAY_DEFAULT))
        db.session.add(row)
    row.value = json.dumps(value)
    audit.record("route.setting.update", object_type="setting", object_ref=OPEN_STAY_SETTING, actor=actor,
                 detail={"from": before, "to": value})
    commit()
    return value


def open_stay_setting_version() -> int:
    row = db.session.get(Setting, OPEN_STAY_SETTING)
    return row.version if row else 0
