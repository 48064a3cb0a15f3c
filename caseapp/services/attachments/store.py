"""Uploading, listing and downloading a case's attachments: the one path the web and the API both call.

Every upload and download is in the access log, by attachment id and kind: never a file name (the log outlives
an erasure, a name may be hers).
"""
from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, literal_column, select

from caseapp import audit, authz
from caseapp.crypto import KeyDestroyed
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Setting
from caseapp.models.attachments import ATTACHMENT_KINDS, ATTACHMENT_SECTIONS, CaseAttachment
from caseapp.models.base import attach_loaded, loaded_columns, query_connection
from caseapp.models.cases import Case
from caseapp.services.attachments.rules import SETTING, check_file, limit_of, size_limit
from caseapp.services.primitives import any_of, clean_text, commit, commit_read, load_case_for, whole_number
from caseapp.timeutil import utcnow

MAX_NAME = 200


def _kind(kind) -> str:
    if not isinstance(kind, str) or kind.strip() not in ATTACHMENT_KINDS:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"kind": _("Choose from the list.")})
    return kind.strip()


def _original_name(filename) -> str | None:
    """The base name the browser sent (no directories), kept encrypted; only its readers ever see it."""
    if not isinstance(filename, str):
        return None
    return clean_text(posixpath.basename(filename.replace("\\", "/")), MAX_NAME)


def addable_kinds(actor, case: Case) -> list[str]:
    """The kinds of document the actor may attach to the case (none on a case of another entity)."""
    return [k for k in ATTACHMENT_KINDS if authz.can_attach(actor, case, k, ATTACHMENT_SECTIONS[k])]


def upload(actor, code, *, kind, data: bytes | None, filename=None) -> CaseAttachment:
    """Keep a document on the case, encrypted under the victim's key."""
    case = load_case_for(actor, code)
    if not addable_kinds(actor, case):  # who may add nothing is refused before her input is looked at
        authz.require_attach(actor, case, None, None)
    kind = _kind(kind)
    section = ATTACHMENT_SECTIONS[kind]
    authz.require_attach(actor, case, kind, section)
    if case.victim.erased:
        raise Conflict(_("This victim's identity was erased: no document can be attached to her case."),
                       rule="identity_erased")
    media_type = check_file(data)
    row = CaseAttachment(case=case, kind=kind, section=section, media_type=media_type, size=len(data),
                         uploaded_by_id=actor.id, uploaded_at=utcnow())
    row.set_content(data)
    row.filename = _original_name(filename)
    db.session.add(row)
    db.session.flush()
    audit.record("case.attachment.upload", case, actor=actor,
                 detail={"attachment": row.id, "kind": kind, "media_type": media_type, "size": len(data)})
    commit()
    return row


def visible(actor, case: Case) -> list[CaseAttachment]:
    """The attachments the actor may read (authz.readable_attachment_kinds), oldest first, without their bytes (the
    caller has read the case, and logged it). Selected by kind, never by the stored section column. Only a reader
    of her identity ever gets a row, so the name it was uploaded with goes no further than the file itself."""
    return _rows(_readable(actor, case), case)


def case_block(actor, case: Case, *, with_limit: bool) -> tuple[list[CaseAttachment], tuple[int, int] | None]:
    """What the case page shows of its attachments: visible()'s rows and, when it draws the upload form
    (`with_limit`), the size limit (rules.size_limit), read in the same statement. Read apart, the limit was a
    statement of its own on every case page: a round trip more on PostgreSQL."""
    kinds = _readable(actor, case)
    if not with_limit:
        return _rows(kinds, case), None
    if not kinds:
        return [], size_limit()
    # as plain rows, each attachment made with attach_loaded: the ORM's row processing, set up again at each
    # execution, was half of this read (0.30 ms against 0.14, in process, with no attachment)
    found = query_connection(db.session).execute(_with_limit(kinds), {"case_id": case.id, "key": SETTING}).all()
    keys = loaded_columns(CaseAttachment)[0]
    first = found[0]  # the one-row start: always a row, with the setting's value and version (NULLs: its default)
    setting = _Setting(first.limit_value, first.limit_version) if first.limit_version is not None else None
    rows = [attach_loaded(db.session, CaseAttachment, dict(zip(keys, row[:len(keys)], strict=True)))[0]
            for row in found if row.id is not None]
    return rows, limit_of(setting)


@dataclass(frozen=True)
class _Setting:
    value: str
    version: int


def _readable(actor, case: Case) -> tuple:
    return tuple(sorted(authz.readable_attachment_kinds(actor, case)))


def _rows(kinds: tuple, case: Case) -> list[CaseAttachment]:
    return list(db.session.scalars(_of_kinds(kinds), {"case_id": case.id})) if kinds else []


def _of_case(kinds: tuple):
    """The rows of a case of the kinds given: visible()'s rule, wherever it is read."""
    return and_(CaseAttachment.case_id == bindparam("case_id"), any_of(CaseAttachment.kind, kinds))


@functools.lru_cache(maxsize=64)  # a few sets of kinds (one per kind of reader): each statement built once
def _of_kinds(kinds: tuple):
    return select(CaseAttachment).where(_of_case(kinds)).order_by(CaseAttachment.id)


@functools.lru_cache(maxsize=64)
def _with_limit(kinds: tuple):
    """_of_kinds beside the limit's setting, both joined to a one-row start: the setting (or NULLs while it has its
    default) comes even when no attachment does."""
    start = select(literal_column("1").label("one")).subquery()
    return (select(*loaded_columns(CaseAttachment)[1], Setting.value.label("limit_value"),
                   Setting.version.label("limit_version")).select_from(start)
            .outerjoin(Setting, Setting.key == bindparam("key"))
            .outerjoin(CaseAttachment, _of_case(kinds))
            .order_by(CaseAttachment.id))


def list_attachments(actor, code) -> tuple[Case, list[CaseAttachment]]:
    """The case's attachments the actor may see (the API's list: the read is logged here)."""
    case = load_case_for(actor, code)
    rows = visible(actor, case)
    audit.record("case.attachment.list", case, actor=actor, detail={"attachments": [r.id for r in rows]})
    commit_read()
    return case, rows


@dataclass(frozen=True)
class Download:
    data: bytes
    media_type: str
    download_name: str  # kind, id and extension: never her name nor the name it was uploaded with

    @property
    def headers(self) -> dict:
        """Saved as a file, never shown inline, never sniffed into another type, never cached (web and API)."""
        return {"Content-Disposition": f'attachment; filename="{self.download_name}"', "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff"}


def download(actor, code, attachment_id) -> Download:
    """The original bytes of one attachment of the case named `code`, for a reader of its kind."""
    case = load_case_for(actor, code)
    number = whole_number(attachment_id, 1)
    row = db.session.get(CaseAttachment, number) if number is not None else None
    if row is None or row.case_id != case.id:
        raise NotFound()
    authz.require_attachment_read(actor, case, row.kind)
    try:
        data = row.content()
    except KeyDestroyed:
        raise NotFound() from None  # shredded with her (and deleted): nothing to give
    audit.record("case.attachment.download", case, actor=actor, detail={"attachment": row.id, "kind": row.kind})
    commit_read()
    return Download(data=data, media_type=row.media_type, download_name=f"{row.kind}-{row.id}.{row.extension}")


def delete_for_victim(victim_id: int) -> None:
    """Erasure: her attachments go with her data key (called by the registry's crypto-shredding)."""
    case_ids = select(Case.id).where(Case.victim_id == victim_id)
    db.session.execute(delete(CaseAttachment).where(CaseAttachment.case_id.in_(case_ids))
                       .execution_options(synchronize_session="fetch"))
