"""PostgreSQL's cursor (caseapp.pg_cursor): its description says what psycopg's says, and is built only when read.

SQLAlchemy reads the description of a statement it has run before only to see that it is not None; psycopg built a
`Column` for each column of every result then (the case's read has about 150). On SQLite there is nothing to test.
"""
from __future__ import annotations

import psycopg
import pytest

from caseapp import pg_cursor
from caseapp.extensions import db
from caseapp.services.registry.reading import CASE_PAGE
from tests.cases_factory import make_case

STATEMENTS = [
    "SELECT 1 AS one, 'a'::varchar(12) AS word, 2.5::numeric(6, 2) AS amount, now() AS at, NULL AS nothing",
    "SELECT code, name FROM entities ORDER BY code",
    "SELECT ",  # a result that returns rows and has no column: an empty description, not None
    "UPDATE entities SET name = name WHERE code = 'no such entity'",  # no result: None
    "UPDATE entities SET name = name WHERE code = 'SDIS' RETURNING id, code",
]


def _fields(description):
    if description is None:
        return None
    return [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale, c.null_ok, c.type_display)
            for c in description]


@pytest.fixture
def pg_app(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("psycopg's cursor: PostgreSQL only")
    return app


@pytest.fixture
def raw(pg_app):
    with pg_app.app_context():
        connection = db.engine.raw_connection()
        try:
            yield connection.dbapi_connection
        finally:
            connection.rollback()
            connection.close()


def test_the_apps_connections_use_it(raw):
    assert raw.cursor_factory is pg_cursor.Cursor
    assert isinstance(raw.cursor(), pg_cursor.Cursor)


def test_a_cursor_the_deployment_chose_is_kept(pg_app):
    """A deployment behind PgBouncer may choose psycopg's ClientCursor (connect_args): it stays hers."""
    from sqlalchemy import create_engine

    with pg_app.app_context():
        engine = create_engine(db.engine.url, connect_args={"cursor_factory": psycopg.ClientCursor})
    try:
        connection = engine.raw_connection()
        assert connection.dbapi_connection.cursor_factory is psycopg.ClientCursor
        connection.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize("statement", STATEMENTS)
def test_the_description_is_psycopgs(raw, statement):
    ours, theirs = raw.cursor(), psycopg.Cursor(raw)
    ours.execute(statement)
    theirs.execute(statement)
    expected = _fields(theirs.description)
    assert _fields(ours.description) == expected
    if expected is not None:
        described = ours.description
        assert len(described) == len(expected)
        assert bool(described) == bool(expected)
        assert [c.name for c in described[-2:]] == [c[0] for c in expected[-2:]]  # as SQLAlchemy slices it
        assert [tuple(c) for c in described] == [tuple(c) for c in theirs.description]  # the DB-API's 7 items


def test_a_description_kept_describes_its_own_result_after_the_next_statement(raw):
    cursor = raw.cursor()
    cursor.execute(STATEMENTS[0])
    kept = cursor.description
    cursor.execute(STATEMENTS[1])
    assert [c.name for c in kept] == ["one", "word", "amount", "at", "nothing"]
    assert [c.name for c in cursor.description] == ["code", "name"]


def test_a_statement_run_again_builds_no_column(pg_app, factory, monkeypatch):
    """The case's read (its ~150 columns), run twice: the second run's description is never read."""
    app = pg_app
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        codes = [make_case(ana.id, document_number=f"6600{n:04d}") for n in range(2)]
    built = []
    column_init = psycopg.Column.__init__

    def counting(self, cursor, index):
        built.append(index)
        column_init(self, cursor, index)

    monkeypatch.setattr(psycopg.Column, "__init__", counting)
    with app.test_request_context():
        CASE_PAGE.load(db.session, codes[0])
        first = len(built)
        db.session.rollback()
        db.session.expunge_all()
        assert CASE_PAGE.load(db.session, codes[1]).code == codes[1]
    assert first > 100  # the statement's first run: SQLAlchemy reads every column's name
    assert len(built) == first  # its second: none
