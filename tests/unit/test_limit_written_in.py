"""PostgreSQL: a statement's LIMIT is written into its text (database._limit_written_in). A bound LIMIT made every
prepared statement be planned again at each execution (the planner assumed it kept a tenth of the rows, so the
generic plan always looked worse): the case list's statement planned for 1.3 ms to run for 1.2 ms. Written at
execution, so one compiled statement serves every limit; these tests hold that it gives each its own."""
from __future__ import annotations

import functools

from sqlalchemy import event, select

from caseapp.extensions import db
from caseapp.models.accounts import User


@functools.cache
def _first_users(limit: int):
    return select(User.username).order_by(User.id).limit(limit)


def _run(app, statement, sent: list[str]):
    def listener(_conn, _cursor, text, *_args):
        sent.append(text)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        return list(db.session.scalars(statement))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_each_limit_gets_its_own_rows_from_one_compiled_statement(app, factory):
    for n in range(5):
        factory.user(f"u{n}", entity="SDIS")
    with app.app_context():
        every = list(db.session.scalars(select(User.username).order_by(User.id)))
        sent: list[str] = []
        # The same structure, different limits: SQLAlchemy's compiled cache has one entry for them.
        assert [len(_run(app, _first_users(k), sent)) for k in (2, 3, 1, 2)] == [2, 3, 1, 2]
        assert _run(app, select(User.username).order_by(User.id).limit(4), sent) == every[:4]
        if db.engine.dialect.name == "postgresql":
            assert [s.split("LIMIT")[-1].strip() for s in sent] == ["2", "3", "1", "2", "4"], sent
        else:  # SQLite plans every statement afresh anyway: bound, as before
            assert all("LIMIT ?" in s for s in sent), sent


def test_limit_and_offset_together(app, factory):
    for n in range(5):
        factory.user(f"v{n}", entity="SDIS")
    with app.app_context():
        every = list(db.session.scalars(select(User.username).order_by(User.id)))
        page = list(db.session.scalars(select(User.username).order_by(User.id).offset(2).limit(2)))
        assert page == every[2:4]
        rest = list(db.session.scalars(select(User.username).order_by(User.id).offset(3)))
        assert rest == every[3:]
