"""Backups of the database: SQLite through its online backup API, PostgreSQL through pg_dump / pg_restore.

A backup holds the DATA only. The keyring (key-encryption keys, blind-index root, access-log key) is backed up
separately, by the operator, to a different place: a stolen data backup then reveals no identity, and erasing a
victim (destroying her data key) can be made final in old backups by retiring the key that wrapped it. See
README.md, "Backups".

Both operations write a row to the access log. The PostgreSQL password goes to pg_dump / pg_restore through
the PGPASSWORD environment variable, never on the command line (where `ps` would show it).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump / pg_restore with an argument list, no shell
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL

from caseapp import audit, crypto
from caseapp.extensions import db
from caseapp.models.keys import DataKey

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# Tables whose rows mean "this database is in use": restoring over them needs --force.
HOLDER_TABLES = ("audit_events", "audit_queue", "users", "entities", "victims", "cases")


class BackupError(Exception):
    """A backup or restore could not be done; the message says why (and names no person)."""


@dataclass
class RestoreResult:
    audit_rows: int
    chain_ok: bool
    chain_problem: str | None
    missing_keks: list[str]


def _url() -> URL:
    return db.engine.url


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_env(url: URL) -> dict[str, str]:
    """libpq environment for the URL's connection parameters (password included, so it stays off argv)."""
    env = dict(os.environ)
    params = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    query = dict(url.query)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                     ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY"), ("application_name", "PGAPPNAME")):
        value = query.get(key)
        if isinstance(value, tuple):
            value = value[0]
        if value and not params.get(var):
            params[var] = str(value)
    for var, value in params.items():
        if value:
            env[var] = str(value)
        else:
            env.pop(var, None)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found: install the PostgreSQL client tools (Debian: postgresql-client)")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tool, list args
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create(path: Path, actor: str = "cli") -> Path:
    """Write a consistent backup of the live database to `path` (a new file, owner-only permissions)."""
    path = Path(path).resolve()
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    dialect = _dialect()
    # Logged before the copy, so that the backup contains its own record.
    audit.record("backup.create", actor=actor, object_type="database", object_ref=dialect)
    db.session.commit()
    db.session.remove()
    tmp = path.with_name(path.name + ".partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        if dialect == "sqlite":
            source = sqlite3.connect(_sqlite_file(_url()))
            target = sqlite3.connect(tmp)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        elif dialect == "postgresql":
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}"],
                 _pg_env(_url()))
        else:
            raise BackupError(f"unsupported database {dialect}")
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _kind_of(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Ruta backup (neither a SQLite file nor a pg_dump custom archive)")


def is_empty() -> bool:
    """True when the database holds no users, entities, cases, victims or access-log rows (tables may exist)."""
    existing = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        for table in HOLDER_TABLES:
            if table in existing and conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first():  # noqa: S608 - fixed names
                return False
    return True


def restore(path: Path, force: bool = False, actor: str = "cli") -> RestoreResult:
    """Replace the database with the backup at `path`; refuse a database in use unless `force`.

    Stop the app servers first. The keyring must be restored separately (same keys as when the backup was made).
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    kind, dialect = _kind_of(path), _dialect()
    if kind != dialect:
        raise BackupError(f"this is a {kind} backup but the database is {dialect}")
    if not force and not is_empty():
        raise BackupError("the database is not empty; restoring would replace it. Use --force to do so.")
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = source.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the backup file is damaged: {check}")
            target_file = _sqlite_file(_url())
            target_file.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(target_file)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    else:
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", f"--dbname={_url().database}", str(path)], _pg_env(_url()))
    db.engine.dispose()


    ring = crypto.keyring(reload=True)
    used = set(db.session.scalars(select(DataKey.kek_id).where(DataKey.wrapped.is_not(None)).distinct()))
    missing = sorted(used - set(ring.keks))
    audit.record("backup.restore", actor=actor, object_type="database", object_ref=dialect,
                 detail={"missing_keks": len(missing)} if missing else None)
    db.session.commit()
    result = audit.verify()
    return RestoreResult(result.rows, result.ok, result.problem, missing)
