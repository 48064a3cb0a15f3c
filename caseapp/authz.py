"""The only policy code (DESIGN.md section 5): can(), require(), scoped queries, and a view decorator.

Services call require() before acting, so the web, the API and the CLI cannot disagree.

Another entity sees a case only through an accepted referral whose basis for sharing is in force now — the
victim's consent to share with that entity (withdrawing it cuts access at once: from the next transaction), the
mandatory referral of a child to ICBF, or a coordinator's recorded override — and only the sections that referral
shares. It may record the service it was asked for (referral.fulfil) and change nothing else: writing a case is its
owner's. A request reads what a referral shares once (_shared_with), so its page is drawn from one answer: a
withdrawal committed while it is drawn applies to the next request, as it always did on SQLite, whose reads see
one snapshot; on PostgreSQL each of the page's twenty questions saw the latest commit, and half a page could
follow the old answer and half the new.
"""
from __future__ import annotations

import functools
from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import and_, bindparam, exists, or_, select, union
from sqlalchemy.orm import aliased, lazyload
from werkzeug.local import LocalProxy

from caseapp.database import read_memo
from caseapp.errors import Forbidden, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import CASE_ROLES, User
from caseapp.models.assignments import CaseAssignment
from caseapp.models.attachments import ATTACHMENT_SECTIONS
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import SHARED_SECTIONS, Referral
from caseapp.models.route import StepKind

ALL_SECTIONS = frozenset(SHARED_SECTIONS)
_ChildCase = aliased(Case)  # the referred case, inside a condition on Referral that may sit under a query on Case

# Sections each case role may see at all, whatever the entity (DESIGN.md section 5).
ROLE_SECTIONS = {
    "social_worker": frozenset({"identity", "account", "summary", "psychosocial", "legal"}),
    "lawyer": frozenset({"identity", "account", "summary", "legal"}),
}

# Actions that need only a role (no object).
ROLE_ACTIONS = {
    "case.create": {"social_worker"},
    "case.search": {"social_worker", "lawyer"},
    "route.agenda": {"social_worker", "lawyer"},
    "referral.inbox": {"social_worker", "lawyer"},
    "route.table_list": {"social_worker", "lawyer"},
    "shelter.view": {"social_worker"},
    "stats.read": {"coordinator"},
    "plans.enter": {"coordinator"},
    "audit.read": {"auditor"},
    "admin.manage": {"admin"},
    "erasure.approve": {"admin"},
    "case.reassign_bulk": {"admin"},  # within the admin's own entity (services.casework.assignments)
    "case.my_cases": {"social_worker", "lawyer"},
}


def real_user(user):
    """The user behind Flask-Login's `current_user` proxy, which views pass: every attribute read through the proxy
    goes through Werkzeug's and Flask-Login's lookups again, and a case page reads a hundred."""
    return user._get_current_object() if type(user) is LocalProxy else user


def case_sections(user, case: Case) -> frozenset[str]:
    """The sections of `case` that `user` may read (empty: the user may not know the case exists)."""
    user = real_user(user)
    if user is not None and case.owner_entity_id == getattr(user, "entity_id", None):
        return _owner_sections(user)  # without sections_of_cases' lists and dictionaries: a case page asks ~20 times
    return sections_of_cases(user, [case])[case.id]


def _owner_sections(user) -> frozenset[str]:
    """What the owning entity's staff read of its cases: their roles' sections (both paths ask here; another
    entity's reader gets at most these, narrowed to what its referrals share)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return _role_sections(user.roles)


@functools.cache
def _role_sections(roles: frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(ROLE_SECTIONS.get(r, frozenset()) for r in roles))


def sections_of_cases(user, cases) -> dict[int, frozenset[str]]:
    """case_sections of several cases by id, with one statement for all those of other entities (a list page asked
    once a row: two statements for each referred case)."""
    user = real_user(user)
    by_role = frozenset() if user is None else _owner_sections(user)
    if not by_role:
        return {c.id: frozenset() for c in cases}
    referred = [c.id for c in cases if c.owner_entity_id != user.entity_id]
    shared = _shared_with(user.entity_id, referred) if referred else {}
    return {c.id: by_role if c.owner_entity_id == user.entity_id else by_role & shared[c.id] for c in cases}


def _shared_with(entity_id: int, case_ids: list[int]) -> dict[int, frozenset[str]]:
    """The sections the entity's live referrals of these cases share, by case: read once a transaction for each
    case, until it writes (database.read_memo). A case page asked about twenty times, a statement each, for a
    reader of another entity (its forms, its attachments' kinds, its timeline)."""
    session = db.session()
    if session.new or session.dirty or session.deleted:  # a query would flush them first: ask it
        memo = {}
    else:
        memo = read_memo(session.connection())
    missing = [i for i in case_ids if (entity_id, i) not in memo]
    if missing:
        shared = dict.fromkeys(missing, frozenset())
        for referral in _live_referrals_to(entity_id, missing):
            shared[referral.case_id] |= referral.sections
        memo.update({(entity_id, i): sections for i, sections in shared.items()})
    return {i: memo[(entity_id, i)] for i in case_ids}


def identity_readable(user, cases) -> set[int]:
    """The ids of the cases whose victim's identity `user` may read: can(user, "case.identity.read", case) for a
    whole list at once."""
    return {case_id for case_id, sections in sections_of_cases(user, cases).items() if "identity" in sections}


def sharing_in_force():
    """SQL: the referral (Referral) has a basis for sharing now — the mandatory one to ICBF while the case is a
    child's, a coordinator's override, or the victim's consent to share with the receiving entity, not withdrawn."""
    consent = _per_referral(select(Consent.id).where(
        Consent.case_id == Referral.case_id, Consent.kind == "sharing", Consent.entity_id == Referral.to_entity_id,
        Consent.withdrawn_on.is_(None)))
    child = _per_referral(select(_ChildCase.id).where(_ChildCase.id == Referral.case_id, _ChildCase.is_child.is_(True)))
    return or_(and_(Referral.mandatory.is_(True), child), Referral.consent_override_by_id.is_not(None), consent)


def _per_referral(subquery):
    """EXISTS asked of each referral through its index, never answered by hashing the whole table first.

    Every statement here reaches few referrals (a case's, a page's), but PostgreSQL, guessing hundreds, read all
    49,000 sharing consents into a hash for the case list's first page (16 of its 20 ms; 2.5 ms asked per referral).
    An OFFSET keeps it from turning the EXISTS into that hash (a subquery with one is not simplified into a join
    or a hashed lookup); it changes nothing else, on either database."""
    return subquery.offset(0).exists()


def live_referral(*conditions):
    """SQL: an accepted referral, with its basis for sharing in force, meeting `conditions`."""
    return and_(Referral.status == "accepted", sharing_in_force(), *conditions)


def accepted_referrals(case: Case, entity_id: int) -> list[Referral]:
    """The referrals through which the entity sees the case now (accepted, sharing still in force)."""
    return _live_referrals_to(entity_id, [case.id])


def _live_referrals_to(entity_id: int, case_ids) -> list[Referral]:
    """The live referrals of these cases to the entity, in one statement. Their cases are the caller's, already
    loaded: not joined again (with the purposes a case's load brings)."""
    return list(db.session.scalars(select(Referral).options(lazyload(Referral.case)).where(
        live_referral(Referral.case_id.in_(case_ids), Referral.to_entity_id == entity_id))))


def can(user, action: str, obj=None) -> bool:
    user = real_user(user)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if action in ROLE_ACTIONS:
        return user.has_role(*ROLE_ACTIONS[action])
    if isinstance(obj, Case):
        sections = case_sections(user, obj)
        owner = obj.owner_entity_id == user.entity_id
        match action:
            case "case.read":
                return bool(sections)
            case "case.identity.read":
                return "identity" in sections
            case "case.account.read":
                return "account" in sections
            case "case.update" | "case.consent" | "case.close" | "case.erase.request":
                return owner and user.has_role("social_worker")
            case "case.refer":
                return owner and user.has_role(*CASE_ROLES)
            case "case.psychosocial.read":
                return "psychosocial" in sections
            case "case.psychosocial.write":
                return owner and "psychosocial" in sections and user.has_role("social_worker")
            case "case.legal.read":
                return "legal" in sections
            case "case.legal.write":
                return owner and "legal" in sections and user.has_role("lawyer")
            case "case.legal_notes.read":
                return "legal" in sections and user.has_role("lawyer")
            case "case.access_history":
                return user.has_role("auditor") or (owner and user.has_role("coordinator"))
            case "referral.override_consent":
                return owner and user.has_role("coordinator")
            case "case.assign":
                return can_assign(user, obj)
            # Family members (services.family): their identity goes with the victim's identity section.
            case "case.family.read":
                return "identity" in sections
            case "case.family.write":
                return owner and "identity" in sections and user.has_role("social_worker")
            # Safety flags (services.safety): every reader of the case sees which flags are in force; the owner's
            # professionals set and clear them and read their reasons.
            case "case.safety.set" | "case.safety.reasons":
                return owner and bool(sections) and user.has_role(*CASE_ROLES)
    if isinstance(obj, Referral):
        match action:
            case "referral.answer":
                return obj.to_entity_id == user.entity_id and user.has_role(*CASE_ROLES)
            case "referral.withdraw":
                return obj.from_entity_id == user.entity_id and user.has_role(*CASE_ROLES)
            case "referral.read":
                return user.entity_id in (obj.from_entity_id, obj.to_entity_id) and user.has_role(*CASE_ROLES)
            case "referral.fulfil":
                kind = _service_kind(obj.service)  # an active kind, recorded by one of her roles
                return (obj.to_entity_id == user.entity_id and kind is not None and kind.active
                        and user.has_role(*kind.recorder_roles) and obj in accepted_referrals(obj.case, user.entity_id))
    return False


def owner_staff(entity=None):
    """SQL (on CaseAssignment, with User in scope, and Case unless `entity` is given): an open assignment of an
    active user of the case's owning entity (or of the entity `entity`, for the cases it owns) — those who keep a
    case staffed. A receiving entity's professional does not: her access ends with the referral, and the case must
    not fall out of its owner's hands with it. The one definition of a staffed case: can_assign, the case page's
    professionals (services.casework.assignments.professionals, which feeds can_assign its column) and the
    unassigned cases of "Mis casos" (services.followup.my_cases) all use it."""
    return and_(CaseAssignment.ended_at.is_(None), User.id == CaseAssignment.user_id, User.active.is_(True),
                User.entity_id == (Case.owner_entity_id if entity is None else entity))


def can_assign(user, case: Case, staff=None) -> bool:
    """can(user, "case.assign", case): assign and unassign the professionals of a case (its owner's): a professional
    assigned to it; or, when no active professional of the owning entity is assigned (hers left or was
    deactivated), any professional of the owning entity, so that the case is picked up rather than lost. The
    entity's admin moves cases in bulk (case.reassign_bulk).
    `staff`: the ids of those who keep the case staffed (owner_staff), when the caller has read them already (the
    case page's professionals): all of them, never a part (an empty list means nobody staffs it, and then any of
    the owner's professionals may assign). Read here when not given."""
    user = real_user(user)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if case.owner_entity_id != user.entity_id or not user.has_role(*CASE_ROLES):
        return False
    users = set(db.session.scalars(_staff_of_case(), {"case_id": case.id}) if staff is None else staff)
    return user.id in users or not users


@functools.cache
def _staff_of_case():
    """can_assign's statement, built once (a case page asks it; building it cost more than running it)."""
    return select(CaseAssignment.user_id).where(CaseAssignment.case_id == bindparam("case_id"),
                                                Case.id == CaseAssignment.case_id, owner_staff())


def _service_kind(code: str):
    return db.session.scalar(select(StepKind).where(StepKind.code == code))


def can_record_step(user, case: Case, kind) -> bool:
    """Record a step of `kind` on the case: its owner's professionals in a role that records that kind, with
    the kind's section in view (a receiving entity records only its referral's service: referral.fulfil)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (case.owner_entity_id == user.entity_id and user.has_role(*kind.recorder_roles)
            and kind.section in case_sections(user, case))


def can_read_step_notes(user, case: Case, kind) -> bool:
    """A step's notes: whoever may record that kind on the case; the legal ones otherwise only for lawyers."""
    if can_record_step(user, case, kind):
        return True
    action = "case.legal_notes.read" if kind.section == "legal" else "case.psychosocial.read"
    return can(user, action, case)


def referral_carries_flags(user, referral) -> bool:
    """Whether the case's safety flags show with `referral` (inbox, referral page, API) to `user`. A flag travels
    with any referral while it is open - sent (she may be received) or accepted (she is) - whatever sections it
    shares; once rejected, withdrawn, done or ended, its receiver learns nothing new of her. The owning entity sees
    them on every referral of its case."""
    return referral.status in ("sent", "accepted") or referral.case.owner_entity_id == user.entity_id


def referral_details_visible(user, referral) -> bool:
    """Whether `user` reads a referral's free text (its reason, the answer, why it was withdrawn): the sending
    entity always; the receiving entity while its access lasts - once the referral was withdrawn or ended (consent
    withdrawn), it keeps only the fact, never why (the reason may name her, or say what she fears)."""
    return referral.status not in ("ended", "withdrawn") or referral.from_entity_id == user.entity_id


# Attachments (services.attachments): who uploads each kind; who reads them is readable_attachment_kinds.
ATTACHMENT_UPLOADERS = {
    "consent": {"social_worker"}, "acta_unica": {"social_worker"}, "identity_document": {"social_worker", "lawyer"},
    "court_order": {"lawyer"}, "other": {"social_worker", "lawyer"},
}


def readable_attachment_kinds(user, case: Case) -> frozenset[str]:
    """The one rule for reading attachments (list, download, the case page; web, API): the kinds of the case's
    documents `user` may see and download, with the name each was uploaded with.

    A scan names her whatever its kind (an acta única or a court order carries her name and cédula), so every
    kind needs the identity section, and its own section too. The section comes from the kind, which the
    ciphertext is bound to (AES-GCM associated data); the stored `section` column is never trusted here.
    """
    sections = case_sections(user, case)
    if "identity" not in sections:
        return frozenset()
    kinds = frozenset(kind for kind, section in ATTACHMENT_SECTIONS.items() if section in sections)
    # A signed consent names every entity she agreed to share with, which a receiving entity is not told
    # (consents_seen_by): its scan stays with the owning entity.
    return kinds if case.owner_entity_id == user.entity_id else kinds - {"consent"}


def can_read_attachment(user, case: Case, kind: str) -> bool:
    return kind in readable_attachment_kinds(user, case)


def can_attach(user, case: Case, kind: str, section: str) -> bool:
    """Upload a document of `kind` to the case: the owner's professionals in a role that keeps that kind, with its
    section in view (a receiving entity only reads what its referral shares)."""
    user = real_user(user)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (case.owner_entity_id == user.entity_id and user.has_role(*ATTACHMENT_UPLOADERS.get(kind, ()))
            and section in case_sections(user, case))


def require_attach(user, case: Case, kind: str, section: str) -> None:
    if can_attach(user, case, kind, section):
        return
    g.audit_denial = {"action": "case.attachment.upload", "obj": case}
    if not case_sections(user, case):
        raise NotFound()
    raise Forbidden()


def require_attachment_read(user, case: Case, kind: str) -> None:
    """An attachment she may not read is absent to her (404), like a case she may not see."""
    if can_read_attachment(user, case, kind):
        return
    g.audit_denial = {"action": "case.attachment.download", "obj": case}
    raise NotFound()


def require(user, action: str, obj=None) -> None:
    """Raise unless allowed. A case the user may not read at all is NotFound (its existence is not told)."""
    if can(user, action, obj):
        return
    g.audit_denial = {"action": action, "obj": obj}
    if isinstance(obj, Case) and not case_sections(user, obj) and not can(user, "case.access_history", obj):
        raise NotFound()
    raise Forbidden()


def visible_cases(user, section: str | None = None):
    """A select() of the cases the user may see in lists and searches: own entity's, plus accepted referrals.

    With `section`, a referred case counts only when its referral shares that section: a search by document,
    name or phone passes section="identity", so that a receiving entity cannot confirm who a referred victim
    is by guessing her identity when the referral did not share it.

    The same select() object for the same answer (entity, section, whether she may see any): callers may cache
    what they build on it (services.registry), and SQLAlchemy keys its compiled SQL on it once.
    """
    return _visible(*_seeing(user, section))


def _seeing(user, section: str | None) -> tuple[int | None, str | None]:
    """(the entity whose cases she sees, the section asked), or (None, None) when she sees none."""
    if not user.has_role(*CASE_ROLES):
        return None, None
    if section is not None and not any(section in ROLE_SECTIONS.get(r, ()) for r in user.roles):
        return None, None
    return user.entity_id, section


def newest_visible_cases(user, limit: int, status: str | None = None, below_cursor: bool = False):
    """visible_cases(user), newest first, at most `limit` of them: in `status` only, if given; with `below_cursor`,
    only ids below the bind parameter `cursor` (the page after one that ended there). The same select() object for
    the same arguments and entity.

    visible_cases' condition, walked in id order, reads every case from the newest until `limit` of them are hers: an
    entity that sees few of them read most of the table to fill a page (all 101,000 cases, 53 ms, for one that sees
    none). Here the candidates are read from two short index ranges, her entity's own cases and the cases referred
    to it, and visible_cases' condition is still applied to them: the candidates only narrow what it allows."""
    return _newest(_seeing(user, None)[0], limit, status, below_cursor)


@functools.lru_cache(maxsize=2048)  # entities × statuses × (first page, later page) × page sizes
def _newest(entity_id: int | None, limit: int, status: str | None, below_cursor: bool):
    visible = _visible(entity_id, None)
    conditions = ([Case.status == status] if status is not None else []) + (
        [Case.id < bindparam("cursor")] if below_cursor else [])
    if entity_id is None:
        return visible.where(*conditions).order_by(Case.id.desc()).limit(limit)
    owned = (select(Case.id.label("id")).where(Case.owner_entity_id == entity_id, *conditions)
             .order_by(Case.id.desc()).limit(limit).subquery("owned"))
    referred = (select(Referral.case_id.label("id")).join(Case, Case.id == Referral.case_id)
                .where(live_referral(Referral.to_entity_id == entity_id), *conditions)
                # one row per case: a case referred to her twice must not take two of the `limit` places, or the case
                # after it could fall off a page that then looks like the last
                .group_by(Referral.case_id).order_by(Referral.case_id.desc()).limit(limit).subquery("referred"))
    candidates = union(select(owned.c.id), select(referred.c.id))
    return visible.where(Case.id.in_(candidates), *conditions).order_by(Case.id.desc()).limit(limit)


def sees_cases(user, section: str | None = None):
    """SQL (on Case): the condition of visible_cases, for a statement that joins Case itself: `IN (visible_cases)`
    has the database list every case she may see first (40 ms at an entity of 20,000, even to find no row)."""
    return visible_cases(user, section).whereclause


@functools.lru_cache(maxsize=512)  # entities × (no section, each section): a city has dozens of entities
def _visible(entity_id: int | None, section: str | None):
    if entity_id is None:
        return select(Case).where(Case.id.is_(None))
    conditions = [Referral.case_id == Case.id, Referral.to_entity_id == entity_id]
    if section is not None:
        # shared_sections is a comma-separated list of fixed section names
        conditions.append(("," + Referral.shared_sections + ",").contains("," + section + ","))
    return select(Case).where(or_(Case.owner_entity_id == entity_id, exists().where(live_referral(*conditions))))


def consents_seen_by(user, case: Case) -> list[Consent]:
    """The consents of a case a reader sees, on every path (case page, API, timeline, printable summary): all of
    them for the owning entity; for a receiving entity, her consents to assistance and data processing and her
    consent to share with that entity, never with another one (which entities she agreed to share with is the
    owner's to know). `case.consents` is loaded once with the case (registry.get_case)."""
    rows = case.consents
    if case.owner_entity_id == user.entity_id:
        return list(rows)
    return [c for c in rows if c.entity_id is None or c.entity_id == user.entity_id]


def referrals_seen_by(user, case: Case):
    """SQL: the referrals of a case a reader sees: all of them for the owning entity, else only those to or from
    her own entity (another receiving entity's referral is none of hers)."""
    return select(Referral).where(referrals_seen(case.id, referral_party(user, case)))


def referral_party(user, case: Case) -> int | None:
    """The entity whose referrals of `case` the reader sees (those to or from it); None: the owner's, who sees all."""
    return None if case.owner_entity_id == user.entity_id else user.entity_id


def referrals_seen(case_id, party):
    """SQL: the referrals of the case `case_id` seen by a reader whose referral_party is `party` (values or bind
    parameters; `party` None only as a value). The one condition of referrals_seen_by and of the timeline."""
    mine = Referral.case_id == case_id
    return mine if party is None else and_(mine, or_(Referral.to_entity_id == party, Referral.from_entity_id == party))


def role_required(*roles: str):
    """View decorator: 403 (logged by the error handler) unless the user has one of the roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if not current_user.has_role(*roles):
                g.audit_denial = {"action": "view:" + view.__name__, "obj": None}
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def action_required(action: str):
    """View decorator for role-only actions from ROLE_ACTIONS."""
    return role_required(*ROLE_ACTIONS[action])
