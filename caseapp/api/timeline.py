"""JSON API v1: a case's timeline and its printable summary (PDF). Each endpoint calls ONE function of
services.followup, which filters by what the caller may see and logs the read."""
from __future__ import annotations

from flask import Response, jsonify
from flask_login import current_user

from caseapp.api import bp, case_roles, iso
from caseapp.api.openapi import CODE_PARAM, READ_ERRORS, S_DATE, S_TEXT, enum, error_responses, operation, ref
from caseapp.models.referrals import SHARED_SECTIONS
from caseapp.services import followup
from caseapp.services.followup.timeline import LEGAL_NOTES


def entry_json(entry) -> dict:
    return {"on": iso(entry.on), "kind": entry.kind, "text": entry.text, "section": entry.section}


@bp.get("/cases/<code>/timeline")
@case_roles
def case_timeline(code):
    view = followup.timeline(current_user, code)
    return jsonify({"code": view.case.code, "items": [entry_json(e) for e in view.entries]})


@bp.get("/cases/<code>/summary.pdf")
@case_roles
def case_summary_pdf(code):
    name, data = followup.case_summary_pdf(current_user, code)
    return Response(data, mimetype="application/pdf", headers=followup.download_headers(name))


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "TimelineEntry": {"type": "object", "required": ["on", "kind", "text", "section"], "properties": {
        "on": S_DATE, "kind": {**S_TEXT, "description": "A stable code: case.identified, step.done, referral.sent..."},
        "text": {**S_TEXT, "description": "What happened, in the caller's language (never a name or free text)"},
        "section": enum((*SHARED_SECTIONS, LEGAL_NOTES))}},
    "Timeline": {"type": "object", "required": ["code", "items"], "properties": {
        "code": S_TEXT, "items": {"type": "array", "items": ref("TimelineEntry")}}},
}

PATHS: dict = {
    "/api/v1/cases/{code}/timeline": {
        "parameters": [CODE_PARAM],
        "get": operation("Everything that happened to a case, newest first — only what the caller may see",
                         "cases", ok="The timeline", schema="Timeline", errors=READ_ERRORS)},
    "/api/v1/cases/{code}/summary.pdf": {
        "parameters": [CODE_PARAM],
        "get": {"summary": "The printable case summary (PDF), with only the sections the caller may see",
                "tags": ["cases"],
                "responses": {"200": {"description": "The PDF, as a download (no-store)", "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                    **error_responses(*READ_ERRORS)}}},
}
