"""After a commit that had to queue its rows (PostgreSQL): sealing them, off the request when the chain is held.

A commit tries the chain's lock just before it commits (`_seal_before_commit`); when another sealer holds it, its
rows are queued. After that commit, `after_queueing` tries once more, and if the chain is still held, a thread of
this process waits for the lock and seals the queue: the request returns at once, and no row waits for the next
request. A commit that sealed its own rows sends nothing after it: a row another request queued meanwhile is that
request's to seal, here or on its thread. (Every commit used to look at the queue after it: a round trip and a
connection of its own, 6 % of the case page's time on PostgreSQL.)

If the process ends before its thread seals, the rows stay queued: committed, each under its MAC, kept by the
queue's trigger. The next commit that gets the chain seals them first, as do the console, verify, anchors and
`flask audit seal`.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from caseapp.audit import chain

log = logging.getLogger("caseapp")
_state = threading.Lock()
_apps: dict = {}  # app -> "running", or "again" (a commit queued rows while its thread sealed)


def after_queueing(app, engine) -> None:
    """Seal what this process's commit left queued: now if the chain is free, else on this process's thread."""
    try:
        with engine.connect() as conn:
            sealed = chain.seal(conn, blocking=False, limit=chain.SEAL_BATCH)
            if sealed is not None:
                conn.commit()
                if sealed < chain.SEAL_BATCH:
                    return
    except SQLAlchemyError:  # never fails the request that committed: its rows are safe in the queue
        log.warning("access log: sealing after commit failed; the rows stay queued", exc_info=True)
    _wake(app, engine)


def _wake(app, engine) -> None:
    with _state:
        if app in _apps:
            _apps[app] = "again"
            return
        _apps[app] = "running"
    threading.Thread(target=_run, args=(app, engine), name="audit-sealer", daemon=True).start()


def _run(app, engine) -> None:
    while True:
        try:
            with app.app_context():
                seal_everything(engine)
        except Exception:  # noqa: BLE001 - the thread must end and say so; the rows stay queued for the next sealer
            log.warning("access log: the background seal failed; the rows stay queued", exc_info=True)
        with _state:
            if _apps.get(app) != "again":
                _apps.pop(app, None)
                return
            _apps[app] = "running"


def seal_everything(engine) -> None:
    """Wait for the chain and seal the queue, batch after batch."""
    while True:
        with engine.begin() as conn:
            sealed = chain.seal(conn, blocking=True, limit=chain.SEAL_BATCH) or 0
        if sealed < chain.SEAL_BATCH:
            return


def idle(app, timeout: float = 10.0) -> bool:
    """Whether no thread is sealing for `app` (waiting up to `timeout` seconds): for tests and shutdown."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _state:
            if app not in _apps:
                return True
        time.sleep(0.01)
    return False
