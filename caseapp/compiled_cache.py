"""SQLAlchemy's cache of compiled statements, found first by the identity of a statement's cache key.

Each execution looks its compiled SQL up by the statement's cache key: a tuple of the whole statement's structure,
kept (memoized) on the statement object, and hashed again at every lookup, since a tuple does not keep its hash.
The app's frequent statements are built once and reused (module constants, `functools.cache`), and their keys are
large: hashing the case page's timeline union (4,900 items) cost 65-180 us, the case's load 80 us, the signed-in
user's 58 us, at every request.

A statement used again brings the same key object, so its entry is found here by that object's identity first
(`id()` of a key this cache holds, so never of another object). Anything else (a statement built for one request,
a first use) is looked up by value as before. Entries are never wrong: a key names one compiled statement for good.
"""
from __future__ import annotations

from sqlalchemy.util import LRUCache

SIZE = 500  # SQLAlchemy's default (create_engine's query_cache_size)
_SAME_KEPT = 1_000  # keys remembered by identity: the app runs a few hundred statements; cleared when reached


class IdentityFirstCache(LRUCache):
    """SQLAlchemy's LRU cache of compiled statements, with a lookup by the key object's identity before the one by
    value. Its keys are (dialect, statement key, column keys, flags) tuples (ClauseElement._compile_w_cache)."""

    def __init__(self, capacity: int = SIZE):
        super().__init__(capacity)
        self._same: dict[int, tuple] = {}  # id(statement key) -> (whole key, compiled)

    def get(self, key, default=None):
        statement_key = key[1] if type(key) is tuple and len(key) > 1 else None
        if statement_key is not None:
            found = self._same.get(id(statement_key))
            if found is not None:
                held = found[0]  # held here: while it is, no other object can have its id
                if held[1] is statement_key and held[0] is key[0] and held[2:] == key[2:]:
                    return found[1]
        value = super().get(key, None)
        if value is None:
            return default
        self._remember(key, value)
        return value

    def __setitem__(self, key, value) -> None:  # a statement's first compilation
        super().__setitem__(key, value)
        self._remember(key, value)

    def _remember(self, key, value) -> None:
        if type(key) is tuple and len(key) > 1:
            if len(self._same) >= _SAME_KEPT:
                self._same.clear()
            self._same[id(key[1])] = (key, value)


def engine_options(options: dict | None) -> dict:
    """`SQLALCHEMY_ENGINE_OPTIONS` with this cache as the engine's (a new one per app: an app's engine is its own),
    unless the configuration names a cache of its own."""
    options = dict(options or {})
    if options.get("query_cache_size") == 0:  # caching turned off: left off
        return options
    execution = dict(options.get("execution_options") or {})
    execution.setdefault("compiled_cache", IdentityFirstCache(options.get("query_cache_size", SIZE)))
    options["execution_options"] = execution
    return options
