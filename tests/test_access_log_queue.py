"""The access log's queue and its sealer (issue 14, part A): appends that do not wait on each other, one chain.

- Concurrent appends from several threads, each with its own connection, leave one intact chain holding every row
  exactly once (sealing at each commit, and sealing deferred to `flask audit seal`).
- A queued row cannot be changed or dropped (triggers), and tampering by someone who drops the triggers is detected:
  an edited, renumbered or swapped queued row (its own MAC), a deleted one (SQLite: ids are dense there).
- A process killed between the append and the seal, or in the middle of the seal, loses no row, seals none twice,
  and leaves a log that verifies.
- `at` never goes backwards along the chain, even when a row is sealed after a later one.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from contextlib import contextmanager, nullcontext
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import config
from caseapp import audit, database
from caseapp.extensions import db
from caseapp.models.audit import AuditEvent, AuditPending
from caseapp.timeutil import utcnow

DROP_QUEUE_GUARDS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_queue_no_update", "DROP TRIGGER IF EXISTS audit_queue_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_queue_no_update ON audit_queue",
                   "DROP TRIGGER IF EXISTS audit_queue_no_truncate ON audit_queue"],
}


def _run_sql(*statements: str) -> None:
    """Raw SQL on its own connection, as an attacker with database access would."""
    db.session.rollback()
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _queue(app, n: int, prefix: str = "Q") -> None:
    """n rows appended with sealing deferred: they wait in the queue."""
    app.config["AUDIT_SEAL"] = "deferred"
    for i in range(n):
        audit.record("case.view", object_type="case", object_ref=f"{prefix}-{i}", actor="ana")
    db.session.commit()
    app.config["AUDIT_SEAL"] = "commit"


def _counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(AuditEvent)),
            db.session.scalar(select(func.count()).select_from(AuditPending)))


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


# --- many writers, one chain -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seal", ["commit", "deferred"])
def test_concurrent_appends_leave_one_intact_chain_with_every_row_once(app, seal):
    app.config["AUDIT_SEAL"] = seal
    writers, each = 6, 15
    barrier, errors = threading.Barrier(writers), []

    def write(number):
        try:
            with app.app_context():
                db.session.connection()
                db.session.rollback()
                barrier.wait(30)
                for i in range(each):
                    audit.record("case.view", object_type="case", object_ref=f"W{number}-{i}", actor=f"w{number}")
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with app.app_context():
        result = audit.verify()
        assert result.ok and result.queued == 0, result
        refs = db.session.scalars(select(AuditEvent.object_ref).where(AuditEvent.object_ref.like("W%"))).all()
        assert sorted(refs) == sorted(f"W{n}-{i}" for n in range(writers) for i in range(each))
        per_writer = {}
        for actor, ref in db.session.execute(select(AuditEvent.actor, AuditEvent.object_ref).where(
                AuditEvent.actor.like("w%")).order_by(AuditEvent.seq)):
            per_writer.setdefault(actor, []).append(int(ref.split("-")[1]))
        assert all(v == list(range(each)) for v in per_writer.values()), "one writer's rows keep their order"
        ats = db.session.scalars(select(AuditEvent.at).order_by(AuditEvent.seq)).all()
        assert ats == sorted(ats), "`at` never goes backwards along the chain"


def test_a_commit_seals_its_rows_and_the_console_sees_queued_ones(ctx, runner):
    audit.record("case.view", object_type="case", object_ref="C-1", actor="ana")
    db.session.commit()
    assert _counts()[1] == 0, "with the default policy a commit leaves nothing queued"
    _queue(ctx, 3)
    assert _counts()[1] == 3
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 0 and "sealed 3 rows" in result.output
    assert _counts()[1] == 0
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.object_ref for r in rows[-4:]] == ["C-1", "Q-0", "Q-1", "Q-2"]
    assert all(r.queue_id is not None for r in rows[-3:])  # SQLite seals C-1 as it appends it: no queue id
    assert _verify(runner).exit_code == 0


def test_seal_all_seals_rows_committed_after_the_sessions_first_read(ctx):
    """A console request has read (its user) before it seals: rows another request queued and committed since are
    sealed too, and seen (SQLite fixes a read transaction's snapshot at its first read)."""
    from caseapp.models.accounts import User

    db.session.commit()
    db.session.scalar(select(func.count()).select_from(User))  # the request's first read: the user loader's

    def elsewhere():
        with ctx.app_context():
            _queue(ctx, 3, prefix="LATE")

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert audit.seal_all() == 3
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq.desc()).limit(3)).all()
    assert sorted(refs) == ["LATE-0", "LATE-1", "LATE-2"], "the same transaction reads them, sealed"
    db.session.rollback()
    assert _counts()[1] == 0


def _sent_after_commits(statements: list[str]) -> list[str]:
    """The statements sent after the last COMMIT of those listed."""
    last = max((i for i, s in enumerate(statements) if s == "COMMIT"), default=-1)
    return statements[last + 1:]


@pytest.fixture
def sent(ctx):
    """Every statement the app's engine sends (from any thread), COMMIT included."""
    from sqlalchemy import event

    statements: list[str] = []
    on_statement = lambda _c, _k, statement, *_a: statements.append(statement)  # noqa: E731
    on_commit = lambda _c: statements.append("COMMIT")  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    yield statements
    event.remove(db.engine, "before_cursor_execute", on_statement)
    event.remove(db.engine, "commit", on_commit)


def _postgresql_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite chains every row as it appends it (one writer)")


@contextmanager
def _chain_held():
    """Another request in the middle of its seal: the chain's lock held on a connection of its own until the block
    ends."""
    with db.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit.chain.CHAIN_LOCK_ID})
        try:
            yield
        finally:
            holder.rollback()


def test_a_commit_that_wins_the_chain_writes_no_queue_row_and_sends_nothing_after_it(ctx, sent):
    """PostgreSQL: a request that gets the chain's lock at its commit chains its rows itself (two statements fewer
    than a queue row inserted and deleted), and sends nothing after its commit (it used to look at the queue)."""
    _postgresql_only()
    audit.record("case.view", object_type="case", object_ref="WIN-1", actor="ana")
    db.session.commit()
    assert not any("audit_queue" in s and s.lstrip().upper().startswith(("INSERT", "DELETE")) for s in sent)
    assert _sent_after_commits(sent) == [], sent
    # The try and the head in one statement (migration 0027): the function reads the head by a statement of its
    # own, after the lock, with a snapshot of its own only because it is VOLATILE (a STABLE one would read with
    # the snapshot its caller took before the lock, and could miss the last sealer's commit: two rows, one seq).
    assert sum("audit_chain_try" in s for s in sent) == 1
    assert not any("advisory" in s or "ORDER BY audit_events.seq DESC" in s for s in sent), sent
    assert _counts()[1] == 0
    assert db.session.scalar(text("SELECT provolatile FROM pg_proc WHERE proname = 'audit_chain_try'")) == "v"


def test_rows_queued_while_another_holds_the_chain_are_sealed_when_it_lets_go_with_no_request(ctx):
    """PostgreSQL: while another sealer holds the chain, a commit queues its rows and returns; a thread of its process
    tries the chain until it gets it and seals them, in order, without a later request."""
    from caseapp.audit import sealer

    _postgresql_only()
    audit.record("case.view", object_type="case", object_ref="WIN-1", actor="ana")
    db.session.commit()
    with _chain_held():
        for ref in ("LOSE-1", "LOSE-2"):
            audit.record("case.view", object_type="case", object_ref=ref, actor="ana")
            db.session.commit()  # returns: nothing waits for the chain in the request
        assert _counts()[1] == 2, "the rows wait in the queue, committed, while the chain is held"
        assert not sealer.idle(ctx, timeout=0.2), "a thread tries the chain"
    assert sealer.idle(ctx), "the thread sealed and ended"
    assert _counts()[1] == 0
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-3:] == ["WIN-1", "LOSE-1", "LOSE-2"]
    assert audit.verify().ok


def test_rows_left_queued_by_a_process_that_ended_are_sealed_first_by_the_next_commit(ctx, monkeypatch):
    """PostgreSQL: a process that queued rows and ended before its thread sealed them (here: no thread at all) leaves
    them committed in the queue; the next commit that gets the chain seals them, before its own (as it did before
    the thread)."""
    from caseapp.audit import sealer

    _postgresql_only()
    monkeypatch.setattr(sealer, "_wake", lambda app, engine: None)
    with _chain_held():
        for ref in ("LOSE-1", "LOSE-2"):
            audit.record("case.view", object_type="case", object_ref=ref, actor="ana")
            db.session.commit()
    assert _counts()[1] == 2
    audit.record("case.view", object_type="case", object_ref="WIN-2", actor="ana")
    db.session.commit()
    assert _counts()[1] == 0
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-3:] == ["LOSE-1", "LOSE-2", "WIN-2"]
    assert audit.verify().ok


def test_a_commit_behind_more_than_a_batch_of_queued_rows_has_them_all_sealed_after_it(ctx, monkeypatch):
    """PostgreSQL: a commit that finds more queued than one batch seals a batch and queues its own rows behind the
    rest; after it, this process seals the rest, in order, its rows last."""
    from caseapp.audit import sealer

    _postgresql_only()
    monkeypatch.setattr(audit.chain, "SEAL_BATCH", 3)
    _queue(ctx, 7)
    audit.record("case.view", object_type="case", object_ref="MINE", actor="ana")
    db.session.commit()
    assert sealer.idle(ctx)
    assert _counts()[1] == 0
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-8:] == [f"Q-{i}" for i in range(7)] + ["MINE"]
    assert audit.verify().ok


def test_rows_of_a_commit_made_with_a_savepoint_open_are_sealed_after_it(ctx):
    """PostgreSQL: rows recorded only inside a savepoint are queued as they are written; a root commit made with the
    savepoint still open runs no before_commit of its own, and they are sealed after it all the same."""
    from caseapp.audit import sealer

    _postgresql_only()
    db.session.rollback()
    with db.session.begin():
        db.session.begin_nested()
        audit.record("case.view", object_type="case", object_ref="SP", actor="ana")
    assert sealer.idle(ctx)
    assert _counts()[1] == 0
    assert db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq.desc())).first() == "SP"


def test_a_thread_that_cannot_start_fails_no_request_and_the_next_commit_starts_one(ctx, monkeypatch):
    """PostgreSQL: the commit is done when its thread is started; a thread that cannot start (a process at its
    limit) neither fails the request nor stops the next commit that queues rows from starting one."""
    import threading

    from caseapp.audit import sealer

    _postgresql_only()
    start = threading.Thread.start
    failed = []

    def refuse_once(thread):
        if thread.name == "audit-sealer" and not failed:
            failed.append(thread)
            raise RuntimeError("can't start new thread")
        return start(thread)

    monkeypatch.setattr(threading.Thread, "start", refuse_once)
    with _chain_held():
        audit.record("case.view", object_type="case", object_ref="LOSE-1", actor="ana")
        db.session.commit()  # does not raise: its row is safe in the queue
        assert failed and sealer.idle(ctx, timeout=0)
        audit.record("case.view", object_type="case", object_ref="LOSE-2", actor="ana")
        db.session.commit()
        assert not sealer.idle(ctx, timeout=0.2), "the next commit started a thread"
    assert sealer.idle(ctx)
    assert _counts()[1] == 0
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-2:] == ["LOSE-1", "LOSE-2"]


def test_a_row_kept_as_evidence_in_a_full_batch_does_not_leave_the_rest_queued(ctx, monkeypatch):
    """PostgreSQL: a batch that read a queued row whose MAC does not hold (kept as evidence) chains one row fewer than
    it read; what waits behind that batch, the commit's own rows among them, is still sealed after it."""
    from caseapp.audit import sealer

    _postgresql_only()
    monkeypatch.setattr(audit.chain, "SEAL_BATCH", 3)
    _queue(ctx, 3)
    first = db.session.scalars(select(AuditPending.id).order_by(AuditPending.id)).first()
    _run_sql(*DROP_QUEUE_GUARDS["postgresql"], f"UPDATE audit_queue SET actor = 'nobody' WHERE id = {first}")  # noqa: S608
    audit.record("case.view", object_type="case", object_ref="MINE", actor="ana")
    db.session.commit()
    assert sealer.idle(ctx)
    assert db.session.scalars(select(AuditPending.id)).all() == [first], "only the edited row stays, as evidence"
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-3:] == ["Q-1", "Q-2", "MINE"]


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_a_row_of_a_transaction_that_never_committed_is_never_written(ctx, end):
    """On PostgreSQL a row waits for its transaction's commit in the session: a transaction rolled back or closed
    takes it along, as the database does on SQLite, and the session's next commit does not write it."""
    audit.record("case.view", object_type="case", object_ref="GONE-1", actor="ana")
    getattr(db.session, end)()
    audit.record("case.view", object_type="case", object_ref="KEPT-1", actor="ana")
    db.session.commit()
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert "GONE-1" not in refs and refs[-1] == "KEPT-1"
    assert _counts()[1] == 0


def test_a_row_recorded_before_a_savepoint_that_fails_is_committed_with_the_transaction(ctx):
    """The lost-race pattern (insert_unique, a case counter, the login throttle): a savepoint whose write fails at
    its release is rolled back and the transaction goes on. The rows recorded before it commit with the rest (a
    savepoint's release fires the commit events too; found by an outside review: the row was written inside the
    savepoint and rolled back with it, while the business change committed)."""
    from sqlalchemy.exc import IntegrityError

    from caseapp.models.accounts import Setting

    with db.engine.begin() as other:  # another request wrote it first
        other.execute(text("INSERT INTO settings (key, value, version) VALUES ('probe.dup', '1', 1)"))
    audit.record("case.view", object_type="case", object_ref="OUTER-1", actor="ana")
    db.session.add(Setting(key="probe.outer", value="kept"))
    try:
        with db.session.begin_nested():
            db.session.add(Setting(key="probe.dup", value="2"))
    except IntegrityError:
        pass
    db.session.commit()
    assert db.session.get(Setting, "probe.outer") is not None
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-1] == "OUTER-1" and _counts()[1] == 0, "sealed at the outer commit, nothing left queued"


def test_rows_of_a_root_transaction_committed_with_a_savepoint_open_are_not_lost(ctx):
    """`with session.begin():` commits the root transaction with a savepoint still open, and fires its
    before_commit inside it (the app commits through Session.commit(), which releases savepoints first; found by an
    outside review). The rows are queued just after the commit and sealed, not dropped."""
    db.session.rollback()
    with db.session.begin():
        audit.record("case.view", object_type="case", object_ref="ROOT-1", actor="ana")
        db.session.begin_nested()
        audit.record("case.view", object_type="case", object_ref="SAVEPOINT-1", actor="ana")
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert {"ROOT-1", "SAVEPOINT-1"} <= set(refs) and _counts()[1] == 0
    assert audit.verify().ok


def test_a_row_sealed_after_a_later_one_takes_its_time(ctx, clock):
    """Queue order is not time order on PostgreSQL (a transaction that took an id early may commit late): the
    sealer keeps `at` monotonic so that the console's date range stays a seq range."""
    clock.set("2026-03-02 10:00")
    audit.record("case.view", object_type="case", object_ref="LATER", actor="ana")
    db.session.commit()
    clock.set("2026-03-02 09:00")  # a row whose clock says earlier (a clock stepped back)
    audit.record("case.view", object_type="case", object_ref="EARLIER", actor="ana")
    db.session.commit()
    clock.stop()
    later, earlier = (db.session.scalar(select(AuditEvent).where(AuditEvent.object_ref == r)) for r in
                      ("LATER", "EARLIER"))
    assert earlier.seq > later.seq and earlier.at == later.at
    assert audit.verify().ok


# --- queued rows: guarded, and tampering shows ------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE audit_queue SET actor = 'nobody'",
    "DELETE FROM audit_queue",
])
def test_a_queued_row_cannot_be_changed_or_dropped(ctx, statement):
    _queue(ctx, 2)
    with pytest.raises(DBAPIError, match="audit_queue"):
        _run_sql(statement)
    assert _counts()[1] == 2
    assert audit.verify().ok and _counts() == (2, 0)


@pytest.fixture
def queued(ctx):
    """Three sealed rows, then three queued ones; the attacker has dropped the queue's triggers."""
    for i in range(3):
        audit.record("case.view", object_type="case", object_ref=f"S-{i}", actor="ana")
    db.session.commit()
    _queue(ctx, 3)
    ids = db.session.scalars(select(AuditPending.id).order_by(AuditPending.id)).all()
    _run_sql(*DROP_QUEUE_GUARDS[db.engine.dialect.name])
    return ids


def test_an_edited_queued_row_is_detected_and_kept_as_evidence(queued, runner):
    _run_sql(f"UPDATE audit_queue SET actor = 'nobody' WHERE id = {queued[1]}")  # noqa: S608 - an int
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"BROKEN at queued row {queued[1]}" in result.output and "MAC" in result.output
    # The sealer sealed the others and left the edited row where it was.
    assert db.session.scalars(select(AuditPending.id)).all() == [queued[1]]
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    assert refs[-2:] == ["Q-0", "Q-2"]


def test_swapped_queued_rows_are_detected(queued, runner):
    a, b = queued[0], queued[2]
    _run_sql(f"UPDATE audit_queue SET id = -1 WHERE id = {a}",  # noqa: S608 - ints
             f"UPDATE audit_queue SET id = {a} WHERE id = {b}",  # noqa: S608
             f"UPDATE audit_queue SET id = {b} WHERE id = -1")  # noqa: S608
    result = _verify(runner)
    assert result.exit_code == 1 and "BROKEN at queued row" in result.output


def test_a_renumbered_queued_row_is_detected(queued, runner):
    _run_sql(f"UPDATE audit_queue SET id = {queued[-1] + 5} WHERE id = {queued[-1]}")  # noqa: S608 - ints
    result = _verify(runner)
    assert result.exit_code == 1 and "BROKEN at queued row" in result.output


@pytest.mark.parametrize("which", ["one", "the_tail"])
def test_a_queued_row_deleted_before_its_seal(queued, runner, which):
    """SQLite's queue ids are dense, so verify finds the hole. PostgreSQL's come from a sequence with gaps (a rolled
    back append leaves one), so there the queued row is protected only by its trigger (the test above) and its short
    stay; with the trigger dropped its deletion leaves no trace, as caseapp/audit/chain.py documents. If PostgreSQL
    ever detects it, this test says so and the documentation must change."""
    where = f"id = {queued[1]}" if which == "one" else f"id >= {queued[0]}"
    _run_sql(f"DELETE FROM audit_queue WHERE {where}")  # noqa: S608 - ints
    result = _verify(runner)
    if db.engine.dialect.name == "sqlite":
        assert result.exit_code == 1
        assert f"BROKEN at queued row {queued[1] if which == 'one' else queued[0]}" in result.output
        assert "deleted" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert _counts()[0] == (5 if which == "one" else 3)  # the deleted rows are simply absent


def _forge(n: int, first_id: int | None = None) -> list[int]:
    """n rows inserted into the queue with a MAC that does not hold, as the app's own database role may (the queue's
    triggers refuse only changes and deletions); from `first_id` on, else with the ids the queue would give."""
    postgresql = db.engine.dialect.name == "postgresql"
    db.session.rollback()
    with db.engine.begin() as conn:
        for g in range(n):
            id_ = first_id + g if first_id is not None else \
                conn.scalar(text("SELECT nextval('audit_queue_id_seq')")) if postgresql else None
            conn.execute(text("INSERT INTO audit_queue (id, mac, at, action, outcome) "
                              "VALUES (:id, 'forged', :at, 'case.view', 'allowed')"), {"id": id_, "at": utcnow()})
        if postgresql and first_id is not None:  # the rows the app queues next come after them
            conn.execute(text("SELECT setval('audit_queue_id_seq', :last)"), {"last": first_id + n})
    return db.session.scalars(select(AuditPending.id).order_by(AuditPending.id)).all()


def _replay(ctx) -> list[int]:
    """A queued row copied before its seal and inserted again after it: its MAC holds, and its id is in the chain."""
    _queue(ctx, 1, prefix="REPLAYED")
    copy = db.session.execute(select(AuditPending.__table__)).one()._asdict()
    audit.seal_all()
    db.session.commit()
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(AuditPending.__table__.insert(), [copy])
    return [copy["id"]]


def _seal_by(path: str, runner):
    """Every path that seals the queue: the function the console, alerts and anchors call (also from a transaction
    that already writes, SQLite's own branch), the three commands, and (PostgreSQL) a request's commit, which seals
    what is queued before its own row, or, when another sealer holds the chain, its process's thread after it."""
    if path in ("seal_all", "seal_all_writing"):
        if path == "seal_all_writing":
            database.take_write_lock(db.session)
        sealed = audit.seal_all()
        db.session.commit()  # the caller's (in a transaction that writes, the seal is part of it)
        return sealed
    if path in ("commit", "thread"):
        with _chain_held() if path == "thread" else nullcontext():
            audit.record("case.view", object_type="case", object_ref="MINE", actor="ana")
            db.session.commit()
        return None
    return runner.invoke(args=["audit", path])


@pytest.mark.parametrize("forged", [
    pytest.param((3, None), id="a-whole-batch"),
    pytest.param((5, None), id="a-batch-and-a-part"),
    pytest.param((3, 2**31), id="ids-beyond-32-bits"),
    pytest.param("replay", id="a-sealed-row-inserted-again"),
])
@pytest.mark.parametrize("path", ["seal_all", "seal_all_writing", "seal", "verify", "anchor", "commit", "thread"])
def test_forged_rows_at_the_queues_head_are_read_past(ctx, runner, monkeypatch, path, forged):
    """Rows forged into the queue's head (three to a batch here, a thousand in production): every path that seals
    reads past them, counts them for nothing, and seals the rows behind them a full batch at a time; verify names
    the first forged row. Counted with the rest, a batch of them left every seal nothing to chain and said more
    might wait (seal_all looped for ever, and so did PostgreSQL's sealer thread), and a part of one left a seal a
    row or two; bound as a 32-bit integer, reading past ids beyond 2**31 failed every commit on PostgreSQL; a sealed
    row inserted again (its MAC holds) was chained again, against the chain's unique queue id, which failed every
    seal (every commit on PostgreSQL, and verify with an IntegrityError)."""
    from caseapp.audit import sealer

    if path in ("commit", "thread"):
        _postgresql_only()
    monkeypatch.setattr(audit.chain, "SEAL_BATCH", 3)
    monkeypatch.setattr(audit.chain, "_ids", {})  # PostgreSQL: no spare id from before the forged ones
    forged_ids = _replay(ctx) if forged == "replay" else _forge(*forged)
    _queue(ctx, 4, prefix="BEHIND")
    seals = []
    real_seal = audit.chain.seal
    monkeypatch.setattr(audit.chain, "seal", lambda *a, **k: seals.append(real_seal(*a, **k)) or seals[-1])
    done, errors = threading.Event(), []

    def seal():
        try:
            with ctx.app_context():
                _seal_by(path, runner)
                db.session.rollback()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    threading.Thread(target=seal, daemon=True).start()
    assert done.wait(60), f"{path} never returned"
    assert not errors, errors
    assert sealer.idle(ctx)
    db.session.rollback()
    assert db.session.scalars(select(AuditPending.id).order_by(AuditPending.id)).all() == forged_ids
    refs = db.session.scalars(select(AuditEvent.object_ref).order_by(AuditEvent.seq)).all()
    behind = [f"BEHIND-{i}" for i in range(4)]
    assert refs[-5:] == behind + ["MINE"] if path in ("commit", "thread") else refs[-4:] == behind
    if path in ("seal_all", "seal"):
        assert [int(s) for s in seals] == [3, 1], "a full batch, then the rest"
    result = _verify(runner)
    assert result.exit_code == 1 and f"BROKEN at queued row {forged_ids[0]}" in result.output


def test_a_seal_reads_the_queue_a_batch_at_a_time_around_forged_rows(ctx, monkeypatch):
    """Good rows ahead of forged ones and behind them: a seal reads whole batches, never a row at a time (reading
    only what its batch still lacked, a seal that had 999 rows read the 3,000 forged ones behind them one statement
    each)."""
    monkeypatch.setattr(audit.chain, "SEAL_BATCH", 3)
    monkeypatch.setattr(audit.chain, "_ids", {})
    _queue(ctx, 2, prefix="AHEAD")
    _forge(6)
    monkeypatch.setattr(audit.chain, "_ids", {})  # PostgreSQL: not the AHEAD rows' spare ids, ahead of the forged
    _queue(ctx, 4, prefix="BEHIND")
    reads, seals = [0], []
    real_seal = audit.chain.seal

    def counted(_conn, statement, *args, **kwargs):
        reads[0] += statement is audit.chain._HEAD_AND_QUEUE
    def seal(*args, **kwargs):
        reads[0] = 0
        sealed = real_seal(*args, **kwargs)
        seals.append((int(sealed), reads[0]))
        return sealed

    monkeypatch.setattr(audit.chain, "seal", seal)
    from sqlalchemy import event
    event.listen(db.engine, "before_execute", counted)
    try:
        audit.seal_all()
    finally:
        event.remove(db.engine, "before_execute", counted)
    assert [n for n, _reads in seals if n] == [3, 3], "two full batches: AHEAD and one BEHIND, then three BEHIND"
    assert all(1 <= r <= 5 for _n, r in seals), seals  # (2 + 6 + 4) / 3 + 1
    assert _counts()[1] == 6


def test_a_queue_id_counter_set_far_ahead_or_edited_is_named_without_listing_the_ids(ctx, runner):
    """SQLite: verify names a queue id given and found nowhere (dense ids) by looking through the gap, never by
    listing it: a counter set to 2**40 (or a row given that id, then deleted) made a list of 2**40 ids; one that is
    not an id made range() raise. PostgreSQL: ids come from a sequence with gaps, so a sequence set far ahead is
    no tampering, and verify holds."""
    _queue(ctx, 1)
    if db.engine.dialect.name == "postgresql":
        _run_sql(f"SELECT setval('audit_queue_id_seq', {2**40})")  # noqa: S608 - an int
        _queue(ctx, 1, prefix="FAR")
        result = _verify(runner)
        assert result.exit_code == 0, result.output
        return
    for counter, named in ((2**40, "deleted"), ("'x'", "edited"), ("1e300", "edited")):
        _run_sql(f"UPDATE sqlite_sequence SET seq = {counter} WHERE name = 'audit_queue'")  # noqa: S608 - literals
        result = _verify(runner)
        assert result.exit_code == 1 and named in result.output, (counter, result.output)


# --- a crash between the append and the seal --------------------------------------------------------------------

CRASHER = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import config
from caseapp import audit, create_app
from caseapp.extensions import db
from caseapp.models.accounts import Setting
from sqlalchemy import event

url, seal, point = sys.argv[2], sys.argv[3], sys.argv[4]
app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=url, AUDIT_SEAL=seal))
with app.app_context():
    def die(_conn, _cursor, statement, *_args):
        if point in statement:
            os._exit(3)  # no cleanup, no rollback: as a killed process
    event.listen(db.engine, "before_cursor_execute", die)
    db.session.add(Setting(key="perfa.crash", value="1"))  # the change the row describes
    audit.record("setting.save", object_type="setting", object_ref="perfa.crash", actor="cli")
    db.session.commit()
    audit.seal_all()  # as `flask audit seal` would, when sealing is deferred
os._exit(0)
"""


@pytest.mark.parametrize(("seal", "point"), [
    # In the appending transaction, before its commit (SQLite, and PostgreSQL when the request wins the chain's
    # lock and chains its own row).
    ("commit", "INSERT INTO audit_events"),
    ("deferred", "AS queue ON"),  # the append committed; killed as the sealer reads the queue
    ("deferred", "DELETE FROM audit_queue"),    # in the seal: chain rows inserted, queue rows not yet deleted
])
def test_a_crash_between_append_and_seal_loses_no_row_and_seals_none_twice(app, database_url, seal, point, runner):
    from caseapp.models.accounts import Setting

    with app.app_context():
        for i in range(3):
            audit.record("case.view", object_type="case", object_ref=f"B-{i}", actor="ana")
        db.session.commit()
        before = _counts()[0]
        db.session.remove()
    env = {**os.environ, "PYTHONPATH": str(config.ROOT)}
    crashed = subprocess.run([sys.executable, "-c", CRASHER, str(config.ROOT), database_url, seal, point], env=env,
                             capture_output=True, timeout=120)
    assert crashed.returncode == 3, crashed.stderr.decode(errors="replace")
    with app.app_context():
        committed = db.session.scalar(select(Setting).where(Setting.key == "perfa.crash")) is not None
        result = _verify(runner)
        assert result.exit_code == 0, result.output
        rows = db.session.scalars(select(AuditEvent.object_ref).where(AuditEvent.action == "setting.save")).all()
        # The change and its row: both or neither, and the row exactly once.
        assert rows == (["perfa.crash"] if committed else [])
        assert _counts() == (before + len(rows), 0)
        if seal == "deferred":
            assert committed, "the append was committed before the seal began: the row survives the crash"
        db.session.remove()


def test_the_hint_counter_counts_queued_rows_too(ctx):
    """A count the app enforces on the log (cross-entity hints a day) must not miss rows not yet sealed."""
    from caseapp.timeutil import utcnow

    ctx.config["AUDIT_SEAL"] = "deferred"
    for i in range(2):
        audit.record("registry.cross_entity_hint", object_type="case", object_ref=f"H-{i}", actor="ana")
    db.session.commit()
    assert _counts()[1] == 2
    assert audit.count(utcnow() - timedelta(days=1), actor="ana", action="registry.cross_entity_hint") == 2
    # its statement is built once per set of compared columns; a None still compares as IS NULL, another actor as 0
    audit.record("registry.cross_entity_hint", object_type="case", object_ref="H-2", actor=None)
    db.session.commit()
    since = utcnow() - timedelta(days=1)
    assert audit.count(since, "registry.cross_entity_hint", actor=None) == 1
    assert audit.count(since, "registry.cross_entity_hint", actor="beto") == 0
    assert audit.count(since, "registry.cross_entity_hint", actor="ana", outcome="allowed") == 2
    assert audit.count(since, "registry.cross_entity_hint") == 3
