"""JSON API v1: the follow-up views — a case's route overview (what the web route page shows, section by section,
only the sections the caller may see) and the monthly list for the investigation and prosecution table.
Each endpoint calls ONE function of services.followup and serialises what it returns."""
from __future__ import annotations

import re

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.api import bp, case_roles, iso
from caseapp.api.legal import legal_json
from caseapp.api.lifecycle import closure_json, extension_json
from caseapp.api.openapi import (
    CODE_PARAM,
    READ_ERRORS,
    S_BOOLEAN,
    S_DATE,
    S_TEXT,
    enum,
    nullable,
    operation,
    ref,
)
from caseapp.api.referrals import referral_json
from caseapp.api.route import goal_json, step_json
from caseapp.api.shelters import stay_json
from caseapp.errors import Invalid
from caseapp.models.cases import CASE_STATUSES
from caseapp.models.referrals import SHARED_SECTIONS
from caseapp.services import followup
from caseapp.timeutil import today

MONTH = re.compile(r"(\d{4})-(\d{2})")


def _notes(notes) -> list[dict]:
    return [{"id": n.id, "written_on": iso(n.written_on), "body": n.body} for n in notes]


def overview_json(view, actor) -> dict:
    """The route page of a case (services.followup.RouteOverview), section by section: a section the caller may
    not see is left out, not sent empty."""
    case, dates, route = view.case, view.dates, view.route
    psychosocial = view.can_see_psychosocial
    rule = dates.rule
    body = {
        "code": case.code, "status": case.status, "version": case.version, "is_child": case.is_child,
        "identified_on": iso(case.identified_on), "intake_on": iso(case.intake_on),
        "immediate_closed_on": iso(case.immediate_closed_on), "closed_on": iso(case.closed_on),
        "closure_reason": case.closure_reason, "sections": sorted(view.sections),
        "awaits_child_protection": view.awaits_child_protection,
        "due": {
            "immediate_due_on": iso(dates.immediate_due_on), "mediate_due_on": iso(dates.mediate_due_on),
            "rule": None if rule is None else {
                "legal_source": rule.legal_source, "effective_from": iso(rule.effective_from),
                "immediate_days": rule.immediate_days, "immediate_extension_days": rule.immediate_extension_days,
                "mediate_months": rule.mediate_months, "mediate_extension_months": rule.mediate_extension_months},
            "extensions": [extension_json(ext, with_reason=psychosocial)
                           for ext in (dates.immediate_extension, dates.mediate_extension) if ext is not None],
        },
        "mediate_start": None if route is None else {
            "complaint_on": iso(route.complaint_on), "acta_on": iso(route.acta_on),
            **({"acta_summary": route.acta_summary} if psychosocial else {})},
        "steps": [step_json(s, actor) for s in view.steps],
        "recordable_step_kinds": [k.code for k in view.kinds],
        "referrals": [referral_json(r) for r in view.referrals],
        "referrals_to_fulfil": [r.id for r in view.to_fulfil],
        "closures": [closure_json(c) for c in view.closures],
    }
    if psychosocial:
        body["life_plan"] = [goal_json(g) for g in view.goals]
    if "identity" in view.sections:  # where she is lodged goes with her identity and contact
        body["shelter_stays"] = [stay_json(s) for s in view.stays]
    if view.can_see_legal and view.legal is not None:
        body["legal"] = legal_json(view.legal)
    if view.psychosocial_notes is not None:
        body["psychosocial_notes"] = _notes(view.psychosocial_notes)
    if view.legal_notes is not None:
        body["legal_notes"] = _notes(view.legal_notes)
    return body


@bp.get("/cases/<code>/route")
@case_roles
def case_route(code):
    return jsonify(overview_json(followup.overview(current_user, code), current_user))


@bp.get("/reports/table-list")
@case_roles
def table_list():
    month = request.args.get("month") or today().strftime("%Y-%m")
    found = MONTH.fullmatch(month)
    if found is None:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"month": _("Write the month as YYYY-MM.")})
    rows = followup.table_list(current_user, int(found.group(1)), int(found.group(2)))
    return jsonify(month=f"{found.group(1)}-{found.group(2)}", rows=rows)


# --- OpenAPI ------------------------------------------------------------------------------------------------

_NOTES = {"type": "array", "items": ref("Note")}

SCHEMAS: dict = {
    "RouteOverview": {
        "type": "object", "required": ["code", "status", "version", "sections", "due", "steps", "referrals",
                                       "closures"],
        "description": "What the route page shows. Sections the caller may not see are LEFT OUT: life_plan and "
                       "psychosocial_notes (psychosocial section), legal (legal section), legal_notes (lawyers), "
                       "shelter_stays (identity section); extension reasons and the acta summary need the "
                       "psychosocial section.",
        "properties": {
            "code": S_TEXT, "status": enum(CASE_STATUSES), "version": {"type": "integer"}, "is_child": S_BOOLEAN,
            "identified_on": S_DATE, "intake_on": nullable(S_DATE), "immediate_closed_on": nullable(S_DATE),
            "closed_on": nullable(S_DATE), "closure_reason": nullable(S_TEXT),
            "sections": {"type": "array", "items": enum(SHARED_SECTIONS),
                         "description": "The sections of the case the caller may see"},
            "awaits_child_protection": {**S_BOOLEAN, "description": "A child's case whose mandatory ICBF referral "
                                                                    "is not accepted yet"},
            "due": {"type": "object", "properties": {
                "immediate_due_on": nullable(S_DATE), "mediate_due_on": nullable(S_DATE),
                "rule": {"type": ["object", "null"], "description": "The due-date rule in force on the intake date"},
                "extensions": {"type": "array", "items": ref("Extension")}}},
            "mediate_start": {"type": ["object", "null"], "properties": {
                "complaint_on": nullable(S_DATE), "acta_on": nullable(S_DATE), "acta_summary": nullable(S_TEXT)}},
            "steps": {"type": "array", "items": ref("Step")},
            "recordable_step_kinds": {"type": "array", "items": S_TEXT,
                                      "description": "Step kinds the caller may record on this case"},
            "referrals": {"type": "array", "items": ref("Referral"),
                          "description": "The owner sees all; another entity only those it sent or received"},
            "referrals_to_fulfil": {"type": "array", "items": {"type": "integer"},
                                    "description": "Referrals whose service the caller's entity may record"},
            "closures": {"type": "array", "items": ref("Closure")},
            "life_plan": {"type": "array", "items": ref("Goal")},
            "shelter_stays": {"type": "array", "items": ref("ShelterStay")},
            "legal": ref("Legal"),
            "psychosocial_notes": _NOTES, "legal_notes": _NOTES}},
    "TableListRow": {"type": "object", "properties": {
        "case": {**S_TEXT, "description": "Case code (never a name)"},
        "status": {**S_TEXT, "description": "Label, in the caller's language"},
        "stage": {**S_TEXT, "description": "Label of the stage of the criminal process ('' if none)"},
        "complaint_on": {**S_TEXT, "description": "ISO date or ''"},
        "next_hearing": {**S_TEXT, "description": "ISO date or ''"},
        "pending_actions": {**S_TEXT, "description": "Labels separated by '; '"},
        "stage_changes": {**S_TEXT, "description": "The month's stage changes of every proceeding ('DATE label; ...')"},
        "hearings_held": {"type": "integer", "description": "Hearings held in the month"},
        "measures_granted": {"type": "integer", "description": "Protection measures granted in the month"}}},
    "TableList": {"type": "object", "properties": {
        "month": S_TEXT, "rows": {"type": "array", "items": ref("TableListRow")}}},
}

PATHS: dict = {
    "/api/v1/cases/{code}/route": {
        "parameters": [CODE_PARAM],
        "get": operation("A case's route: status, due dates, steps, life plan, stays, legal follow-up, notes, "
                         "referrals and closures — only the sections the caller may see", "route",
                         ok="The route overview", schema="RouteOverview", errors=READ_ERRORS)},
    "/api/v1/reports/table-list": {
        "get": {**operation("The monthly list for the investigation and prosecution table: the entity's cases open "
                            "during the month, with the stage of the criminal process and what is pending (case "
                            "codes, never names)", "route", ok="Rows", schema="TableList",
                            errors=(401, 403, 422)),
                "parameters": [{"name": "month", "in": "query", "required": False,
                                "description": "YYYY-MM (default: this month)",
                                "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}]}},
}
