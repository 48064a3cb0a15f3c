"""What an upload must be: a PDF, JPEG or PNG by its first bytes (never by its name or declared type), not empty,
not larger than the limit an administrator sets (bounded by the request size the app accepts)."""
from __future__ import annotations

import json

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.accounts import Setting
from caseapp.services.primitives import commit, require_current, setting_row, whole_number

SETTING = "attachment_max_bytes"
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MULTIPART_MARGIN = 64 * 1024  # the form's other fields and boundaries travel in the same request
MB = 1024 * 1024

# Signatures at offset 0. A PDF must start with its header (the format allows junk before it; we do not, so that
# an HTML or script file with a PDF header further down is not taken for one).
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(data: bytes) -> str | None:
    """The media type of `data` by its content, or None when it is not one we keep."""
    for magic, media_type in SIGNATURES:
        if data.startswith(magic):
            return media_type
    return None


def ceiling() -> int:
    """The largest file the app can receive at all (MAX_CONTENT_LENGTH less the form around it)."""
    return max(MB, int(current_app.config["MAX_CONTENT_LENGTH"]) - MULTIPART_MARGIN)


def size_limit() -> tuple[int, int]:
    """(bytes, version of the setting: 0 while it is the default)."""
    return limit_of(setting_row(SETTING))


def limit_of(row) -> tuple[int, int]:
    """size_limit() from the setting's stored (value, version), None while it has its default: for a caller that
    read the row with something else (the case page's attachments, store.case_block)."""
    if row is None:
        return min(DEFAULT_MAX_BYTES, ceiling()), 0
    try:
        value = int(json.loads(row.value))
    except (TypeError, ValueError):
        value = DEFAULT_MAX_BYTES
    return min(max(value, 1), ceiling()), row.version


def set_size_limit(admin, megabytes, version) -> int:
    """An administrator sets the largest attachment, in whole MB, at most what the app can receive."""
    authz.require(admin, "admin.manage")
    limit = db.session.scalar(select(Setting).where(Setting.key == SETTING))
    require_current(limit.version if limit else 0, version)
    high = ceiling() // MB
    number = whole_number(megabytes, 1, high)
    if number is None:
        message = _("Enter a whole number of megabytes from 1 to %(high)s.", high=high)
        raise Invalid(message, field_errors={"megabytes": message})
    if limit is None:
        limit = Setting(key=SETTING, value=json.dumps(number * MB))
        db.session.add(limit)
    else:
        limit.value = json.dumps(number * MB)
    audit.record("admin.attachment_limit", object_type="setting", object_ref=SETTING, actor=admin,
                 detail={"megabytes": number})
    commit()
    return number * MB


def check_file(data: bytes | None) -> str:
    """The media type of an acceptable upload; Invalid (field `file`, a rule code) otherwise."""
    if not data:
        raise Invalid(_("The file is empty or was not sent; nothing was saved."),
                      field_errors={"file": _("Choose a file.")}, rule="attachment_empty")
    limit, _version = size_limit()
    if len(data) > limit:
        message = _("The file is larger than %(mb)s MB; nothing was saved.", mb=round(limit / MB, 1))
        raise Invalid(message, field_errors={"file": message}, rule="attachment_too_large")
    media_type = sniff(data)
    if media_type is None:
        message = _("Only PDF, JPEG or PNG files can be attached (checked by their content, not their name); "
                    "nothing was saved.")
        raise Invalid(message, field_errors={"file": message}, rule="attachment_type")
    return media_type
