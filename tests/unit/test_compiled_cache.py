"""The compiled-statement cache found by the key's identity (caseapp.compiled_cache) gives every statement its own
SQL: a statement used again is found without hashing its key, one that only looks alike never gets another's, and
what it keeps is bounded."""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)

from caseapp import compiled_cache
from caseapp.compiled_cache import IdentityFirstCache
from caseapp.extensions import db
from caseapp.models.accounts import User


class _Counting(IdentityFirstCache):
    """Counts the lookups that went past the identity (the ones that hash the key)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.by_value = 0

    def get(self, key, default=None):
        entry = self._same.get(id(key[1]))
        if entry is None or entry[0][1] is not key[1]:
            self.by_value += 1
        return super().get(key, default)


def test_the_app_engine_uses_it(app):
    with app.app_context():
        assert isinstance(db.engine.get_execution_options()["compiled_cache"], IdentityFirstCache)


def test_a_key_is_found_only_by_an_equal_key():
    """The identity of the statement key finds an entry only with the same dialect object and equal column keys and
    flags: any other part different is another statement's SQL (or none)."""
    cache = IdentityFirstCache()
    dialect, other_dialect, statement_key = object(), object(), tuple(["select", 1])
    key = (dialect, statement_key, ("a",), False, False)
    cache[key] = "A"
    assert cache.get(key) == "A"
    assert cache.get((dialect, statement_key, ("a",), False, False)) == "A"
    equal = tuple(["select", 1])
    assert equal is not statement_key
    assert cache.get((dialect, equal, ("a",), False, False)) == "A"  # equal, another object: by value
    for different in ((other_dialect, statement_key, ("a",), False, False),
                      (dialect, ("select", 2), ("a",), False, False),
                      (dialect, statement_key, ("a", "b"), False, False),
                      (dialect, statement_key, ("a",), True, False),
                      (dialect, statement_key, ("a",), False, True)):
        assert cache.get(different) is None, different
    cache[(dialect, statement_key, ("a", "b"), False, False)] = "AB"
    assert cache.get(key) == "A" and cache.get((dialect, statement_key, ("a", "b"), False, False)) == "AB"


def test_a_statement_used_again_is_found_by_identity_and_answers_right(app):
    with app.app_context():
        cache = _Counting()
        statement = select(bindparam("n", type_=Integer) * 2, select(func.count()).select_from(User.__table__)
                           .where(User.username == bindparam("name")).scalar_subquery())
        with db.engine.connect().execution_options(compiled_cache=cache) as conn:
            first = conn.execute(statement, {"n": 1, "name": "nobody"}).one()
            looked_up = cache.by_value
            again = [tuple(conn.execute(statement, {"n": n, "name": "nobody"}).one()) for n in range(2, 7)]
        assert tuple(first) == (2, 0) and again == [(4, 0), (6, 0), (8, 0), (10, 0), (12, 0)]
        assert looked_up == 1 and cache.by_value == 1  # the five after the first: by identity, no key hashed


def test_one_insert_with_other_columns_or_many_rows_writes_what_it_is_given(app):
    """One statement object run with other columns, then many rows: each run is compiled for what it sends (a cache
    that ignored the column keys or the executemany flag would drop a value or a row)."""
    table = Table("compiled_cache_probe", MetaData(), Column("a", Integer), Column("b", String(8)))
    statement = insert(table)
    with app.app_context():
        cache = IdentityFirstCache()
        with db.engine.connect().execution_options(compiled_cache=cache) as conn:
            table.create(conn)
            conn.execute(statement, {"a": 1})
            conn.execute(statement, {"a": 2, "b": "two"})
            conn.execute(statement, [{"a": 3, "b": "three"}, {"a": 4, "b": "four"}])
            conn.execute(statement, {"a": 5})
            rows = conn.execute(select(table).order_by(table.c.a)).all()
            table.drop(conn)
        assert [tuple(r) for r in rows] == [(1, None), (2, "two"), (3, "three"), (4, "four"), (5, None)]


def test_statements_alike_never_share_their_sql(app):
    """Built again, the same statement is found by value; two that differ by a literal or a LIMIT each run their own
    SQL, whichever ran first, and each answers its own question when run again."""
    with app.app_context():
        cache = IdentityFirstCache()

        def answer(n, limit):
            return select(literal_column(str(n)).label("n")).limit(limit)

        with db.engine.connect().execution_options(compiled_cache=cache) as conn:
            shapes = [answer(1, 1), answer(2, 1), answer(1, 1), answer(1, 2), select(literal_column("3"))]
            twice = [[conn.execute(s).scalars().all() for s in shapes] for _ in range(2)]
        assert twice[0] == twice[1] == [[1], [2], [1], [1], [3]]


def test_what_it_keeps_is_bounded_and_the_used_last_stay():
    cache = IdentityFirstCache(capacity=4)
    dialect = object()
    hot = (dialect, ("hot",), (), False, False)
    cache[hot] = "HOT"
    for n in range(40):  # statements built for one call each, and the hot one asked between them
        cache[(dialect, ("once", n), (), False, False)] = n
        assert cache.get(hot) == "HOT"
    assert len(cache) <= 6 and len(cache._same) <= 6
    assert cache.get(hot) == "HOT"
    cache.clear()
    assert cache.get(hot) is None and len(cache) == 0


def test_a_statement_built_at_each_call_leaves_one_identity():
    """Found by value each time, an entry is then found by the newest object's identity, and only by it: the ids of
    the objects before are forgotten, not kept one per call."""
    cache = IdentityFirstCache()
    dialect = object()
    cache[(dialect, tuple(["built", 0]), (), False, False)] = "SQL"
    for _ in range(50):
        assert cache.get((dialect, tuple(["built", 0]), (), False, False)) == "SQL"
    assert len(cache._same) == 1


def test_caching_turned_off_stays_off():
    assert "execution_options" not in compiled_cache.engine_options({"query_cache_size": 0})
    own = object()
    assert compiled_cache.engine_options({"execution_options": {"compiled_cache": own}})[
        "execution_options"]["compiled_cache"] is own
