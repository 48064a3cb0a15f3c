"""How a transaction ends (database._read_only_ends_with_commit). On PostgreSQL a transaction that sent nothing that
may write is committed where the app rolls it back: psycopg forgets every statement it prepared on a connection at
each ROLLBACK (and sends DEALLOCATE ALL), and a request's last transaction, after its access-log row was committed,
only reads and was rolled back when the request ended, so none of its statements was ever prepared. These tests
hold both halves: what wrote is still rolled back, on every way of writing; what only read keeps what was prepared.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from tests.world import logged_in_client

NAME = "Entidad de prueba"


def _orm_flush(session):
    session.get(Entity, session.scalar(select(Entity.id).where(Entity.code == "ALFA"))).name = "cambiado"
    session.flush()


def _core_update(session):
    session.execute(update(Entity).where(Entity.code == "ALFA").values(name="cambiado"))


def _core_insert(session):
    session.execute(insert(Entity).values(code="NUEVA", name="Nueva", kind="ngo", territory="13001", active=True))


def _driver_sql(session):
    session.connection().exec_driver_sql("UPDATE entities SET name = 'cambiado' WHERE code = 'ALFA'")


def _inside_a_savepoint(session):
    with session.begin_nested():  # released: the outer transaction's rollback must still undo it
        _core_update(session)


def _after_reads(session):
    for _ in range(6):  # read enough for psycopg to prepare, then write
        session.scalar(select(Entity.name).where(Entity.code == "ALFA"))
    _core_update(session)


def _a_failed_statement_after_it(session):
    _core_update(session)
    with pytest.raises(DBAPIError):
        session.execute(text("SELECT * FROM no_such_table"))


WAYS = [_orm_flush, _core_update, _core_insert, _driver_sql, _inside_a_savepoint, _after_reads,
        _a_failed_statement_after_it]


@pytest.mark.parametrize("write", WAYS, ids=[w.__name__.strip("_") for w in WAYS])
def test_a_write_rolled_back_is_gone(app, factory, write):
    factory.entity("ALFA", name=NAME)
    with app.app_context():
        write(db.session)
        db.session.rollback()
        db.session.remove()
    with app.app_context(), db.engine.connect() as other:  # what any other connection sees
        assert other.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME
        assert other.scalar(select(Entity.id).where(Entity.code == "NUEVA")) is None


def test_a_read_only_transaction_keeps_what_was_prepared(app, factory):
    factory.entity("ALFA", name=NAME)
    with app.app_context(), db.engine.connect() as conn:
        for _ in range(8):
            assert conn.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME
        conn.rollback()
        if conn.dialect.name == "postgresql":
            prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
            assert any("FROM entities" in s for s in prepared), prepared
        else:  # SQLite prepares nothing across transactions; a rollback there ends the read and holds no lock
            assert not conn.connection.dbapi_connection.in_transaction
        assert conn.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME


def test_a_read_that_failed_is_rolled_back_and_the_connection_works(app, factory):
    factory.entity("ALFA", name=NAME)
    with app.app_context(), db.engine.connect() as conn:
        conn.scalar(select(Entity.name).where(Entity.code == "ALFA"))
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT * FROM no_such_table"))
        conn.rollback()
        assert conn.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME


def test_a_case_page_ends_without_a_rollback_on_postgresql(app, factory):
    """A case page (a read: its access-log row is committed before the page is drawn) ends its last transaction
    with a commit on PostgreSQL, so its statements stay prepared; an edit that fails still rolls back."""
    from tests.cases_factory import make_case

    ana = factory.user("ana", roles=("social_worker",), entity="ALFA")
    with app.test_request_context():
        code = make_case(ana.id, given_names="Mariana", identified_on=date(2025, 3, 10))
    client = logged_in_client(app, ana)
    ended: list[bool] = []  # for each rollback: whether the connection was still in a transaction

    def seen(conn):
        dbapi = conn.connection.dbapi_connection
        open_ = (dbapi.info.transaction_status.name != "IDLE" if conn.dialect.name == "postgresql"
                 else dbapi.in_transaction)
        ended.append(open_)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "rollback", seen)  # after the app's own listener (registered on every Engine first)
    try:
        assert client.get(f"/cases/{code}").status_code == 200
    finally:
        event.remove(engine, "rollback", seen)
    assert ended, "the request ended no transaction"
    if engine.dialect.name == "postgresql":
        assert not any(ended), ended  # committed before the rollback reached psycopg
    else:
        assert any(ended), ended  # SQLite: a read's rollback, as before
