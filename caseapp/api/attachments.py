"""JSON API v1: encrypted attachments of a case. Each endpoint calls ONE service function (services.attachments);
a download answers the original bytes, never cached, always as a file to save (never shown inline)."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.api import bp, case_roles, iso
from caseapp.api.openapi import CODE_PARAM, READ_ERRORS, operation, path_param
from caseapp.errors import Invalid
from caseapp.models.attachments import ATTACHMENT_KINDS, MEDIA_TYPES
from caseapp.services import attachments

FORM_FIELDS = frozenset({"kind"})
FILE_FIELDS = frozenset({"file"})


def attachment_json(row) -> dict:
    # Listed only to readers of her identity and of its kind's section (authz.readable_attachment_kinds): they may
    # see the name it was uploaded with (none once she is erased). The section is the kind's, not the stored column.
    return {"id": row.id, "kind": row.kind, "section": row.kind_section, "media_type": row.media_type,
            "size": row.size, "uploaded_at": iso(row.uploaded_at), "filename": row.filename or None}


@bp.post("/cases/<code>/attachments")
@case_roles
def upload_attachment(code):
    unknown = sorted(set(request.form) - FORM_FIELDS | set(request.files) - FILE_FIELDS)
    if unknown:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={str(k)[:64]: _("Unknown field.") for k in unknown})
    upload = request.files.get("file")
    row = attachments.upload(current_user, code, kind=request.form.get("kind"),
                             data=upload.read() if upload is not None else None,
                             filename=upload.filename if upload is not None else None)
    return jsonify({"id": row.id}), 201


@bp.get("/cases/<code>/attachments")
@case_roles
def list_attachments(code):
    _case, rows = attachments.list_attachments(current_user, code)
    return jsonify({"attachments": [attachment_json(r) for r in rows]})


@bp.get("/cases/<code>/attachments/<int:attachment_id>")
@case_roles
def download_attachment(code, attachment_id):
    found = attachments.download(current_user, code, attachment_id)
    return Response(found.data, mimetype=found.media_type, headers=found.headers)


# --- OpenAPI ------------------------------------------------------------------------------------------------

SCHEMAS: dict = {
    "AttachmentIn": {
        "type": "object", "required": ["file", "kind"], "additionalProperties": False,
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "A PDF, JPEG or PNG, recognised by its content (not its name or declared type); "
                                    "at most the size an administrator sets (8 MB by default)"},
            "kind": {"type": "string", "enum": list(ATTACHMENT_KINDS),
                     "description": "consent and identity_document and other: identity section; acta_unica: "
                                    "psychosocial; court_order: legal (lawyers upload it). Reading any kind "
                                    "needs the identity section and the kind's own"}}},
    "AttachmentCreated": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
    "Attachment": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(ATTACHMENT_KINDS)},
        "section": {"type": "string", "description": "The case section of its kind"},
        "media_type": {"type": "string", "enum": list(MEDIA_TYPES)},
        "size": {"type": "integer"}, "uploaded_at": {"type": "string"},
        "filename": {"type": ["string", "null"], "description": "As uploaded (encrypted at rest); null once her "
                                                                "identity is erased"}}},
    "Attachments": {"type": "object", "required": ["attachments"], "properties": {
        "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}}},
}

_upload = operation("Attach a document to the case, encrypted under the victim's key (201: its id)", "attachments",
                    ok="Kept", schema="AttachmentCreated", status=201)
_upload["requestBody"] = {"required": True, "content": {"multipart/form-data": {
    "schema": {"$ref": "#/components/schemas/AttachmentIn"}}}}
_download = operation("The original bytes of one attachment (Content-Disposition: attachment; never cached)",
                      "attachments", ok="The file", errors=READ_ERRORS)
_download["responses"]["200"]["content"] = {t: {"schema": {"type": "string", "format": "binary"}}
                                            for t in MEDIA_TYPES}

PATHS: dict = {
    "/api/v1/cases/{code}/attachments": {
        "parameters": [CODE_PARAM],
        "get": operation("The case's attachments the caller may see (her identity and each kind's section; no bytes)",
                         "attachments", ok="The list", schema="Attachments", errors=READ_ERRORS),
        "post": _upload},
    "/api/v1/cases/{code}/attachments/{attachment_id}": {
        "parameters": [CODE_PARAM, path_param("attachment_id", "An attachment of this case")],
        "get": _download},
}
