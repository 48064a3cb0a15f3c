"""The rows of a list of cases (the case list and the search results, on the web and in the API).

A row is what the table and the API show of a case, and no more: its code, status, entity, dates and safety flags
in force, and her name only to a reader of her identity (authz.identity_readable), never decrypted for anyone else.
The case list reads its fifty rows as columns in one statement. Loaded as cases, each with its victim, her data key
and her flags (and their professionals), a page took 2.1 ms at 100,000 victims, two thirds of it making the
objects; as columns, 1.0 ms with every name the reader may see decrypted.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from caseapp import authz
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.base import named_rows
from caseapp.models.cases import Case
from caseapp.models.keys import DataKey
from caseapp.models.safety import SafetyFlag
from caseapp.models.victims import IdentityColumns, Victim, full_name


@dataclass(frozen=True, slots=True)
class ListedCase:
    id: int
    code: str
    status: str
    is_child: bool
    identified_on: date
    linked_on: date | None
    victim_status: str | None
    version: int
    owner_entity_id: int
    owner_code: str
    flags: tuple[str, ...]  # the kinds of the safety flags in force, in the order they were set
    identity_readable: bool  # the reader may know who she is
    erased: bool  # her identity was erased
    given_names: str | None = None  # only to a reader of her identity, while it is not erased
    family_names: str | None = None

    full_name = property(full_name)

    @property
    def named(self) -> bool:
        """Whether the row names her (the API then gives her names, even empty ones)."""
        return names_shown(self.identity_readable, self.erased)


def names_shown(readable: bool, erased: bool) -> bool:
    """The one rule of a list row's name: shown, and read (decrypted), only to a reader of her identity, never once
    her identity is erased."""
    return readable and not erased


def _names(readable: bool, erased: bool, victim) -> dict:
    if not names_shown(readable, erased):
        return {}
    return {"given_names": victim.given_names, "family_names": victim.family_names}


def listed_page(actor, page, params: dict, *, compared: tuple[str, ...] = (), keep=None) -> list[ListedCase]:
    """The rows of the cases `page` selects (a select() of cases with its limit: authz.newest_visible_cases, a search's
    candidates), newest first, in one statement. A search passes the identity fields it `compared` (besides her
    names) and `keep`, which is given each candidate's IdentityColumns and says whether she is the one searched for:
    the caller's page holds only cases whose identity the reader may see."""
    heads: dict[int, tuple] = {}  # named tuples: authz and the rows below read them by name
    flags: dict[int, list[str]] = {}
    for row in named_rows(db.session.connection().execute(_rows_of(page, compared), params)):
        heads.setdefault(row[0], row)
        if row[-1] is not None:  # a flag in force: one row for each
            flags.setdefault(row[0], []).append(row[-1])
    identities = {id_: _identity(row, compared) for id_, row in heads.items()}
    if keep is not None:
        heads = {id_: row for id_, row in heads.items() if keep(identities[id_])}
    readable = authz.identity_readable(actor, heads.values())
    out = []
    for id_, row in heads.items():
        shown, erased = id_ in readable, row.erased
        out.append(ListedCase(*row[:10], tuple(flags.get(id_, ())), shown, erased,
                              **_names(shown, erased, identities[id_])))
    return out


def _identity(row, compared: tuple[str, ...]) -> IdentityColumns:
    """Her encrypted names (and the `compared` fields) of a row of _rows_of, with her key: read only if decrypted."""
    uid, _erased, given, family, kek_id, wrapped, *blobs = row[10:-1]
    return IdentityColumns(uid, kek_id, wrapped, given_names_enc=given, family_names_enc=family,
                           **{f"{name}_enc": blob for name, blob in zip(compared, blobs, strict=True)})


@functools.lru_cache(maxsize=2048)  # per page statement and compared fields (the list's pages, a search's kinds)
def _rows_of(page, compared: tuple[str, ...] = ()):
    ids = page.with_only_columns(Case.id).subquery("page")
    return (select(Case.id, Case.code, Case.status, Case.is_child, Case.identified_on, Case.linked_on,
                   Case.victim_status, Case.version, Case.owner_entity_id, Entity.code.label("owner_code"),
                   Victim.uid.label("victim_uid"), Victim.erased, Victim.given_names_enc, Victim.family_names_enc,
                   DataKey.kek_id, DataKey.wrapped, *(getattr(Victim, f"{name}_enc") for name in compared),
                   SafetyFlag.kind.label("flag"))
            .select_from(Case).join(ids, ids.c.id == Case.id)
            .join(Case.victim).join(Victim.data_key).join(Case.owner_entity)
            .outerjoin(Case.safety_flags)  # the relationship's own condition: the flags in force
            .order_by(Case.id.desc(), SafetyFlag.id))
