"""Reading the registry: one case, its summary by need-to-know section, the list, the exact search.

Every read goes through authz and writes the access log, where a case is named by its code and a search by
its kind, never by a name or a number.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.cases import (
    CASE_STATUSES,
    Case,
    JsonRows,
)
from caseapp.models.joined_read import JoinedRead
from caseapp.models.victims import (
    DOCUMENT_TYPES,
    Victim,
)
from caseapp.services.casework import assignments
from caseapp.services.primitives import (
    blank,
    commit_read,
    read_case,
)
from caseapp.services.registry.fields import ACCOUNT_FIELDS, IDENTITY_FIELDS, STAT_FIELDS
from caseapp.services.registry.identity import _bidx, _document_key, _name_key, _phone_key, candidates_page
from caseapp.services.registry.listing import ListedCase, listed_page
from caseapp.services.registry.places import places_of

# --- reading ----------------------------------------------------------------------------------------------


# All in the case's statement: consents and flags joined, a few rows each, so their product is too (a selectin load
# of the consents was a statement of its own); the purposes as a JSON column (Case.purposes_shown), neither joined
# (through their association table they made the statement take 75 ms on SQLite at 100,000 cases) nor a selectin
# load of objects (a statement of their own)
_JOINED = ("consents", "screening", "safety_flags")
CASE_READ = JoinedRead(Case, "code", _JOINED, ("purposes_shown",))
# What the case page shows beside what every read of a case loads (CASE_READ), columns of the same statement: the
# entities its consent form offers, its professionals (a statement each on their own: a round trip each on
# PostgreSQL). The API's read shows neither.
CASE_PAGE = JoinedRead(Case, "code", _JOINED, ("purposes_shown", "sharing_entities_shown", assignments.SHOWN_WITH_CASE))


@dataclass(frozen=True)
class ShownPurpose:
    code: str
    label_es: str
    label_en: str


def shown_purposes(case: Case) -> list[ShownPurpose]:
    """The case's purposes of exploitation as a page shows them, by id: from the column its load brought
    (Case.purposes_shown, get_case's), else from Case.purposes (a load of their own)."""
    shown = case.__dict__.get("purposes_shown", _NOT_LOADED)
    if shown is _NOT_LOADED:
        rows = [(p.id, p.code, p.label_es, p.label_en) for p in case.purposes]
    else:
        rows = JsonRows.parse(shown)
    return [ShownPurpose(code, label_es, label_en) for _id, code, label_es, label_en in sorted(rows)]


_NOT_LOADED = object()


def get_case(actor, code: str, draw=None, read: JoinedRead = CASE_READ):
    """The case by code, if the actor may read it (404 otherwise: its existence is not told). Its consents and screening
    come with it: every reader of a case shows them (CASE_READ); `read`: what else the caller shows of it, joined in
    the same statement (CASE_PAGE).

    `draw(case)`: what the caller shows of it (the case page, the API's body), made before the access-log row is
    written and returned in the case's place. Its reads (the timeline, the professionals, the attachments) then share
    the read's transaction: drawn after the row's commit, they opened a second one (on PostgreSQL its BEGIN, and its
    rollback with the check before it: three round trips more). The row is still committed before anything leaves
    the server: a draw that fails, or a row that cannot be committed, shows nothing (the error page is logged)."""
    case = read_case(code, read)
    authz.require(actor, "case.read", case)
    if draw is None:
        shown = case
    else:
        case_code = case.code  # read now: a draw that fails may leave the case expired on a lost connection
        try:
            shown = draw(case)
        except Exception:
            _log_undrawn(actor, case_code)
            raise
    audit.record("case.view", case, actor=actor)
    commit_read()
    return shown


def _log_undrawn(actor, code: str) -> None:
    """A read allowed whose page failed to draw: nothing of it was shown, and the log still names the case (an
    auditor asks who tried to open which case). Never hides the failure it follows: if the row cannot be written
    either, the error page says so for both."""
    try:
        audit.record_and_commit("case.view", object_type="case", object_ref=code, outcome="error", actor=actor)
    except Exception:  # noqa: BLE001 - the draw's own exception is the one raised
        db.session.rollback()


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def case_summary(actor, case: Case) -> dict:
    """A plain dict of the sections of `case` the actor may see: identity and contact only with the identity
    section, her account of events (and her reasons for declining assistance) only with the account section."""
    sections = authz.case_sections(actor, case)
    if not sections:
        return {"code": case.code}
    victim = case.victim
    consents = authz.consents_seen_by(actor, case)  # a receiving entity sees no consent to share with another one
    out = {
        "code": case.code,
        "status": case.status,
        "version": case.version,
        "owner_entity": case.owner_entity.code,
        "owner_entity_name": case.owner_entity.name,
        "identified_on": _iso(case.identified_on),
        "identification_source": case.identification_source,
        "intake_on": _iso(case.intake_on),
        "immediate_closed_on": _iso(case.immediate_closed_on),
        "linked_on": _iso(case.linked_on),
        "closed_on": _iso(case.closed_on),
        "closure_reason": case.closure_reason,
        "trafficking_scope": case.trafficking_scope,
        "victim_status": case.victim_status,
        "is_child": case.is_child,
        "child_referral_required": case.child_referral_required,
        "declined_assistance": case.declined_assistance,
        "exploitation_purposes": [{"code": p.code, "label": p.label_es} for p in shown_purposes(case)],
        "control_methods": case.control_method_list,
        **places_of(case),
        "erased": victim.erased,
        "statistics": {k: getattr(victim, k) for k in STAT_FIELDS},
        "consents": [
            {"id": c.id, "kind": c.kind, "entity": c.entity.code if c.entity else None, "given_on": _iso(c.given_on),
             "method": c.method, "withdrawn_on": _iso(c.withdrawn_on), "version": c.version}
            for c in consents
        ],
        "screening": None,
        "sections": sorted(sections),
        # Withdrawn assistance consent takes her out of the programme's counts from that date on.
        "assistance_consent_withdrawn_on": _iso(withdrawn_assistance(case)),
    }
    if case.screening is not None:
        s = case.screening
        out["screening"] = {"acts": [a for a in s.acts.split(",") if a], "means": [m for m in s.means.split(",") if m],
                            "purpose_present": s.purpose_present, "screened_on": _iso(s.screened_on),
                            "version": s.version}
    if "identity" in sections:
        out["identity"] = {k: (None if victim.erased else getattr(victim, k)) for k in IDENTITY_FIELDS
                           if k not in ACCOUNT_FIELDS}
        for consent, row in zip(out["consents"], consents, strict=True):
            consent["representative"] = None if victim.erased else row.representative
    if "account" in sections:
        out["account"] = {"narrative": None if victim.erased else victim.narrative,
                          "declined_reasons": None if victim.erased else case.declined_reasons}
    return out


def withdrawn_assistance(case: Case):
    """The date her consent to assistance was withdrawn, when none is in force any more (else None)."""
    if case.active_consent("assistance") is not None:
        return None
    dates = [c.withdrawn_on for c in case.consents if c.kind == "assistance" and c.withdrawn_on is not None]
    return max(dates) if dates else None


def _page_size(limit) -> int:
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 50
    return max(1, min(limit, 200))


def list_cases(actor, *, cursor=None, status=None, limit=50) -> tuple[list[ListedCase], int | None]:
    """A page of the cases the actor may see, newest first (keyset on id); next_cursor is None at the end."""
    authz.require(actor, "case.search")
    limit = _page_size(limit)
    if status is not None and status not in CASE_STATUSES:
        raise Invalid(_("Choose from the list."), field_errors={"status": _("Choose from the list.")})
    params = {}
    if cursor not in (None, ""):
        try:
            cursor = int(cursor)
            # ids are 32-bit integers (PostgreSQL's integer): a larger cursor is no page of ours, refused alike on
            # both databases (PostgreSQL could not even compare it with an id)
            if not 0 < cursor < 2**31:
                raise ValueError
        except (TypeError, ValueError):
            raise Invalid(_("The page reference is not valid."), field_errors={"cursor": _("The page reference is not valid.")}) from None
        params["cursor"] = cursor
    rows = listed_page(actor, authz.newest_visible_cases(actor, limit + 1, status, below_cursor="cursor" in params),
                       params)
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    audit.record("case.list", actor=actor, object_type="case", detail={
        "count": len(rows), "status": status, "codes": [c.code for c in rows],
    })
    commit_read()
    return rows, next_cursor


SEARCH_KINDS = ("document", "name", "phone", "code")


@functools.lru_cache(maxsize=512)  # per authz.visible_cases' statement: built once (building costs more than running)
def _search_by_code(visible):
    return visible.where(Case.code == bindparam("code"))


def _matching(actor, visible, column, value: int | None, compared: tuple[str, ...], keep) -> list[ListedCase]:
    """The rows of the visible cases whose blind index `column` is `value` and that `keep` keeps (no value: none)."""
    if value is None:
        return []
    return listed_page(actor, candidates_page(visible, column.key), {"blind_index": value}, compared=compared,
                       keep=keep)


def search_cases(actor, *, document_type=None, document_number=None, name=None, phone=None, code=None) -> list[ListedCase]:
    """Exact search by one of document (type + number), full name, phone or case code, among visible cases."""
    authz.require(actor, "case.search")
    given = {k: v for k, v in (("document", document_number), ("name", name), ("phone", phone), ("code", code))
             if not blank(v)}
    if len(given) != 1 or any(not isinstance(v, str) or len(v) > 400 for v in given.values()):
        raise Invalid(_("Search by one thing: document, full name, phone or case code."))
    kind, value = next(iter(given.items()))
    # A search by identity runs only over cases whose identity the actor may see (referrals may not share it).
    visible = authz.visible_cases(actor, section=None if kind == "code" else "identity")
    # the results are the list's rows (services.registry.listing), with their flags, never their purposes; a
    # candidate found by its blind index is kept only if her field, decrypted, is the one searched for
    if kind == "document":
        if document_type not in DOCUMENT_TYPES or document_type == "NONE":
            raise Invalid(_("Choose the type of the document."), field_errors={"document_type": _("Choose from the list.")})
        key = _document_key(document_type, value)
        found = _matching(actor, visible, Victim.document_bidx, _bidx("victims/document", key),
                          ("document_type", "document_number"),
                          lambda v: _document_key(v.document_type, v.document_number) == key)
    elif kind == "name":
        key = _name_key(value, "")
        found = _matching(actor, visible, Victim.name_bidx, _bidx("victims/name", key) if key else None, (),
                          lambda v: _name_key(v.given_names, v.family_names) == key)
    elif kind == "phone":
        key = _phone_key(value)
        found = _matching(actor, visible, Victim.phone_bidx, _bidx("victims/phone", key) if key else None,
                          ("phone",), lambda v: _phone_key(v.phone) == key)
    else:
        found = listed_page(actor, _search_by_code(visible), {"code": value.strip().upper()})
    audit.record("case.search", actor=actor, object_type="case", detail={
        "by": kind, "count": len(found), "codes": [c.code for c in found],
    })
    commit_read()
    return found
