"""Database connection settings per dialect.

SQLite: foreign keys on, WAL, overwrite deleted content (secure_delete, for crypto-shredding), full sync,
and every transaction BEGIN IMMEDIATE so that the access-log chain has a single writer and a reader
never fails to upgrade its lock.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

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


def init_app(app) -> None:
    global _installed
    if not _installed:
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
        _installed = True
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
