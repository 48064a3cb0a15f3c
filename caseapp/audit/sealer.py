"""After a commit that had to queue its rows (PostgreSQL): sealing them, off the request when the chain is held.

A commit tries the chain's lock just before it commits (`_seal_before_commit`); when another sealer holds it, its
rows are queued. After that commit, `after_queueing` tries once more, and if the chain is still held, a thread of
this process tries again, more and more slowly (2 ms, then doubling to half a second), for up to a minute: the
request returns at once, and no row waits for the next request. The thread never waits in the lock's queue: a
waiter would make every other commit's try fail until it got the lock. A commit that sealed its own rows sends
nothing after it: a row another request queued meanwhile is that request's to seal, here or on its thread, or is
sealed by the next commit that gets the chain, which seals the queue before its own rows. (Every commit used to
look at the queue after it: a round trip and a connection of its own, 6 % of the case page's time on PostgreSQL.)

A process that exits waits for its thread (up to `EXIT_WAIT` seconds: a command run by cron, a recycled worker).
If it ends before, its rows stay queued: committed, each under its MAC, kept by the queue's trigger. The next commit
that gets the chain seals them first, as do the console, verify, anchors and `flask audit seal`.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from caseapp.audit import chain

log = logging.getLogger("caseapp")
FIRST_RETRY, LAST_RETRY, GIVE_UP = 0.002, 0.5, 60.0  # seconds
EXIT_WAIT = 5.0
_state = threading.Lock()
_apps: dict = {}  # app -> "running", or "again" (a commit queued rows while its thread sealed)


def after_queueing(app, engine) -> None:
    """Seal what this process's commit left queued: now if the chain is free, else on this process's thread.
    Never raises: the request's commit is done, and its rows are safe in the queue."""
    try:
        if _try_seal(engine) is False:
            return
        _wake(app, engine)
    except Exception:  # noqa: BLE001
        log.warning("access log: sealing after commit failed; the rows stay queued", exc_info=True)


def _try_seal(engine) -> bool | None:
    """One try: None when another sealer holds the chain, True when more may be queued, False when all is sealed."""
    with engine.connect() as conn:
        sealed = chain.seal(conn, blocking=False)
        if sealed is None:
            return None
        conn.commit()
        return sealed.more


def _wake(app, engine) -> None:
    with _state:
        if app in _apps:
            _apps[app] = "again"
            return
        _apps[app] = "running"
    try:
        threading.Thread(target=_run, args=(app, engine), name="audit-sealer", daemon=True).start()
    except BaseException:
        with _state:
            _apps.pop(app, None)  # the next commit that queues rows starts one
        raise


def _run(app, engine) -> None:
    while True:
        try:
            with app.app_context():
                seal_queue(engine)
        except Exception:  # noqa: BLE001 - the thread must end and say so; the rows stay queued for the next sealer
            log.warning("access log: the background seal failed; the rows stay queued", exc_info=True)
        with _state:
            if _apps.get(app) != "again":
                _apps.pop(app, None)
                return
            _apps[app] = "running"


def seal_queue(engine) -> None:
    """Try the chain until the queue is sealed (by this thread, or by a commit that got the chain first), backing
    off while another sealer holds it; after GIVE_UP seconds the rows are left to the next sealer."""
    delay, deadline = FIRST_RETRY, time.monotonic() + GIVE_UP
    while True:
        more = _try_seal(engine)
        if more is False:
            return
        if more is None:
            if time.monotonic() > deadline:
                log.warning("access log: the chain was held for %.0f s; queued rows left to the next sealer", GIVE_UP)
                return
            time.sleep(delay)
            delay = min(delay * 2, LAST_RETRY)


def idle(app, timeout: float = 10.0) -> bool:
    """Whether no thread is sealing for `app`, waiting up to `timeout` seconds (tests, and a process's exit)."""
    deadline = time.monotonic() + timeout
    while True:
        with _state:
            if app not in _apps:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


@atexit.register
def _at_exit() -> None:
    deadline = time.monotonic() + EXIT_WAIT
    with _state:
        apps = list(_apps)
    for app in apps:
        idle(app, max(0.0, deadline - time.monotonic()))


def _forget_in_child() -> None:
    """A forked child has none of its parent's threads (gunicorn's --preload): it starts its own."""
    global _state, _apps
    _state, _apps = threading.Lock(), {}


os.register_at_fork(after_in_child=_forget_in_child)
