"""Who a victim is, without decrypting everyone: blind indexes, exact comparison of candidates, duplicates.

A search or a duplicate check reads the blind index (a truncated keyed hash), decrypts only the candidates it
returns and compares them exactly; the access log names the kind of check, never the value looked for.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.orm.attributes import flag_modified

from caseapp import audit, authz, crypto
from caseapp.errors import Conflict
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import (
    Case,
)
from caseapp.models.keys import DataKey
from caseapp.models.victims import IdentityColumns, Victim
from caseapp.services.registry import index_width
from caseapp.services.registry.fields import validate_case_data
from caseapp.timeutil import utcnow


class PossibleDuplicate(Conflict):
    """A case for the same person may already exist: `hints` names the entities to contact, nothing else."""

    def __init__(self, message: str = "", *, hints: list[dict] | None = None, withheld: bool = False,
                 matched_on: list[str] | None = None):
        super().__init__(message, rule="possible_duplicate")
        self.hints = hints or []
        self.withheld = withheld  # another entity matched, but the user had her day's share of such hints
        self.matched_on = matched_on or []  # what matched (MATCH_ORDER codes), for the hints shown

# A hint that another entity holds a case answers "is this document a victim's, and where?": at most this many
# a day per user (config DUPLICATE_HINTS_PER_DAY), counted in the access log so every app server sees the same.
CROSS_ENTITY_HINT = "case.duplicate_hint.other_entity"
HINTS_PER_DAY = 5



# --- blind indexes and duplicates -------------------------------------------------------------------------


def _document_key(doc_type, number):
    if not doc_type or doc_type == "NONE" or not number:
        return None
    return crypto.normalise_document(doc_type, number)


def _name_key(given, family):
    text = crypto.normalise_text(f"{given or ''} {family or ''}")
    return text or None


def _phone_key(phone):
    digits = crypto.normalise_phone(phone) if phone else ""
    return digits or None


def _bidx(purpose: str, normalised: str | None, bits: int | None = None) -> int | None:
    """The blind index at the deployment's recorded width (index_width), or at `bits`."""
    if not normalised:
        return None
    return crypto.blind_index(purpose, normalised, bits=index_width.bits() if bits is None else bits)


def blind_indexes(victim: Victim, bits: int) -> dict[str, int | None]:
    """Her blind indexes at `bits`, by column."""
    return {
        "document_bidx": _bidx("victims/document", _document_key(victim.document_type, victim.document_number), bits),
        "name_bidx": _bidx("victims/name", _name_key(victim.given_names, victim.family_names), bits),
        "phone_bidx": _bidx("victims/phone", _phone_key(victim.phone), bits),
    }


def _reindex(victim: Victim, bits: int | None = None) -> None:
    """Her blind indexes, at `bits` or at the width read under index_width's lock."""
    if bits is None:
        bits = index_width.bits_to_write()
    for column, value in blind_indexes(victim, bits).items():
        setattr(victim, column, value)
        # Written even when equal to what was loaded: a reindex may have rewritten it since (at another width).
        flag_modified(victim, column)


# At most this many cases are read per blind-index value (a search's answer, each of the duplicate check's reads).
CANDIDATES = 500


def _index_matches(column, parameter: str) -> tuple:
    """A candidate (of a search or of the duplicate check): a victim whose blind index `column` has the value bound
    to `parameter`, and whose identity was not erased."""
    return column == bindparam(parameter), Victim.erased.is_(False)


@functools.lru_cache(maxsize=1024)  # (authz.visible_cases' statement, which index): built once, keyed once
def candidates_page(visible, column_key: str):
    """A search's candidates: the cases of `visible` whose victim's blind index `column_key` has the value bound to
    `blind_index`, newest first, at most CANDIDATES (services.registry.listing reads their rows)."""
    return (visible.join(Case.victim).where(*_index_matches(getattr(Victim, column_key), "blind_index"))
            .order_by(Case.id.desc()).limit(CANDIDATES))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A case the duplicate check compares, and names if she matches: its code and entity, her compared fields."""
    id: int
    code: str
    owner_entity_id: int
    owner_code: str
    owner_name: str
    victim: IdentityColumns


def _duplicate_candidates(document_bidx: int | None, name_bidx: int | None) -> dict[str, list[Candidate]]:
    """The cases of every entity whose victim's document or name blind index matches, newest first, by the index
    that found them: one statement for both (it was one each), each index read under its own limit as before, and
    a case compared on a kind only if that kind's read found it (a case found by both comes once for each).

    Read as columns: most candidates are namesakes or index collisions (the bench's registrations meet about thirty),
    and a case, her victim, data key and entity as objects for each cost more than the statement, to compare six
    fields and name an entity."""
    found: dict[str, list[Candidate]] = {"document": [], "name": []}
    if document_bidx is not None or name_bidx is not None:
        # through the session's connection: the check runs before the registration adds anything to flush
        rows = db.session.connection().execute(_duplicate_candidates_statement(),
                                               {"document_bidx": document_bidx, "name_bidx": name_bidx})
        for (id_, code, owner_id, owner_code, owner_name, uid, kek_id, wrapped, doc_type, doc_number, given, family,
             birth, phone, kind) in rows:
            found[kind].append(Candidate(id_, code, owner_id, owner_code, owner_name, IdentityColumns(
                uid, kek_id, wrapped, document_type_enc=doc_type, document_number_enc=doc_number,
                given_names_enc=given, family_names_enc=family, birth_date_enc=birth, phone_enc=phone)))
    return found


@functools.lru_cache(maxsize=1)
def _duplicate_candidates_statement():
    def matching(kind: str, column):  # a None bind matches nothing (= NULL)
        ids = (select(Case.id.label("id")).join(Case.victim).where(*_index_matches(column, column.key))
               .order_by(Case.id.desc()).limit(CANDIDATES).subquery())
        return select(ids.c.id, literal(kind).label("kind"))

    found = union_all(matching("document", Victim.document_bidx), matching("name", Victim.name_bidx)).subquery()
    return (select(Case.id, Case.code, Case.owner_entity_id, Entity.code, Entity.name, Victim.uid, DataKey.kek_id,
                   DataKey.wrapped, Victim.document_type_enc, Victim.document_number_enc, Victim.given_names_enc,
                   Victim.family_names_enc, Victim.birth_date_enc, Victim.phone_enc, found.c.kind)
            .join(found, found.c.id == Case.id).join(Case.victim).join(Victim.data_key).join(Case.owner_entity)
            .order_by(Case.id.desc()))


# What a match compared, named to the user in the warning (labels.LABELS["duplicate_match"]); never the values.
MATCH_ORDER = ("document", "name_birth_date", "name_phone", "name")


def _match_reasons(data: dict, bits: int | None = None) -> dict[int, tuple[Candidate, set[str]]]:
    """Cases whose victim is, decrypted and compared exactly, perhaps the same person, with what matched: the
    document; or the normalised full name with the birth date, with the phone, or alone when one side has no birth
    date to tell two namesakes apart (a registration with no document used to pass unwarned)."""
    doc = _document_key(data.get("document_type"), data.get("document_number"))
    name = _name_key(data.get("given_names"), data.get("family_names"))
    phone = _phone_key(data.get("phone"))
    birth = data.get("birth_date")
    birth = birth.isoformat() if isinstance(birth, date) else birth
    found: dict[int, tuple[Candidate, set[str]]] = {}
    candidates = _duplicate_candidates(_bidx("victims/document", doc, bits), _bidx("victims/name", name, bits))
    for case in candidates["document"]:
        v = case.victim
        if _document_key(v.document_type, v.document_number) == doc:
            found.setdefault(case.id, (case, set()))[1].add("document")
    if name:
        for case in candidates["name"]:
            v = case.victim
            if _name_key(v.given_names, v.family_names) != name:
                continue
            reasons = found.setdefault(case.id, (case, set()))[1]
            if birth and v.birth_date == birth:
                reasons.add("name_birth_date")
            if phone and _phone_key(v.phone) == phone:
                reasons.add("name_phone")
            if not (birth and v.birth_date) and "name_birth_date" not in reasons:
                reasons.add("name")  # no birth date on one side: the same full name is enough to ask
            if not reasons:
                del found[case.id]  # a namesake born on another day, with another phone: a different person
    return found


def matched_on(found: dict[int, tuple[Candidate, set[str]]], hints: list[dict]) -> list[str]:
    """What was compared for the matches the user is shown (a withheld entity's match tells nothing)."""
    shown = {h["entity_code"] for h in hints}
    reasons = set().union(*(r for c, r in found.values() if c.owner_code in shown)) if found else set()
    return [r for r in MATCH_ORDER if r in reasons]


def _hints(actor, cases: list[Candidate]) -> list[dict]:
    """Which entities to contact: entity code and name only (and the case code when the actor may see who the
    victim of that case is: a referral that shares no identity must not confirm a guessed one)."""
    hints: dict[tuple, dict] = {}
    readable = authz.identity_readable(actor, cases)  # one statement for all, not one for each other entity's case
    for case in cases:
        hint = {"entity_code": case.owner_code, "entity_name": case.owner_name}
        if case.id in readable:
            hint["case_code"] = case.code
        hints.setdefault(tuple(sorted(hint.items())), hint)
    return sorted(hints.values(), key=lambda h: (h["entity_code"], h.get("case_code", "")))


_LOCK_USER = select(User.id).where(User.id == bindparam("user_id")).with_for_update()


def _hints_given_today(actor) -> int:
    """Cross-entity hints the user was shown in the last 24 hours (the access log is the shared counter)."""
    # One user's registrations queue here, so two at once cannot both take the last hint of the day.
    db.session.execute(_LOCK_USER, {"user_id": actor.id})
    return audit.count(utcnow() - timedelta(days=1), CROSS_ENTITY_HINT, actor=actor.username,
                       outcome="allowed")  # sealed or still queued


def duplicate_hints(actor, clean: dict) -> tuple[list[dict], bool]:
    """The one owner of the duplicate hint: which entities may already hold a case for the person in `clean`
    (data that passed validate_case_data: a probe with an incomplete or invalid registration learns nothing).

    Her own entity's cases are always named. Another entity's are named at most HINTS_PER_DAY times a day to one
    user; beyond that they are withheld (the second value is True) and she is told only that a case may exist.
    Each cross-entity match is in the access log (shown: allowed; withheld: denied), where the auditors' alert
    "repeated warnings" reads it. The caller commits.
    """
    hints, withheld, _compared = duplicate_check(actor, clean)
    return hints, withheld


@dataclass(frozen=True, slots=True)
class DuplicateAnswer:
    """What the duplicate check answers (hints, whether another entity's were withheld, what matched for those
    shown), before its cross-entity hint is logged: `record` logs it, once for the answer given."""
    hints: list[dict]
    withheld: bool
    matched_on: list[str]
    others: list[str]  # the other entities matched: logged, named only when not withheld

    def record(self, actor) -> None:
        if self.others:
            audit.record(CROSS_ENTITY_HINT, object_type="case", actor=actor,
                         outcome="denied" if self.withheld else "allowed",
                         detail={"entities": self.others, "withheld": self.withheld})


def answer_duplicates(actor, clean: dict, *, bits: int | None = None) -> DuplicateAnswer:
    """duplicate_check's answer, not logged yet, with blind indexes at `bits` (default: the recorded width)."""
    found = _match_reasons(clean, bits)
    hints = _hints(actor, [c for c, _r in found.values()])
    own = db.session.get(Entity, actor.entity_id).code
    others = sorted({h["entity_code"] for h in hints if h["entity_code"] != own})
    limit = current_app.config.get("DUPLICATE_HINTS_PER_DAY", HINTS_PER_DAY)
    # Beyond the limit "no case elsewhere" is not said either: otherwise the answer would still tell, without limit,
    # whether a document belongs to a victim somewhere (only not where).
    withheld = _hints_given_today(actor) >= limit
    if others and withheld:
        hints = [h for h in hints if h["entity_code"] == own]
    return DuplicateAnswer(hints, withheld, matched_on(found, hints), others)


def duplicate_check(actor, clean: dict) -> tuple[list[dict], bool, list[str]]:
    """duplicate_hints, and what matched for the hints shown (MATCH_ORDER codes: what the warning says it
    compared)."""
    answer = answer_duplicates(actor, clean)
    answer.record(actor)
    return answer.hints, answer.withheld, answer.matched_on


def find_duplicates(actor, data: dict) -> list[dict]:
    """Entities that may already hold a case for the person in `data`, a complete registration (raw; validated
    here: Invalid otherwise), across all entities, within the daily limit of cross-entity hints."""
    authz.require(actor, "case.create")
    clean = validate_case_data(data)
    hints, _withheld = duplicate_hints(actor, clean)
    # Which entities hold a person is itself a disclosure: every check is in the access log.
    audit.record("case.duplicate_check", object_type="case", actor=actor,
                 detail={"entities": sorted({h["entity_code"] for h in hints})})
    db.session.commit()
    return hints
