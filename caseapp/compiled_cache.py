"""SQLAlchemy's cache of compiled statements, found first by the identity of a statement's cache key.

Each execution looks its compiled SQL up by the statement's cache key: a tuple of the whole statement's structure,
kept (memoized) on the statement object, and hashed again at every lookup (a tuple does not keep its hash). The
app's frequent statements are built once and reused (module constants, `functools.cache`), and their keys are
large: hashing the case page's timeline union (4,900 items) cost 65-180 us, the case's load 80 us, the signed-in
user's 58 us, at every request.

A statement used again brings the same key object, so its entry is found by that object's identity first: only an
entry whose key holds that very object (held by the entry, its id cannot be another object's while it is here),
for the same dialect object and equal column keys and flags, which is an equal key. Anything else (a statement built
for one request, a first use) is looked up by value, as SQLAlchemy's own cache does. A compiled statement is never
wrong for its key, so what is found is what SQLAlchemy would have compiled.

It is the engine's `compiled_cache` execution option (`engine_options`): `Engine.clear_compiled_cache()` empties the
engine's own cache, which this one replaces; `clear()` empties this one.
"""
from __future__ import annotations

import itertools
import logging
import threading

log = logging.getLogger("caseapp")
SIZE = 500  # SQLAlchemy's default (create_engine's query_cache_size)


class IdentityFirstCache:
    """The compiled-statement cache SQLAlchemy asks with `get(key)` and fills with `cache[key] = compiled`, keys
    being (dialect, statement key, column keys, flags) tuples (ClauseElement._compile_w_cache). Holds at most about
    1.5 x `capacity` entries; past that, the least recently used go, down to `capacity`."""

    def __init__(self, capacity: int = SIZE):
        self.capacity = capacity
        self._entries: dict = {}  # key -> [key (the last object found equal), compiled, last use]
        self._same: dict[int, list] = {}  # id(an entry's statement key) -> that entry
        self._clock = itertools.count()
        self._pruning = threading.Lock()

    def get(self, key, default=None):
        statement_key = _statement_key(key)
        entry = self._same.get(id(statement_key)) if statement_key is not None else None
        if entry is None or not _same_key(entry[0], key):
            entry = self._entries.get(key)  # by value: the key is hashed
            if entry is None:
                return default
            if statement_key is not None:
                self._point(entry, key, statement_key)
        entry[2] = next(self._clock)
        return entry[1]

    def __setitem__(self, key, value) -> None:
        entry = [key, value, next(self._clock)]
        self._entries[key] = entry
        statement_key = _statement_key(key)
        if statement_key is not None:
            self._point(entry, key, statement_key)
        if len(self._entries) > self.capacity * 3 // 2:
            self._prune()

    def _point(self, entry: list, key, statement_key) -> None:
        """Find `entry` by `statement_key`'s identity from now on: the entry holds that key, and its previous one is
        forgotten (a statement built at each call leaves one id here, not one per call)."""
        previous = entry[0][1] if type(entry[0]) is tuple else None
        if previous is not None and previous is not statement_key and self._same.get(id(previous)) is entry:
            self._same.pop(id(previous), None)
        entry[0] = key
        self._same[id(statement_key)] = entry

    def _prune(self) -> None:
        with self._pruning:
            if len(self._entries) <= self.capacity * 3 // 2:
                return
            kept = sorted(self._entries.values(), key=lambda e: e[2], reverse=True)[:self.capacity]
            # built aside, then swapped in: a lookup meanwhile finds the old dicts, whole
            entries = {entry[0]: entry for entry in kept}
            same = {id(entry[0][1]): entry for entry in kept if _statement_key(entry[0]) is not None}
            self._entries, self._same = entries, same
            log.debug("compiled statements: the cache kept the %d used last", len(kept))

    def clear(self) -> None:
        self._entries, self._same = {}, {}

    def __len__(self) -> int:
        return len(self._entries)


def _statement_key(key):
    return key[1] if type(key) is tuple and len(key) > 1 and type(key[1]) is tuple else None


def _same_key(held, key) -> bool:
    """Whether `held`, found by the identity of `key`'s statement key, is `key`: the same statement key object, the
    same dialect object, equal column keys and flags."""
    return held[1] is key[1] and held[0] is key[0] and held[2:] == key[2:]


def engine_options(options: dict | None) -> dict:
    """`SQLALCHEMY_ENGINE_OPTIONS` with this cache as the engine's (a new one per call: an app's engine is its own),
    unless the configuration names a cache of its own or turns caching off (query_cache_size 0)."""
    options = dict(options or {})
    if options.get("query_cache_size") == 0:
        return options
    execution = dict(options.get("execution_options") or {})
    execution.setdefault("compiled_cache", IdentityFirstCache(options.get("query_cache_size", SIZE)))
    options["execution_options"] = execution
    return options
