"""Counting a publication again off the request: a reader who finds it out of date is served the stored one and
starts one background build; one server at a time builds a given territory and year (a PostgreSQL advisory lock,
or on SQLite - one machine - a lock file in the instance folder), and the others keep serving what is stored.

PUBLICATION_BUILD = "inline" (the tests' setting) counts during the request instead, so that a test reads what it
has just written; a build in the background is tested on its own (tests/test_publication_rebuild.py).
"""
from __future__ import annotations

import fcntl
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from caseapp.extensions import db

BUILD_LOCK_ID = 0x52555442  # "RUTB": PostgreSQL advisory locks of publication builds, one per territory and year

_lock = threading.Lock()
_running: dict[tuple[str, int], threading.Thread] = {}
_checked: dict[tuple[str, int], float] = {}
_again: set[tuple[str, int]] = set()


def inline() -> bool:
    return current_app.config.get("PUBLICATION_BUILD", "background") == "inline"


def due_for_check(found) -> bool:
    """Whether this server should look again at whether the data under `found` changed (at most once per delay)."""
    key, now = (found.territory, found.year), time.monotonic()
    delay = 60 * int(current_app.config.get("PUBLICATION_MAX_AGE_MINUTES", 60))
    with _lock:
        if now - _checked.get(key, float("-inf")) < delay:
            return False
        _checked[key] = now
    return True


def schedule(territory: str, year: int, refresh) -> None:
    """Start `refresh(territory, year)` (read.refresh: count again if still out of date) in a background thread of
    this server, unless one is already running."""
    app = current_app._get_current_object()
    key = (territory, year)
    with _lock:
        if key in _running:
            _again.add(key)  # the running build may have looked before this reader's reason (k just raised): again
            return
        thread = threading.Thread(target=_run, args=(app, territory, year, refresh), name=f"publication-{territory}-{year}",
                                  daemon=True)
        _running[key] = thread
    thread.start()


def wait(timeout: float = 300.0) -> None:
    """Wait for this server's background builds (tests, and the command line before it exits)."""
    deadline = time.monotonic() + timeout
    while True:
        with _lock:
            threads = list(_running.values())
        if not threads:
            return
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            return


def _run(app, territory: str, year: int, refresh) -> None:
    started = time.perf_counter()
    try:
        with app.app_context():
            with claim(territory, year) as mine:
                while mine:
                    refresh(territory, year)
                    with _lock:
                        if (territory, year) not in _again:
                            break
                        _again.discard((territory, year))
                if mine:
                    app.logger.info("publication %s %s counted in the background in %.1f s", territory, year,
                                    time.perf_counter() - started, extra={"event": "publication.rebuilt"})
    except Exception:  # noqa: BLE001 - a failed build leaves the stored publication served; the next read retries
        app.logger.exception("background publication build failed")
    finally:
        with _lock:
            _running.pop((territory, year), None)
            _again.discard((territory, year))


@contextmanager
def claim(territory: str, year: int):
    """Yield whether this process may build the publication now (no other server is building it)."""
    if db.engine.dialect.name == "postgresql":
        key = zlib.crc32(f"{territory}:{year}".encode()) & 0x7FFFFFFF
        with db.engine.connect() as conn:
            mine = conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": BUILD_LOCK_ID, "b": key})
            conn.commit()
            try:
                yield bool(mine)
            finally:
                if mine:
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": BUILD_LOCK_ID, "b": key})
                    conn.commit()
        return
    path = Path(current_app.config["INSTANCE_PATH"]) / f"publication-{territory}-{year}.lock"
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
