"""The primitives every service uses, so that each rule below is written once.

- `load_case(code)`: the case by its public code, or NotFound (a malformed code is absent too); `read_case(code,
  read)` the same for a read that shows it, with what `read` joins to it;
  `load_case_for(actor, code, action)`: the same, only if authz allows the actor that action on it.
- `require_version(row, version)`: an edit names the version it was made from, always; a stale one is refused.
- `commit_read()`: commit a read's access-log row, keeping what the read loaded (`keeping_loaded()` for a write
  that answers with what it has just written).
- `commit()`: commit, or report a real conflict (stale data, a uniqueness race) as Conflict; any other failure
  (a full disk, a lost connection) stays the error it is.
- `expect_once(actor, key)`: the request's write is done once per one-time key (a form's `submission` field, the
  API's Idempotency-Key): `commit()` records the key with the write, and a second request with it writes nothing.
- `invalid(errors)`: bad input, nothing written; `field_errors` is always {field: [messages]}.
- `parse_date`, `clean_text`, `blank`, `not_future`: reading form and API values the same way everywhere.
- `any_of(column, values)`: IN for a statement built once with its list.
"""
from __future__ import annotations

import functools
import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, false, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, load_only
from sqlalchemy.orm.exc import StaleDataError

from caseapp import authz, crypto
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Setting, Submission
from caseapp.models.cases import Case
from caseapp.models.joined_read import HELD, JoinedRead
from caseapp.timeutil import today, utcnow

MAX_TEXT = 4000
MAX_CODE = 32


def stale_message() -> str:
    return _("Someone else changed this record while you were editing it. Reload it and try again; "
             "nothing was saved.")


def version_missing_message() -> str:
    return _("The record version is missing; reload and try again.")


# --- loading ----------------------------------------------------------------------------------------------------


def case_header(*columns) -> tuple:
    """Loader options for cases a list reads only for their code and whose they are (and `columns`): not the
    victim, the owning entity and the purposes a case's load brings, once a row. Anything else loads on first read."""
    return (load_only(Case.id, Case.code, Case.owner_entity_id, *columns), lazyload(Case.victim),
            lazyload(Case.owner_entity), lazyload(Case.purposes))


def any_of(column, values: tuple):
    """`column IN (values)` for a statement built once with its values: one bound value each. SQLAlchemy's in_()
    writes its list into the statement's text at every execution (a rewrite of the whole text: ~1% of a case
    page, on the timeline's UNION and the attachments' read), which a list fixed with the statement need not."""
    return or_(*(column == value for value in values)) if values else false()


def load_case(code, *options) -> Case:
    """The case whose public code is `code` (any case: permission is the caller's next step); `options` are loader
    options for what the caller is about to show, module constants (the statement is built once per tuple of them)."""
    case = db.session.scalar(_by_code(options), {"code": _case_code(code)})
    if case is None:
        raise NotFound()
    return case


def read_case(code, read: JoinedRead) -> Case:
    """load_case for a read that shows the case: `read` (a module constant) says what is joined to it, and its rows
    are read without the ORM's row processing (caseapp.models.joined_read). A case the session holds already is
    loaded through the ORM with the same joins, as a query would complete it."""
    code = _case_code(code)
    case = read.load(db.session, code)
    if case is HELD:
        return load_case(code, *read.options)
    if case is None:
        raise NotFound()
    return case


def _case_code(code) -> str:
    """A case code as cases are stored (NotFound for what cannot be one: a malformed code is an absent case)."""
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise NotFound()
    return code.strip().upper()


@functools.lru_cache(maxsize=32)
def _by_code(options: tuple):
    # LIMIT 1 (a code names one case): with collections joined (the case page's consents and safety flags), the
    # ORM then selects the case in a subquery and joins them to it, so its column subqueries (the page's JSON
    # columns) are computed once, not once a joined row.
    return select(Case).options(*options).where(Case.code == bindparam("code")).limit(1)


def load_case_for(actor, code, action: str = "case.read") -> Case:
    """The case named by `code` if `actor` may do `action` on it (NotFound when she may not know it exists)."""
    case = load_case(code)
    if action != "case.read":
        authz.require(actor, "case.read", case)
    authz.require(actor, action, case)
    return case


# --- versions and commits ----------------------------------------------------------------------------------------


def require_identity_kept(case: Case) -> None:
    """Refuse a write that needs the victim's key (free text, a family member's identity) once her identity was
    erased: the key is destroyed, so nothing new can be encrypted under it."""
    if case.victim.erased:
        raise Conflict(_("This victim's identity was erased: nothing that names her or her family can be "
                         "recorded on the case any more."), rule="identity_erased")


def ascii_digits(text, most: int = 11) -> bool:
    """Whether `text` is 1 to `most` ASCII digits: what int() is then given. str.isdigit takes "²" or "١", which
    int() refuses (a 500 where a clear 422 was due) or reads as another number."""
    return isinstance(text, str) and re.fullmatch(rf"[0-9]{{1,{most}}}", text) is not None


def as_version(version) -> int | None:
    """A row version as sent by a form or a JSON body, or None when it is not one (ascii_digits, short enough to be
    a version)."""
    if isinstance(version, bool):
        return None
    if isinstance(version, int):
        return version
    if isinstance(version, str) and ascii_digits(version.strip()):
        return int(version.strip())
    return None


def require_version(row, version, *, field: str = "version", stale: str | None = None) -> None:
    """Refuse an edit that does not say which copy of the row it was made from, or was made from a stale one."""
    require_current(row.version, version, field=field, stale=stale)


def require_current(current: int, version, *, field: str = "version", stale: str | None = None) -> None:
    """The same check against a version number. A record that may not exist yet (a setting, the legal
    proceeding, the screening, a manual value) has version 0 until it does: its form sends 0, and a record created
    meanwhile by someone else makes that a stale edit, never an overwrite."""
    number = as_version(version)
    if number is None:
        raise Invalid(version_missing_message(), field_errors={field: [version_missing_message()]},
                      rule="version_required")
    if current != number:
        raise Conflict(stale or stale_message(), rule="stale_version")


def lost_race(error: IntegrityError) -> bool:
    """A uniqueness violation: another request wrote the same thing first. Any other integrity error (NOT NULL,
    a foreign key, a check) is a bug, not a race, and stays an error."""
    sqlstate = getattr(error.orig, "sqlstate", None)  # psycopg
    if sqlstate is not None:
        return sqlstate == "23505"
    return "UNIQUE constraint failed" in str(error.orig)  # sqlite3


SUBMISSION_KEPT = timedelta(days=7)


def already_submitted_message() -> str:
    return _("This form had already been sent: it was saved only once.")


def submission_key_message() -> str:
    return _("The one-time key of this request (a form's hidden field, the Idempotency-Key header) must have 8 to "
             "128 characters: letters, digits and ASCII signs.")


_ONCE_KEY = re.compile(r"[!-~]{8,128}")  # visible ASCII: a UUID, random hex or base64


def check_once_key(key) -> None:
    """A one-time key is 8 to 128 visible ASCII characters (what a client generates: a UUID, random hex)."""
    if not isinstance(key, str) or not _ONCE_KEY.fullmatch(key):
        raise Invalid(submission_key_message(), rule="idempotency_key_invalid")


def request_fingerprint(request) -> str:
    """What a request asks for (method, endpoint, its URL's arguments, its body): the same key with another
    request is a client's mistake, not a retry."""
    digest = hashlib.sha256()
    for part in (request.method, request.endpoint or "", repr(sorted((request.view_args or {}).items()))):
        digest.update(part.encode() + b"\x00")
    if request.mimetype == "multipart/form-data":  # its boundary is new on every send: the fields and files count
        digest.update(repr(sorted(request.form.items(multi=True))).encode())
        for name, sent in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"{name}\x00{sent.filename}\x00".encode())
            digest.update(hashlib.sha256(sent.stream.read()).digest())
            sent.stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def expect_once(actor, key, fingerprint: str = "") -> None:
    """This request's write is to happen once for `key`: the next `commit()` records the key's keyed hash (and the
    request's `fingerprint`) with the write, in the same transaction, and the same request brought again with the
    key (a double click, a form sent twice, an API call retried after a lost answer) is refused as Conflict
    "already_submitted" with nothing written; another request with a used key is Invalid "idempotency_key_reused".
    No key (a CLI, an older client): nothing to check."""
    if key is None or actor is None:
        return
    check_once_key(key)
    key_hash = crypto.hash_token(f"submission:{actor.id}:{key}")
    # answered at once when the first one is long done (its own rules, a flag already set, would say less);
    # the unique key at commit settles two that run at the same time
    seen = db.session.scalar(select(Submission.fingerprint).where(Submission.key_hash == key_hash))
    if seen is not None and seen != fingerprint:
        raise Invalid(_("This one-time key was already used for another request: send a new one. Nothing was "
                        "saved."), rule="idempotency_key_reused")
    if seen is not None:
        raise Conflict(already_submitted_message(), rule="already_submitted")
    g.submission = (actor.id, key_hash, fingerprint)


def forget_submission() -> None:
    """The request's write failed: a later commit of the same request (a logged refusal) is not that write."""
    if has_app_context():
        g.pop("submission", None)


def abandon_write() -> None:
    """A write refused half way: what it added to the session is dropped (a page drawn next commits its read, and
    must not commit a half-made row with it), and its one-time key stays unused for the corrected form."""
    db.session.rollback()
    forget_submission()


def _record_submission() -> None:
    pending = g.pop("submission", None) if has_app_context() else None
    if pending is None:
        return
    user_id, key_hash, fingerprint = pending
    now = utcnow()
    # Written before the request's own rows are flushed: the second of two identical requests waits here for the
    # first one's commit and is told "already sent", and the rows' own conflicts stay what commit() says of them.
    with db.session.no_autoflush:
        # what a week-old form could still resend is long gone: keep the table small, the user's rows only
        db.session.execute(delete(Submission).where(Submission.user_id == user_id,
                                                    Submission.created_at < now - SUBMISSION_KEPT))
        try:
            db.session.execute(insert(Submission).values(key_hash=key_hash, user_id=user_id, created_at=now,
                                                         fingerprint=fingerprint))
        except IntegrityError as error:
            db.session.rollback()  # the second request's write goes with it
            if not lost_race(error):
                raise
            raise Conflict(already_submitted_message(), rule="already_submitted") from None


def commit(conflict_message: str | None = None) -> None:
    """Commit; a concurrent edit of a versioned row or a lost uniqueness race becomes a clear Conflict. A write
    expected once (`expect_once`) is recorded with its key, or refused when the key was already used."""
    _record_submission()
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(conflict_message or stale_message(), rule="stale_version") from None
    except IntegrityError as error:
        db.session.rollback()
        if not lost_race(error):
            raise
        raise Conflict(conflict_message or stale_message(), rule="stale_version") from None


def insert_unique(row, race: Conflict) -> None:
    """Add `row` and write it at once, in a savepoint: when a unique index the database holds refuses it (another
    request wrote the same thing meanwhile, past the service's own check) the answer is `race` — the Conflict that
    check gives — and the rest of the transaction is kept."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as error:
        if not lost_race(error):
            raise
        raise race from None


def commit_read() -> None:
    """Commit a read's access-log row without expiring what the read loaded: the transaction wrote nothing the page
    shows, so reloading each row on its next use (one statement per row) would only cost time."""
    with keeping_loaded():
        db.session.commit()


@contextmanager
def keeping_loaded():
    """Commits inside keep what the session holds: for a read, or for rows the request has just written and answers
    with (their values are what it flushed, so reloading them after the commit would read back the same)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


# --- input ---------------------------------------------------------------------------------------------------


def invalid(errors: dict, message: str | None = None) -> Invalid:
    """Bad input: the exception to raise (field_errors normalised to {field: [messages]})."""
    return Invalid(message or _("Some fields are not valid; nothing was saved."), field_errors=errors)


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def nul_message() -> str:
    return _("The text contains a character that cannot be kept (NUL); nothing was saved.")


def clean_text(value, limit: int = MAX_TEXT) -> str | None:
    """Trimmed text (None when blank), cut to `limit` characters. A NUL byte is never text a person wrote (a
    pasted binary, a probe) and PostgreSQL cannot hold it in clear: refused, as the registry's fields do."""
    if value is None:
        return None
    value = (value if isinstance(value, str) else str(value)).strip()
    if "\x00" in value:
        raise Invalid(nul_message(), rule="text_invalid")
    return value[:limit] or None


def parse_date(value, field_name: str, errors: dict) -> date | None:
    """A date from a form or API value (a date, or ISO text); a clear message in `errors` on bad input."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field_name] = _("Write the date as YYYY-MM-DD.")
        return None


def whole_number(value, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """An integer from a form or API value within [low, high], or None (a bool, a fraction, 10**400 are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").isdigit() or len(value) > 12:
            return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and value != number:
        return None
    return number if low <= number <= high else None


@dataclass
class ListPage:
    """One page of a list shown a page at a time (templates/macros/pagination.html draws its links)."""
    rows: list
    total: int  # the rows of the list, on every page
    page: int | None  # None when the page was asked for otherwise (a cursor)
    pages: int
    per_page: int


def page_of(value, total: int, per_page: int) -> tuple[int, int]:
    """(the page a URL asks for, the number of pages) of a list of `total` rows: a number past the last (however
    long) is the last; anything else that is not a page number, the first."""
    pages = max(1, -(-total // per_page))
    number = whole_number(value, 1)
    if number is None and isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return pages, pages
    return min(number or 1, pages), pages


def yes(value) -> bool:
    """A checkbox or JSON flag: True for true/yes/on/1, False otherwise (the text "false" is not true)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str | int) and str(value).strip().lower() in ("true", "1", "yes", "y", "on", "si", "sí")


def not_future(value: date | None, field_name: str, errors: dict) -> None:
    if value is not None and value > today() and field_name not in errors:
        errors[field_name] = _("The date cannot be in the future.")


_SETTING_ROW = select(Setting.value, Setting.version).where(Setting.key == bindparam("key"))


def setting_row(key: str):
    """A setting's stored (value, version), or None while it has its default: for a read on every request (a search
    reads the blind index's width, a case page the attachments' size limit). One statement built once; Session.get
    builds its own each time the row is missing, and makes an object to read two columns. Read through the session's
    connection (its transaction), not the Session's ORM dispatch, which doubled the cost of so small a read (41 ->
    20 us): what a caller changed and has not flushed is not seen, and no caller reads a setting it is changing."""
    return db.session.connection().execute(_SETTING_ROW, {"key": key}).first()
