"""How a transaction is rolled back on PostgreSQL (database._rollback_keeps_prepared_statements): the ROLLBACK is
sent through libpq, so that psycopg keeps the statements it prepared on the connection (its own `rollback()`
forgets all of them and sends DEALLOCATE ALL). A request's last transaction, after its access-log row was
committed, only reads and was rolled back when the request ended, so none of its statements was ever prepared.
These tests hold both halves: whatever a transaction did is undone, on every way of writing, hostile ones included;
what was prepared is kept, by a transaction that only read and by one that wrote and failed; a lost connection
still rolls back without an error of its own.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from caseapp import database
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


def _hidden_from_a_statement_reader(session):
    """Writes that a reader of the statement's first word would take for a read."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT 1; UPDATE entities SET name = 'cambiado' WHERE code = 'ALFA'")  # two in one
        conn.exec_driver_sql("EXPLAIN ANALYZE UPDATE entities SET name = 'otro' WHERE code = 'ALFA'")  # runs it
    else:
        conn.exec_driver_sql("WITH x AS (SELECT 1) UPDATE entities SET name = 'cambiado' WHERE code = 'ALFA'")


WAYS = [_orm_flush, _core_update, _core_insert, _driver_sql, _inside_a_savepoint, _after_reads,
        _a_failed_statement_after_it, _hidden_from_a_statement_reader]


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


@pytest.mark.parametrize("then", ["only_read", "wrote", "wrote_and_failed"])
def test_what_was_prepared_outlives_the_rollback(app, factory, then):
    """Kept across the rollback of a transaction that only read; after one that wrote or in which a statement failed,
    psycopg forgets it (its own rollback) and prepares it again."""
    factory.entity("ALFA", name=NAME)
    with app.app_context(), db.engine.connect() as conn:
        for _ in range(8):  # psycopg prepares a statement at its fifth execution on a connection
            assert conn.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME
        if then != "only_read":
            conn.execute(update(Entity).where(Entity.code == "ALFA").values(name="cambiado"))
        if then == "wrote_and_failed":
            with pytest.raises(DBAPIError):
                conn.execute(text("SELECT * FROM no_such_table"))
        conn.rollback()
        if conn.dialect.name == "postgresql":
            prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
            kept = any("FROM entities" in s for s in prepared)
            assert kept == (then == "only_read"), prepared
        else:  # SQLite keeps no statement across transactions here; a rollback ends the transaction
            assert not conn.connection.dbapi_connection.in_transaction
        for _ in range(8):  # used again (prepared again where it was forgotten): the name is the reader's
            assert conn.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME


def test_a_setting_changed_in_a_transaction_is_undone(app, factory):
    """A rollback, not a commit in its place: what a SELECT changed in the session goes too."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            before = conn.scalar(text("SELECT current_setting('application_name')"))
            conn.scalar(text("SELECT set_config('application_name', 'cambiado', false)"))
            conn.rollback()
            assert conn.scalar(text("SELECT current_setting('application_name')")) == before
        else:  # SQLite: a pragma that writes the database, undone with its transaction
            version = conn.scalar(text("PRAGMA user_version"))
            conn.exec_driver_sql(f"PRAGMA user_version = {version + 7}")
            conn.rollback()
            assert conn.scalar(text("PRAGMA user_version")) == version


def test_a_lost_connection_rolls_back_without_an_error_of_its_own(app, factory):
    """The connection is invalidated (the server restarted, a firewall dropped it): the rollback that follows must
    not fail, or the request's error page and its access-log row would be lost with it."""
    factory.entity("ALFA", name=NAME)
    with app.app_context():
        db.session.scalar(select(Entity.name))
        db.session.connection().invalidate()
        db.session.rollback()
        assert db.session.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME


def test_a_read_that_failed_is_rolled_back_and_the_connection_works(app, factory):
    factory.entity("ALFA", name=NAME)
    with app.app_context(), db.engine.connect() as conn:
        conn.scalar(select(Entity.name).where(Entity.code == "ALFA"))
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT * FROM no_such_table"))
        conn.rollback()
        assert conn.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME


@pytest.mark.parametrize("page", ["/healthz", "/cases/{code}/edit"])
def test_a_read_ends_its_transaction_before_psycopg_is_asked(app, factory, page):
    """A request whose last transaction only read (the health check; the edit form, drawn after the access-log row
    of its read was committed) ends it with a rollback sent through libpq on PostgreSQL: psycopg's own rollback
    finds the connection idle. (The case page is one transaction now, which commits its log row.)"""
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
        assert client.get(page.format(code=code)).status_code == 200
    finally:
        event.remove(engine, "rollback", seen)
    assert ended, "the request ended no transaction"
    if engine.dialect.name == "postgresql":
        assert not any(ended), ended  # rolled back before psycopg's rollback was called
    else:
        assert any(ended), ended  # SQLite: a read's rollback, as before


# --- what psycopg must forget: a failed prepare, DDL rolled back (outside review of b090ca6) -------------------

_RENAME = update(Entity.__table__).where(Entity.__table__.c.code == bindparam("c")).values(name=bindparam("n"))


def _renames_work(app) -> None:
    """The same statement, three more times, each in a request's own session: none may fail."""
    for n in range(3):
        with app.app_context():
            db.session.connection().execute(_RENAME, {"c": "ALFA", "n": f"r{n}"})
            db.session.commit()
            db.session.remove()


@pytest.fixture
def counted(app, factory):
    """ALFA and BETA, and the rename run once on the connection: psycopg has counted it, not prepared it."""
    factory.entity("ALFA", name=NAME)
    factory.entity("BETA", name="Otra")
    with app.app_context():
        db.session.connection().execute(_RENAME, {"c": "ALFA", "n": NAME})
        db.session.commit()
        db.session.remove()


def test_an_executemany_whose_prepare_failed_is_forgotten(app, counted):
    """In a transaction that had already failed, the executemany's prepare fails: psycopg had recorded it as
    prepared, and only its own rollback forgets that."""
    with app.app_context():
        with pytest.raises(DBAPIError):
            db.session.execute(text("SELECT * FROM no_such_table"))
        if db.engine.dialect.name == "postgresql":  # SQLite goes on after a failed statement
            with pytest.raises(DBAPIError):
                db.session.connection().execute(_RENAME, [{"c": "ALFA", "n": "x"}, {"c": "BETA", "n": "y"}])
        db.session.rollback()
        db.session.remove()
    _renames_work(app)


def test_an_executemany_that_timed_out_waiting_for_a_lock_is_forgotten(app, counted):
    """A prepare that waits for a table's lock and times out (a migration's CREATE INDEX, a LOCK TABLE), on a
    connection that had run the statement once: psycopg counted it, and records the executemany's prepare as done."""
    with app.app_context(), db.engine.connect() as conn, db.engine.connect() as locker:
        conn.execute(_RENAME, {"c": "ALFA", "n": NAME})
        conn.commit()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET lock_timeout = '200ms'")
            conn.commit()
            locker.exec_driver_sql("LOCK TABLE entities IN SHARE MODE")
        else:  # SQLite: another connection holds the write lock; the rename waits 0.2 s for it, not 15
            conn.exec_driver_sql("PRAGMA busy_timeout = 200")
            locker.exec_driver_sql("SELECT 1")  # its transaction begun, then made a writer
            database.take_write_lock(locker)
        with pytest.raises(DBAPIError):
            conn.execute(_RENAME, [{"c": "ALFA", "n": "x"}, {"c": "BETA", "n": "y"}])
        conn.rollback()
        locker.rollback()
        for n in range(3):  # the same statement on the same connection
            conn.execute(_RENAME, {"c": "ALFA", "n": f"r{n}"})
            conn.commit()
        conn.exec_driver_sql("RESET lock_timeout" if conn.dialect.name == "postgresql" else "PRAGMA busy_timeout = 15000")
        conn.commit()


# --- DDL rolled back (second outside review), and statements that read like reads and change what later ones mean
# (third) ---------------------------------------------------------------------------------------------------------


def _next_requests(app, statement) -> None:
    for _ in range(3):
        with app.app_context():
            db.session.execute(statement).all()
            db.session.remove()


@pytest.fixture
def shadow_schema(app):
    """PostgreSQL: a schema whose `entities` has other columns, and a function that alters the real one."""
    with app.app_context():
        conn = db.session.connection()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("CREATE SCHEMA shadow")
            conn.exec_driver_sql("CREATE TABLE shadow.entities (only_col int)")
            conn.exec_driver_sql("CREATE FUNCTION shadow.alter_entities() RETURNS void AS $$ BEGIN "
                                 "ALTER TABLE public.entities ALTER COLUMN active TYPE text; END; $$ LANGUAGE plpgsql")
        db.session.commit()
        db.session.remove()
    yield
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.connection().exec_driver_sql("DROP SCHEMA shadow CASCADE")
            db.session.commit()
        db.session.remove()


CHANGES = {  # (PostgreSQL, SQLite): DDL, then statements that read like reads
    "alter_table": ("ALTER TABLE entities ALTER COLUMN active TYPE text", "ALTER TABLE entities ADD COLUMN spare text"),
    "select_into_a_temporary_table": ("SELECT 1 AS only_col INTO TEMP entities",
                                      "CREATE TEMP TABLE entities AS SELECT 1 AS only_col"),
    "select_of_a_function_that_alters": ("SELECT shadow.alter_entities()",
                                         "CREATE TEMP TABLE entities AS SELECT 1 AS only_col"),
    "search_path_set_through_select": ("SELECT set_config('search_path', 'shadow, public', false)",
                                       "CREATE TEMP TABLE entities AS SELECT 1 AS only_col"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_of_meaning_rolled_back_leaves_no_statement_prepared_on_it(app, factory, shadow_schema, change):
    factory.entity("ALFA", name=NAME)
    read = text("SELECT * FROM entities")
    with app.app_context():
        conn = db.session.connection()
        postgresql, sqlite = CHANGES[change]
        conn.exec_driver_sql(postgresql if conn.dialect.name == "postgresql" else sqlite)
        for _ in range(6):  # prepared against the changed meaning
            conn.execute(read).all()
        db.session.rollback()
        db.session.remove()
    _next_requests(app, read)
    with app.app_context():
        assert db.session.scalar(select(Entity.name).where(Entity.code == "ALFA")) == NAME
