"""Reads do not take the write lock; a write still never works from stale data (issue 14, part A).

- A case page is read while another connection holds the database's write lock (SQLite: an open writing
  transaction; PostgreSQL: the access-log chain's sealer lock): the page's reads run at once; only its access-log
  append waits (SQLite), or nothing waits at all (PostgreSQL, the row is sealed afterwards). Asserted on the order
  of events, never on time.
- A stale edit is still refused after reads became deferred: another connection commits a change between the
  request's read of the case and its write (web form and API).
- Savepoints opened while a transaction only read survive the switch to writing.
"""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import event, select, text

from caseapp import audit
from caseapp.audit.chain import CHAIN_LOCK_ID
from caseapp.extensions import db
from caseapp.models.audit import AuditEvent
from tests.world import form_payload, logged_in_client, new_api_token, post_forms

STALE_WORDS = ("no se guardó", "nada se guardó", "otra persona", "alguien más")
WAIT = 30  # a liveness bound for a thread that must get there, not a measure of time


@pytest.fixture
def people(app, factory):
    from tests.cases_factory import make_case

    ana = factory.user("ana", roles=("social_worker",), entity="ALFA")
    with app.test_request_context():
        code = make_case(ana.id, given_names="Mariana", identified_on=date(2025, 3, 10))
        token = new_api_token(ana.id)
    return {"ana": ana, "code": code, "token": token}


def _statements_of(app, thread_name: str, into: list, marker: threading.Event, pattern: str) -> None:
    """Observe (not alter) the SQL that one thread sends; set `marker` when it sends one containing `pattern`."""
    def seen(_conn, _cursor, statement, *_args):
        if threading.current_thread().name == thread_name:
            into.append(statement)
            if pattern in statement:
                marker.set()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
    return seen


class LockHolder:
    """Another connection holding the write lock (SQLite) or the chain's sealer lock (PostgreSQL) until released."""

    def __init__(self, app):
        self.app, self.held, self.release, self.thread = app, threading.Event(), threading.Event(), None

    def _run(self):
        with self.app.app_context(), db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.execute(text("UPDATE settings SET version = version WHERE 1 = 0"))  # a writer from here on
            else:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_ID})
            self.held.set()
            self.release.wait(WAIT)
            conn.rollback()

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, name="holder")
        self.thread.start()
        assert self.held.wait(WAIT)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(WAIT)


def test_a_page_is_read_while_another_connection_holds_the_write_lock(app, people):
    client = logged_in_client(app, people["ana"])
    code = people["code"]
    sent, read_the_case = [], threading.Event()
    listener = _statements_of(app, "reader", sent, read_the_case, "FROM cases")
    events, answer = [], {}
    with app.app_context():
        dialect = db.engine.dialect.name

    def read():
        answer["response"] = client.get(f"/cases/{code}")
        events.append("page answered")

    reader = threading.Thread(target=read, name="reader")
    with LockHolder(app):
        reader.start()
        assert read_the_case.wait(WAIT), "the page's reads waited for another connection's write lock"
        events.append("case read while the lock is held")
        if dialect == "postgresql":
            reader.join(WAIT)  # nothing waits: the row is appended to the queue, the chain is sealed later
        events.append("lock released")
    reader.join(WAIT)
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", listener)
    assert answer["response"].status_code == 200
    if dialect == "sqlite":
        # The append (the page's only write) waited for the lock, and only the append.
        assert events == ["case read while the lock is held", "lock released", "page answered"]
    else:
        assert events == ["case read while the lock is held", "page answered", "lock released"]
    with app.app_context():
        audit.seal_all()
        rows = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_ref == code, AuditEvent.action == "case.view")).all()
        assert rows == ["case.view"], "the page's access-log row must be there exactly once"
        assert audit.verify().ok


def _edit_form(client, code):
    r = client.get(f"/cases/{code}/edit")
    assert r.status_code == 200
    form = next(f for f in post_forms(r.get_data(as_text=True)) if f["action"].endswith("/edit") or not f["action"])
    return form_payload(form)


def _state(app, code):
    from caseapp.models.cases import Case

    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        state = (case.version, case.victim.given_names)
        db.session.remove()
    return state


@pytest.mark.parametrize("path", ["web", "api"])
def test_a_stale_edit_is_refused_when_another_commit_lands_between_its_read_and_its_write(app, people, path):
    """The edit reads the case (version v); before it writes, another connection commits version v+1. The write
    then sees current data (SQLite: a fresh writing transaction, not a failed lock upgrade) and is refused as stale;
    the other change stays."""
    from caseapp.services import registry

    code = people["code"]
    version, _name = _state(app, code)
    client = logged_in_client(app, people["ana"])
    form = _edit_form(client, code) if path == "web" else None
    done, other_failed = threading.Event(), []

    def interleave(_conn, _cursor, statement, *_args):
        if done.is_set() or threading.current_thread().name != "editor" or "FROM cases" not in statement:
            return
        done.set()  # the editor has read the case (version v): another person saves before it writes
        worker = threading.Thread(target=_other_saves, name="other")
        worker.start()
        worker.join(WAIT)

    def _other_saves():
        from caseapp.models.accounts import User

        try:
            with app.test_request_context():
                registry.update_case(db.session.get(User, people["ana"].id), code, {"given_names": "Valentina"},
                                     version=version)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            other_failed.append(error)

    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", interleave)
    answer = {}

    def edit():
        if path == "web":
            form["given_names"] = "Lucía"
            answer["r"] = client.post(f"/cases/{code}/edit", data=form)
        else:
            answer["r"] = app.test_client().patch(
                f"/api/v1/cases/{code}", json={"version": version, "given_names": "Lucía"},
                headers={"Authorization": f"Bearer {people['token']}"})

    editor = threading.Thread(target=edit, name="editor")
    editor.start()
    editor.join(WAIT * 2)
    with app.app_context():
        event.remove(db.engine, "after_cursor_execute", interleave)
    assert done.is_set() and not other_failed, other_failed
    response = answer["r"]
    assert response.status_code == 409, response.status_code
    text_ = (response.get_json() or {}).get("message", "") if path == "api" else response.get_data(as_text=True)
    assert any(w in text_.lower() for w in STALE_WORDS)
    assert _state(app, code) == (version + 1, "Valentina"), "the other person's saved change must stay"


def test_a_savepoint_opened_while_reading_survives_the_first_write(ctx):
    from caseapp.models.accounts import Setting

    db.session.scalar(select(Setting).limit(1))  # a read: on SQLite the transaction is not a writer yet
    with db.session.begin_nested():
        db.session.add(Setting(key="perfa.savepoint", value="1"))
    try:
        with db.session.begin_nested():
            db.session.add(Setting(key="perfa.rolled_back", value="1"))
            db.session.flush()
            raise RuntimeError("roll this savepoint back")
    except RuntimeError:
        pass
    db.session.commit()
    keys = set(db.session.scalars(select(Setting.key).where(Setting.key.like("perfa.%"))))
    assert keys == {"perfa.savepoint"}
