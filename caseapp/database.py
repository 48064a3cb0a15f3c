"""Database connection settings per dialect.

SQLite: foreign keys on, WAL, overwrite deleted content (secure_delete, for crypto-shredding), full sync,
and every transaction BEGIN IMMEDIATE so that the access-log chain has a single writer and a reader
never fails to upgrade its lock.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

_installed = False


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


def _on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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


def init_app(app) -> None:
    _owner_only_sqlite_file(app.config.get("SQLALCHEMY_DATABASE_URI"))
    global _installed
    if not _installed:
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
        _installed = True
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
