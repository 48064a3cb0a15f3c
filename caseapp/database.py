"""Database connection settings per dialect, and the one owner of SQLite's write lock.

SQLite: foreign keys on, WAL, overwrite deleted content (secure_delete, for crypto-shredding), full sync.
A transaction starts deferred (`BEGIN`): a request that only reads never takes the write lock, so reads run side by
side across workers. The first statement that writes ends the read snapshot and starts `BEGIN IMMEDIATE` on the
same connection before it runs, so the write sees current data and never fails with SQLITE_BUSY_SNAPSHOT (a WAL
reader cannot upgrade once another connection committed; busy_timeout does not help there). These are the
semantics of PostgreSQL's READ COMMITTED, which the app already runs under: versioned rows refuse a stale update,
unique constraints refuse a duplicate insert, and a read that a write depends on takes the lock first:
`take_write_lock(session)`, which `SELECT ... FOR UPDATE` calls by itself (SQLite has no row locks).

PostgreSQL: no lock is held across a commit (row locks end with their transaction). The rollback of a transaction
that only read is sent so that the driver keeps the statements it prepared (`_rollback_keeps_prepared_statements`):
psycopg forgets all of them at each `rollback()` and sends DEALLOCATE ALL, and a request whose last transaction only
reads (the health check; a page that reads after its access-log row was committed, as the edit form does) rolls it
back when the request ends, so none of its statements would ever stay prepared: each was planned again at every
request. Any other transaction is rolled back by psycopg. Its cursors build a result's description only when it is
read (`caseapp.pg_cursor`).
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy import String, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from caseapp.extensions import db

_installed = False
_STATE = "ruta_sqlite_tx"  # per DBAPI connection: {"writing": bool, "savepoints": [names opened while reading]}
_MEMO = "ruta_read_memo"  # per DBAPI connection: (its transaction, what read_memo's callers keep)
_PLAIN = "ruta_pg_plain"  # per DBAPI connection, PostgreSQL: its transaction ran only plain statements, none failed
# Statements that leave every prepared statement valid when rolled back: reads, row writes, savepoints. Anything else
# (DDL, SET, DO, EXPLAIN, unknown) may change what a prepared statement means.
_PLAIN_STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES|SAVEPOINT|RELEASE)\b", re.I)
_SETS = re.compile(r"set_config", re.I)  # a session setting changed through SELECT (search_path...), undone too
# Statements that never write. Anything else (INSERT, UPDATE, DELETE, REPLACE, DDL, unknown) takes the lock first.
_READ_ONLY = re.compile(r"\s*(SELECT|PRAGMA|EXPLAIN|VALUES|BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
_WITH = re.compile(r"\s*WITH\b", re.I)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
_SAVEPOINT = re.compile(r"\s*(SAVEPOINT|RELEASE(?:\s+SAVEPOINT)?|ROLLBACK\s+TO(?:\s+SAVEPOINT)?)\s+(\w+)", re.I)


def _on_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=15000",
            "PRAGMA secure_delete=ON",
            "PRAGMA synchronous=FULL",
        ):
            cur.execute(pragma)
        cur.close()
    elif type(dbapi_connection).__module__.split(".")[0] == "psycopg":  # psycopg 3 (not psycopg2)
        from caseapp import pg_cursor  # the PostgreSQL driver, where only PostgreSQL comes

        pg_cursor.install(dbapi_connection)


def _on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.info[_STATE] = {"writing": False, "savepoints": []}
        conn.exec_driver_sql("BEGIN")
    else:
        conn.info[_PLAIN] = True


def writes(statement: str) -> bool:
    """Whether an SQL statement may write (a WITH naming INSERT/UPDATE/DELETE counts, even in a literal: the
    lock is then taken for nothing, never missed)."""
    if _WITH.match(statement):
        return bool(_WRITE_WORD.search(statement))
    return not _READ_ONLY.match(statement)


def _upgrade(dbapi_connection, state: dict) -> None:
    """End the read snapshot (nothing was written in it) and start a writing transaction in its place, with the
    savepoints the caller opened meanwhile (SQLAlchemy will release or roll back to them by name)."""
    cur = dbapi_connection.cursor()
    try:
        cur.execute("COMMIT")
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            cur.execute("BEGIN")  # still inside a transaction, so the caller's rollback works; then fail
            raise
        for name in state["savepoints"]:
            cur.execute(f"SAVEPOINT {name}")
        state["writing"] = True
    finally:
        cur.close()


def read_memo(conn: Connection) -> dict:
    """A dict for what this transaction read and may be asked again (authz: a referred case's shared sections), good
    until the transaction writes: emptied by any statement that may write, by a savepoint's rollback, and by the
    transaction's end (the next one finds an empty dict). Pending ORM changes are the caller's to flush first: a
    query would (autoflush), a memo does not."""
    transaction = conn.get_transaction()
    memo = conn.info.get(_MEMO)
    if memo is None or memo[0] is not transaction:  # held here, the old transaction is never a new one's double
        memo = conn.info[_MEMO] = (transaction, {})
    return memo[1]


def _forget_reads(conn, *_args) -> None:
    conn.info.pop(_MEMO, None)


def _before_execute(conn, cursor, statement, _parameters, _context, executemany) -> None:
    if _MEMO in conn.info and (executemany or writes(statement)):
        del conn.info[_MEMO]
    if conn.dialect.name != "sqlite":
        if executemany or not _plain(statement):
            conn.info[_PLAIN] = False
        return
    state = conn.info.get(_STATE)
    if state is None or state["writing"]:
        return
    if writes(statement):
        _upgrade(cursor.connection, state)
        return
    savepoint = _SAVEPOINT.match(statement)
    if savepoint:
        verb, name = savepoint.group(1).upper(), savepoint.group(2)
        if verb == "SAVEPOINT":
            state["savepoints"].append(name)
        elif name in state["savepoints"]:
            del state["savepoints"][state["savepoints"].index(name):]


@functools.lru_cache(maxsize=1024)
def _plain(statement: str) -> bool:
    """Whether a statement is plain (`_PLAIN_STATEMENT`, one to a string, no `set_config`). Asked before every
    PostgreSQL statement and answered once per text: the search for `set_config` read the whole of each (the case
    page's own is 5 KB), ~10 us a statement. The texts are SQLAlchemy's compiled statements, a few hundred."""
    return ";" not in statement and _PLAIN_STATEMENT.match(statement) is not None and not _SETS.search(statement)


def _failed(context) -> None:
    """A statement failed (SQLAlchemy's handle_error): its transaction's rollback is psycopg's own."""
    conn = context.connection
    if conn is not None and conn.dialect.name != "sqlite" and not conn.invalidated and not conn.closed:
        conn.info[_PLAIN] = False


def _rollback_keeps_prepared_statements(conn) -> None:
    """PostgreSQL, as SQLAlchemy rolls a transaction back: send the ROLLBACK ourselves, through libpq, so that
    psycopg's `rollback()` then finds no transaction and returns. It would have sent the same ROLLBACK, then
    forgotten every statement it prepared on the connection and sent DEALLOCATE ALL. The server keeps them: a
    prepared statement is no part of a transaction and outlives its rollback.

    Only for a transaction that ran plain statements (`_PLAIN_STATEMENT`, one to a string, no executemany, no
    `set_config`), none of which failed, and that changed nothing (the server gave it no transaction id: a row
    written, or DDL, even inside a function or as `SELECT ... INTO`, gets one): a request's last transaction, which
    only reads. Any other is rolled back by psycopg, which forgets what it prepared. A failed statement may be a
    prepare that failed inside an executemany, which psycopg records as done before it is: its name would be used,
    and be missing, on every later request on this connection. DDL or a `search_path` undone leaves statements
    prepared against what it changed. Three outside reviews found these (tests/unit/
    test_read_only_transactions_end.py).
    The rollback is a rollback: everything the transaction did is undone, whatever it did."""
    if conn.dialect.driver != "psycopg" or conn.invalidated or conn.closed or not conn.info.get(_PLAIN, False):
        return  # SQLite, a lost connection (SQLAlchemy's own rollback handles it), or psycopg's rollback as usual
    from psycopg.pq import ExecStatus, TransactionStatus  # the PostgreSQL driver, where only PostgreSQL comes

    pgconn = conn.connection.dbapi_connection.pgconn
    if pgconn.transaction_status != TransactionStatus.INTRANS:
        return  # idle (autocommit), failed, busy or broken: psycopg's rollback as usual
    with contextlib.suppress(Exception):  # the connection lost meanwhile: psycopg's rollback meets it and handles it
        changed = pgconn.exec_(b"SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        if changed.status == ExecStatus.TUPLES_OK and changed.get_value(0, 0) == b"f":
            pgconn.exec_(b"ROLLBACK")


def take_write_lock(session_or_connection) -> None:
    """Make the transaction a writer now, before it reads what it will write on (a counter, the access log's head,
    the last bed of a shelter). SQLite: the database's write lock, held to the end of the transaction;
    PostgreSQL: nothing (it locks the rows it reads FOR UPDATE)."""
    conn = session_or_connection
    if not isinstance(conn, Connection):
        conn = conn.connection()
    _forget_reads(conn)  # a writer reads what is current (SQLite: a newer snapshot) from here
    if conn.dialect.name != "sqlite":
        return
    state = conn.info.get(_STATE)
    if state is not None and not state["writing"]:
        _upgrade(conn.connection.dbapi_connection, state)


def holds_write_lock(session) -> bool:
    """SQLite: whether the session's open transaction is a writer (another connection's write would wait for it)."""
    if not session.in_transaction():
        return False
    conn = session.connection()
    state = conn.info.get(_STATE) if conn.dialect.name == "sqlite" else None
    return bool(state and state["writing"])


def fresh_snapshot(session) -> None:
    """SQLite: let a transaction that has only read see what other connections committed since it began (its WAL
    snapshot is fixed at its first read); what the session loaded stays loaded. PostgreSQL (READ COMMITTED): every
    statement already does."""
    if not session.in_transaction():
        return
    conn = session.connection()
    _forget_reads(conn)
    state = conn.info.get(_STATE) if conn.dialect.name == "sqlite" else None
    if state is not None and not state["writing"]:
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute("COMMIT")
            cur.execute("BEGIN")
            for name in state["savepoints"]:
                cur.execute(f"SAVEPOINT {name}")
        finally:
            cur.close()


def _for_update_takes_the_lock(execute_state) -> None:
    """SELECT ... FOR UPDATE means "what I read here, I write on": on SQLite, which ignores the clause, the
    write lock is taken before the read."""
    if execute_state.is_select and getattr(execute_state.statement, "_for_update_arg", None) is not None:
        take_write_lock(execute_state.session)


def _owner_only_sqlite_file(uri: str | None) -> None:
    """Create the SQLite file owner-only (600) before SQLite does (it would follow the umask: 644), and tighten
    one that exists. SQLite gives its -wal and -shm files the database file's mode."""
    if not uri:
        return
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return
    path = Path(url.database)
    if not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_uid == os.getuid():
            path.chmod(0o600)


# RETURNING (sessions.end_all, migration 0013's downgrade) came in SQLite 3.35 (2021); Debian 12 has 3.40
SQLITE_MINIMUM = (3, 35)


def _sqlite_new_enough(uri: str | None) -> None:
    """Refuse to start on an SQLite older than the app's statements need, with the reason, rather than fail on the
    first logout everywhere or password change."""
    if uri and make_url(uri).get_backend_name() == "sqlite" and sqlite3.sqlite_version_info < SQLITE_MINIMUM:
        raise RuntimeError(f"Ruta needs SQLite {'.'.join(map(str, SQLITE_MINIMUM))} or newer; this Python's sqlite3 "
                           f"module has {sqlite3.sqlite_version}. Use a newer Python build or PostgreSQL.")


def init_app(app) -> None:
    _sqlite_new_enough(app.config.get("SQLALCHEMY_DATABASE_URI"))
    _owner_only_sqlite_file(app.config.get("SQLALCHEMY_DATABASE_URI"))
    global _installed
    if not _installed:
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
        event.listen(Engine, "before_cursor_execute", _before_execute)
        event.listen(Engine, "rollback", _rollback_keeps_prepared_statements)
        event.listen(Engine, "handle_error", _failed)
        event.listen(Engine, "rollback_savepoint", _forget_reads)
        event.listen(Session, "do_orm_execute", _for_update_takes_the_lock)
        _installed = True
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "postgresql":
                engine.dialect.statement_compiler = _limit_written_in(engine.dialect.statement_compiler)


@functools.cache
def _limit_written_in(compiler: type) -> type:
    """PostgreSQL: a statement's LIMIT written into its text, not bound. With a bound LIMIT the planner assumes it
    keeps a tenth of the rows, so a prepared statement's generic plan always looks costlier than a fresh one, and
    psycopg's prepared statements were planned again at every execution (the case list's: 1.3 ms of planning for
    1.2 ms of work). Written at execution time (literal_execute): SQLAlchemy still compiles and caches one
    statement for every limit, and psycopg prepares one per limit used (a page size, 1, the search's cap)."""

    class LimitWrittenIn(compiler):
        def limit_clause(self, select, **kw):
            if select._limit_clause is None:
                return super().limit_clause(select, **kw)
            text = " \n LIMIT " + self.process(select._limit_clause, **{**kw, "literal_execute": True})
            if select._offset_clause is not None:
                text += " OFFSET " + self.process(select._offset_clause, **kw)
            return text

    return LimitWrittenIn


class comma_list(FunctionElement):  # noqa: N801 - an SQL function, named as SQLAlchemy names its own
    """A column's values over a group, joined by commas: SQLite's group_concat, PostgreSQL's string_agg. SQLAlchemy's
    aggregate_strings binds the separator at execution (literal_execute), which writes the whole statement's text
    again at every execution: the signed-in user's statement runs at every request."""

    type = String()
    inherit_cache = True
    name = "comma_list"


@compiles(comma_list)
def _comma_list(element, compiler, **kw) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


@compiles(comma_list, "postgresql")
def _comma_list_postgresql(element, compiler, **kw) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"
