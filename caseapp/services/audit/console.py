"""The auditor's console: filtered, keyset-paginated reads of the access log, CSV export, per-case history.

Only AuditEvent columns are ever read here (users, entities, roles, actions, case codes, addresses): nothing of
a victim. Every filter walks an index in `seq` order, so a page costs the same at ten rows or ten million:

    user -> (actor, seq)            entity -> (actor_entity, seq)     case -> (object_ref, seq)
    action -> (action, seq)         outcome -> (outcome, seq)         dates -> two probes of (at), then a seq range

A date range becomes a seq range because `at` never goes backwards along the chain (see audit.chain). Every read
seals the access log's queue first, so it shows every committed row.
Every view and export writes its own access-log row.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, func, or_, select

from caseapp import audit, authz
from caseapp.errors import Invalid, NotFound
from caseapp.extensions import db
from caseapp.labels import action_label, label, label_list
from caseapp.models.audit import OUTCOMES, AuditEvent
from caseapp.models.base import named_rows
from caseapp.models.cases import Case
from caseapp.services.primitives import ascii_digits, commit_read
from caseapp.spreadsheets import safe_text
from caseapp.timeutil import BOGOTA

MAX_LIMIT = 200
EXPORT_BATCH = 2000
AUDIT_VIEW_TYPE = "audit_log"  # object_type of the auditors' own reads of the log

_PATTERNS = {
    "user": re.compile(r"^[\w.@+-]{1,64}$"),
    "entity": re.compile(r"^[A-Za-z0-9_-]{1,16}$"),
    "case": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
    "action": re.compile(r"^[\w.:-]{1,48}$"),
}
FILTER_NAMES = ("user", "entity", "case", "action", "outcome", "since", "until")
# Codes stay in their own columns (auditors filter by them); each coded column is followed by its label.
CSV_COLUMNS = ("seq", "at_utc", "at_colombia", "user", "entity", "roles", "roles_label", "action", "action_label",
               "object_type", "object_type_label", "object_ref", "outcome", "outcome_label", "ip", "request_id",
               "detail")


@dataclass(frozen=True)
class Filters:
    """Validated console filters. Raw strings are kept for links; since/until are naive UTC bounds [since, until)."""

    user: str | None = None
    entity: str | None = None
    case: str | None = None
    action: str | None = None
    outcome: str | None = None
    since_text: str | None = None
    until_text: str | None = None
    since: datetime | None = field(default=None, compare=False)
    until: datetime | None = field(default=None, compare=False)

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments (they hold no identity: usernames and case codes only)."""
        values = {"user": self.user, "entity": self.entity, "case": self.case, "action": self.action,
                  "outcome": self.outcome, "since": self.since_text, "until": self.until_text}
        return {k: v for k, v in values.items() if v}

    def active(self) -> bool:
        return bool(self.query_args())


def _parse_moment(text: str, *, end: bool) -> datetime:
    """A Colombian date (whole day) or local date-time, or an ISO instant with offset; returns naive UTC."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        if end:
            day += timedelta(days=1)  # `until` a date includes that whole day
        moment = datetime.combine(day, time(), tzinfo=BOGOTA)
    else:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=BOGOTA)
        if end and len(text) <= 16:  # "YYYY-MM-DDTHH:MM": include that whole minute
            moment += timedelta(minutes=1)
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Validate filters from a query string or form; Invalid (with field messages) on bad input."""
    errors: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for name in ("user", "entity", "case", "action"):
        raw = (args.get(name) or "").strip()
        if not raw:
            values[name] = None
        elif not _PATTERNS[name].fullmatch(raw):
            errors[name] = _("Use only letters, digits and - _ . characters.")
        else:
            values[name] = raw.upper() if name in ("entity", "case") else raw
    outcome = (args.get("outcome") or "").strip() or None
    if outcome is not None and outcome not in OUTCOMES:
        errors["outcome"] = _("Choose an outcome from the list.")
    bounds: dict[str, datetime | None] = {"since": None, "until": None}
    texts: dict[str, str | None] = {"since": None, "until": None}
    for name in ("since", "until"):
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            bounds[name] = _parse_moment(raw, end=name == "until")
            texts[name] = raw
        except ValueError:
            errors[name] = _("Enter a date as YYYY-MM-DD (or a date and time as YYYY-MM-DDTHH:MM).")
    if bounds["since"] and bounds["until"] and bounds["since"] >= bounds["until"]:
        errors["until"] = _("The end of the period must come after its start.")
    if errors:
        raise Invalid(_("Some filters are not valid."), field_errors=errors)
    return Filters(user=values["user"], entity=values["entity"], case=values["case"], action=values["action"],
                   outcome=outcome, since_text=texts["since"], until_text=texts["until"],
                   since=bounds["since"], until=bounds["until"])


# --- cursors ------------------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="audit-console-cursor")


def encode_cursor(direction: str, seq: int) -> str:
    return _serializer().dumps([direction, seq])


def decode_cursor(cursor: str | None) -> tuple[str | None, int | None]:
    if not cursor:
        return None, None
    try:
        direction, seq = _serializer().loads(cursor)
        if direction not in ("older", "newer") or not isinstance(seq, int):
            raise ValueError
    except (BadSignature, ValueError, TypeError):
        raise Invalid(_("This page link is not valid any more. Start again from the newest rows."),
                      field_errors={"cursor": _("Invalid page cursor.")}) from None
    return direction, seq


# --- queries ------------------------------------------------------------------------------------------------


def seq_bounds(since: datetime | None, until: datetime | None) -> tuple[int | None, int | None, bool]:
    """The seq range [lo, hi] of rows with since <= at < until, found with index probes; empty=True if none."""
    lo = hi = None
    if since is not None:
        first_at = db.session.scalar(select(func.min(AuditEvent.at)).where(AuditEvent.at >= since))
        if first_at is None:
            return None, None, True
        lo = db.session.scalar(select(func.min(AuditEvent.seq)).where(AuditEvent.at == first_at))
    if until is not None:
        last_at = db.session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.at < until))
        if last_at is None:
            return None, None, True
        hi = db.session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.at == last_at))
    if lo is not None and hi is not None and lo > hi:
        return lo, hi, True
    return lo, hi, False


# The columns a filter compares, by the filter's name.
_COMPARED = {"user": AuditEvent.actor, "entity": AuditEvent.actor_entity, "case": AuditEvent.object_ref,
             "action": AuditEvent.action, "outcome": AuditEvent.outcome}


@dataclass(frozen=True)
class Where:
    """A page's WHERE: which conditions apply (the filters given, by name, and whether the auditors' own views
    are hidden) and the values they are bound to. The statements are built once per shape (_conditions,
    page_statement), not once per request: building them cost a third of the console's read."""

    shape: tuple  # (names of the bound values, hide_audit_views)
    params: dict


def conditions(filters: Filters, *, hide_audit_views: bool = False) -> Where | None:
    """WHERE conditions for the filters, or None when the date range holds no rows."""
    params = {name: getattr(filters, name) for name in _COMPARED if getattr(filters, name)}
    lo, hi, empty = seq_bounds(filters.since, filters.until)
    if empty:
        return None
    if lo is not None:
        params["lo"] = lo
    if hi is not None:
        params["hi"] = hi
    return Where((tuple(params), hide_audit_views), params)


@functools.lru_cache(maxsize=128)
def _conditions(shape: tuple) -> tuple:
    names, hide_audit_views = shape
    conds = [_COMPARED[name] == bindparam(name) for name in names if name in _COMPARED]
    if hide_audit_views:
        conds.append(or_(AuditEvent.object_type.is_(None), AuditEvent.object_type != AUDIT_VIEW_TYPE))
    if "lo" in names:
        conds.append(AuditEvent.seq >= bindparam("lo"))
    if "hi" in names:
        conds.append(AuditEvent.seq <= bindparam("hi"))
    return tuple(conds)


# What a page shows of a row (not its MACs), read as plain rows: no ORM object to build, track in the session and
# detach from it before the view's own log row commits (a tenth of the console's time).
_SHOWN = (AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.actor_entity, AuditEvent.roles,
          AuditEvent.action, AuditEvent.object_type, AuditEvent.object_ref, AuditEvent.outcome, AuditEvent.ip,
          AuditEvent.request_id, AuditEvent.detail)


def page_statement(where: Where, direction: str | None, limit: int):
    """The keyset SELECT of one page of `limit` rows and one more (is there more?): the rows older ("older") or
    newer ("newer") than the bound parameter `bound`, or the newest. Exposed for EXPLAIN in tests and the
    benchmark; run it with page_params."""
    return _page_statement(where.shape, direction, limit)


@functools.lru_cache(maxsize=256)
def _page_statement(shape: tuple, direction: str | None, limit: int):
    stmt = select(*_SHOWN).where(*_conditions(shape))
    if direction == "newer":
        return stmt.where(AuditEvent.seq > bindparam("bound")).order_by(AuditEvent.seq.asc()).limit(limit + 1)
    if direction == "older":
        stmt = stmt.where(AuditEvent.seq < bindparam("bound"))
    return stmt.order_by(AuditEvent.seq.desc()).limit(limit + 1)


def page_params(where: Where, bound: int | None) -> dict:
    return {**where.params, "bound": bound} if bound is not None else where.params


@dataclass
class Page:
    items: list  # rows of _SHOWN
    older: str | None  # cursor of the next page of older rows
    newer: str | None  # cursor of the previous page of newer rows


def _page(filters: Filters, cursor: str | None, limit: int, *, hide_audit_views: bool = False) -> Page:
    limit = max(1, min(int(limit), MAX_LIMIT))
    audit.seal_all()  # every committed row, queued ones too (a no-op when the queue is empty)
    direction, bound = decode_cursor(cursor)
    where = conditions(filters, hide_audit_views=hide_audit_views)
    if where is None:
        return Page([], None, None)
    # through the session's connection (its transaction): columns, no ORM dispatch to go through
    rows = named_rows(db.session.connection().execute(page_statement(where, direction, limit),
                                                      page_params(where, bound)))
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "newer":
        rows.reverse()
    if not rows:
        return Page([], None, None)
    older = encode_cursor("older", rows[-1].seq) if (more or direction == "newer") else None
    newer = encode_cursor("newer", rows[0].seq) if (direction == "older" or (direction == "newer" and more)) else None
    return Page(rows, older, newer)


def _log_detail(filters: Filters, **extra) -> dict:
    detail = {"filters": filters.query_args()}
    detail.update(extra)
    return detail


def console_page(user, filters: Filters, cursor: str | None = None, limit: int | None = None,
                 *, via: str = "web") -> Page:
    """One page of the filtered log, newest first; the view itself is logged."""
    authz.require(user, "audit.read")
    page = _page(filters, cursor, limit or current_app.config.get("PAGE_SIZE", 50))
    audit.record("audit.console" if via == "web" else "audit.api", object_type=AUDIT_VIEW_TYPE,
                 object_ref=filters.case, detail=_log_detail(filters, rows=len(page.items)))
    commit_read()  # the auditor herself stays loaded: the page names her (was three statements more)
    return page


def read_page(user, args: Mapping[str, str], *, via: str = "web") -> tuple[Filters, Page]:
    """Check permission first (a non-auditor learns nothing, not even that a filter was invalid), then parse
    the filters, cursor and limit from query arguments and return one page."""
    authz.require(user, "audit.read")
    filters = parse_filters(args)
    limit = None
    raw_limit = (args.get("limit") or "").strip()
    if raw_limit:
        if not ascii_digits(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise Invalid(_("Some filters are not valid."),
                          field_errors={"limit": _("Enter a number from 1 to %(max)s.", max=MAX_LIMIT)})
        limit = int(raw_limit)
    return filters, console_page(user, filters, args.get("cursor") or None, limit, via=via)


def _csv_row(r) -> list:
    """One exported row in the order of CSV_COLUMNS."""
    local = r.at.replace(tzinfo=UTC).astimezone(BOGOTA)
    return [r.seq, r.at.isoformat(timespec="seconds") + "Z", local.isoformat(timespec="seconds"), r.actor,
            r.actor_entity, r.roles, label_list("role", r.roles), r.action, action_label(r.action), r.object_type,
            label("audit_object", r.object_type), r.object_ref, r.outcome, label("audit_outcome", r.outcome), r.ip,
            r.request_id, r.detail]


def export_csv(user, filters: Filters) -> Iterator[str]:
    """Log the export, then return a generator of CSV text for every filtered row (newest first, in batches)."""
    authz.require(user, "audit.read")
    # The rows' labels are written while streaming, after this request's session is gone: settle the language now.
    get_locale()
    audit.seal_all()
    audit.record("audit.export", object_type=AUDIT_VIEW_TYPE, object_ref=filters.case,
                 detail=_log_detail(filters, format="csv"))
    db.session.commit()
    where = conditions(filters)

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield buffer.getvalue()
        if where is None:
            return
        bound = None
        while True:  # the newest batch, then each one older than the last (pages of EXPORT_BATCH rows)
            stmt = page_statement(where, None if bound is None else "older", EXPORT_BATCH - 1)
            rows = db.session.execute(stmt, page_params(where, bound)).all()
            if not rows:
                break
            buffer.seek(0)
            buffer.truncate()
            for r in rows:
                writer.writerow([safe_text(v) for v in _csv_row(r)])
            yield buffer.getvalue()
            bound = rows[-1].seq
            db.session.rollback()  # end the read transaction between batches (no long-held snapshot)

    return generate()


def find_case(code: str) -> Case | None:
    if not _PATTERNS["case"].fullmatch(code or ""):
        return None
    return db.session.scalar(select(Case).where(Case.code == code.upper()))


@dataclass
class CaseHistory:
    code: str
    page: Page
    full: bool  # auditors see every column; the owning coordinator sees who, entity, action and when


def case_history(user, code: str, cursor: str | None = None, limit: int | None = None) -> CaseHistory:
    """Who read or changed a case and when: for auditors, and for the owning entity's coordinators."""
    case = find_case(code)
    if case is None:
        raise NotFound()
    authz.require(user, "case.access_history", case)
    full = authz.can(user, "audit.read")
    # A coordinator is not told which auditors are looking into the case.
    page = _page(Filters(case=case.code), cursor, limit or current_app.config.get("PAGE_SIZE", 50),
                 hide_audit_views=not full)
    if full:
        audit.record("audit.case_history", object_type=AUDIT_VIEW_TYPE, object_ref=case.code,
                     detail={"rows": len(page.items)})
    else:
        audit.record("case.access_history", case, detail={"rows": len(page.items)})
    db.session.commit()
    return CaseHistory(case.code, page, full)
