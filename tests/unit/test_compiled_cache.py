"""The compiled-statement cache found by the key's identity (caseapp.compiled_cache) gives every statement its own
SQL: a statement used again is found without hashing its key, and one that only looks alike never gets another's."""
from __future__ import annotations

from sqlalchemy import Integer, bindparam, func, literal_column, select

from caseapp.compiled_cache import IdentityFirstCache
from caseapp.extensions import db
from caseapp.models.accounts import User


class _Counting(IdentityFirstCache):
    """Counts the lookups that went past the identity (the ones that hash the key)."""

    by_value = 0

    def get(self, key, default=None):
        found = self._same.get(id(key[1]))
        if found is None or found[0][1] is not key[1]:
            type(self).by_value += 1
        return super().get(key, default)


def test_the_app_engine_uses_it(app):
    with app.app_context():
        assert isinstance(db.engine.get_execution_options()["compiled_cache"], IdentityFirstCache)


def test_a_statement_used_again_is_found_by_identity_and_answers_right(app):
    with app.app_context():
        cache = _Counting()
        _Counting.by_value = 0
        statement = select(bindparam("n", type_=Integer) * 2, select(func.count()).select_from(User.__table__)
                           .where(User.username == bindparam("name")).scalar_subquery())
        with db.engine.connect().execution_options(compiled_cache=cache) as conn:
            first = conn.execute(statement, {"n": 1, "name": "nobody"}).one()
            looked_up = _Counting.by_value
            again = [tuple(conn.execute(statement, {"n": n, "name": "nobody"}).one()) for n in range(2, 7)]
        assert tuple(first) == (2, 0) and again == [(4, 0), (6, 0), (8, 0), (10, 0), (12, 0)]
        assert looked_up == 1 and _Counting.by_value == 1  # the five after the first: by identity, no key hashed


def test_statements_alike_never_share_their_sql(app):
    """Built again, the same statement is found by value; two that differ by a literal, a column or a LIMIT each
    run their own SQL, whichever ran first, and each answers its own question when run again."""
    with app.app_context():
        cache = IdentityFirstCache()

        def answer(n, limit):
            return select(literal_column(str(n)).label("n")).limit(limit)

        with db.engine.connect().execution_options(compiled_cache=cache) as conn:
            shapes = [answer(1, 1), answer(2, 1), answer(1, 1), select(literal_column("3"))]
            twice = [[conn.execute(s).scalars().all() for s in shapes] for _ in range(2)]
        assert twice[0] == twice[1]
        assert twice[0] == [[1], [2], [1], [3]]


def test_its_memory_of_identities_is_bounded(app, monkeypatch):
    from caseapp import compiled_cache

    monkeypatch.setattr(compiled_cache, "_SAME_KEPT", 3)
    with app.app_context():
        cache = IdentityFirstCache()
        with db.engine.connect().execution_options(compiled_cache=cache) as conn:
            for n in range(10):
                assert conn.execute(select(literal_column(str(n)))).scalar() == n
        assert len(cache._same) <= 3
