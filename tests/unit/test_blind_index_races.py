"""A `flask victims reindex` racing the paths that write or compare blind indexes (the outside review of stop 34):
whatever commits first, every victim ends indexed at the recorded width, a search and the duplicate check find
her, and neither the reindex nor the other path is refused. Run on both databases (PostgreSQL is where reads
of one request see commits between its statements)."""
from __future__ import annotations

import threading
import time

import pytest

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.victims import Victim
from caseapp.services import registry
from caseapp.services.registry import index_width


def _reindex_in_thread(app, planned=10_000_000, timeout=30.0):
    from caseapp.services.registry.reindex import reindex
    outcome = {}

    def run():
        with app.app_context():
            app.config["PLANNED_VICTIMS"] = planned
            try:
                outcome["reindexed"] = reindex()
            except Exception as error:  # noqa: BLE001 - the assertion names it
                outcome["error"] = repr(error)
            db.session.remove()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout)
    outcome["finished"] = not thread.is_alive()
    return thread, outcome


def test_a_reindex_committed_between_the_width_read_and_the_candidates_read(app, factory, monkeypatch):
    """The duplicate check reads the width, then the candidates: a reindex committing between the two made it
    compare an old-width index with new-width columns and pass a real duplicate (PostgreSQL). Registration now
    checks again when the width it locks differs from the one the check used."""
    from tests.unit.test_cases_services import data

    ana = factory.user("ana", entity="SDIS")
    with app.app_context():
        registry.register_case(db.session.get(User, ana.id), data(document_number="444555"))
        db.session.remove()
    real_bits, fired = index_width.bits, []

    def bits_then_reindex(*args, **kwargs):
        value = real_bits(*args, **kwargs)
        if not fired and threading.current_thread() is threading.main_thread():
            fired.append(True)
            _thread, outcome = _reindex_in_thread(app)
            assert outcome.get("reindexed") == 1, outcome
        return value

    monkeypatch.setattr(index_width, "bits", bits_then_reindex)
    with app.test_request_context():
        user = db.session.get(User, ana.id)
        with pytest.raises(registry.PossibleDuplicate):  # the same person, same document, same entity
            registry.register_case(user, data(document_number="444555"))
        db.session.remove()
    assert fired


def test_two_first_registrations_the_second_indexes_her_outside_the_lock(app, factory, monkeypatch):
    """The first two registrations of a deployment at once (no width row yet): the second's insert of the width
    loses, and it read the width back without the lock, so a reindex committed without waiting for her and she was
    left at the replaced width (PostgreSQL). It reads it again, locked."""
    from caseapp.services.registry import registration
    from tests.unit.test_cases_services import data

    ana = factory.user("ana", entity="SDIS")
    inserted = threading.Event()

    def first_registration():  # records the width (bits_to_write's insert) and commits a second later
        with app.app_context():
            index_width.bits_to_write()
            inserted.set()
            time.sleep(1.5)
            db.session.commit()
            db.session.remove()
    first = threading.Thread(target=first_registration)
    first.start()
    assert inserted.wait(10)

    real_reindex, seen = registration._reindex, {}

    def reindex_meanwhile(victim, bits=None):
        real_reindex(victim, bits)  # the width read (after waiting for the first's insert, on PostgreSQL)
        seen["thread"], seen["reindex"] = _reindex_in_thread(app, timeout=4.0)  # waits for our lock, if we hold one
        seen["finished_before_her_commit"] = seen["reindex"]["finished"]

    monkeypatch.setattr(registration, "_reindex", reindex_meanwhile)
    with app.app_context():
        case = registry.register_case(db.session.get(User, ana.id), data(document_number="777888"))
        code, victim_id = case.code, case.victim_id
        db.session.remove()
    first.join(10)
    seen.pop("thread").join(30)  # on SQLite it waited for her commit (the write lock), as it should
    with app.app_context():
        width = index_width.bits()
        assert width == crypto.blind_index_bits(10_000_000)
        stored = db.session.get(Victim, victim_id).document_bidx
        at_width = crypto.blind_index("victims/document", crypto.normalise_document("CC", "777888"), bits=width)
        found = registry.search_cases(db.session.get(User, ana.id), document_type="CC", document_number="777888")
        assert (stored, [c.code for c in found]) == (at_width, [code]), seen


def _while_the_reindex_runs(app, monkeypatch, request, planned=10_000_000) -> tuple[dict, dict]:
    """Start a reindex; at its first victim, run `request` (in the app's context) in another thread and let it
    go for 1.5 s (waiting for the width, or committing) before the reindex goes on. Returns both outcomes."""
    from caseapp.services.registry import reindex as reindex_module

    outcome: dict = {}

    def other_request():
        with app.app_context():
            try:
                outcome["value"] = request()
                outcome["done"] = True
            except Exception as error:  # noqa: BLE001 - the assertion names it
                outcome["error"] = repr(error)
            db.session.remove()
    other = threading.Thread(target=other_request)
    real = reindex_module.blind_indexes

    def first_victim_waits(victim, bits):
        if not other.is_alive() and "done" not in outcome and "error" not in outcome:
            other.start()
            other.join(1.5)
        return real(victim, bits)

    monkeypatch.setattr(reindex_module, "blind_indexes", first_victim_waits)
    _thread, result = _reindex_in_thread(app, planned=planned, timeout=60)
    other.join(60)
    return result, outcome


@pytest.mark.parametrize("path", ["edit", "erase", "register_duplicate_elsewhere"])
def test_a_path_started_while_the_reindex_holds_the_width(app, factory, monkeypatch, path):
    """The reindex holds the width's lock (it is in its loop) when an edit of her document, an erasure or a
    registration (meeting another entity's case: hint logged, user row locked) starts: it waits, then lands. The
    edit and the erasure used to be refused as stale (the reindex had changed her record's version)."""
    from tests.unit.test_cases_services import data

    ana = factory.user("ana", entity="SDIS")
    bea = factory.user("bea", entity="FUND")
    with app.app_context():
        case = registry.register_case(db.session.get(User, ana.id), data(document_number="444555", given_names="Ella"))
        code, version = case.code, case.version
        db.session.remove()
    def request():
        if path == "edit":
            return registry.update_case(db.session.get(User, ana.id), code, {"document_number": "777888"},
                                        version=version).code
        if path == "erase":
            return registry.erase_case(code)
        return registry.register_case(db.session.get(User, bea.id), data(document_number="444555", given_names="Ella"),
                                      confirm_duplicate=True).code

    result, outcome = _while_the_reindex_runs(app, monkeypatch, request)  # it waits for the width
    assert result.get("reindexed") == 1 and outcome.get("done"), (result, outcome)
    with app.app_context():
        width = index_width.bits()
        assert width == crypto.blind_index_bits(10_000_000)
        numbers = {"edit": "777888"}.get(path, "444555")
        found = registry.search_cases(db.session.get(User, ana.id if path != "register_duplicate_elsewhere" else bea.id),
                                      document_type="CC", document_number=numbers)
        expected = {"edit": [code], "erase": [], "register_duplicate_elsewhere": [outcome.get("value")]}[path]
        assert [c.code for c in found] == expected


def test_a_reindex_at_the_same_width_waits_for_an_edit_of_her_document(app, factory, monkeypatch):
    """`flask victims reindex` run again at the width already recorded (nothing to change in the settings row)
    while her document is edited: it still takes the width's lock first, so the edit waits and her new document's
    index is what stays. It used to take no lock then, and wrote the index of the document it had read over the
    edit committed meanwhile: she was no longer found by her new document."""
    from tests.unit.test_cases_services import data

    ana = factory.user("ana", entity="SDIS")
    with app.app_context():
        case = registry.register_case(db.session.get(User, ana.id), data(document_number="444555"))
        code, version = case.code, case.version
        width = index_width.bits()
        db.session.remove()
    result, outcome = _while_the_reindex_runs(
        app, monkeypatch, lambda: registry.update_case(db.session.get(User, ana.id), code,
                                                       {"document_number": "777888"}, version=version).code,
        planned=app.config["PLANNED_VICTIMS"])
    assert result.get("reindexed") == 1 and outcome.get("done"), (result, outcome)
    with app.app_context():
        assert index_width.bits() == width
        found = registry.search_cases(db.session.get(User, ana.id), document_type="CC", document_number="777888")
        assert [c.code for c in found] == [code]


@pytest.mark.parametrize("change", [{"address": "Carrera 3 # 4-5"}, {"sex": "male"}])
def test_an_edit_that_writes_no_index_committed_during_the_reindex(app, factory, monkeypatch, change):
    """An edit of her record that does not touch her indexes (address, a statistical field) takes no width lock.
    The reindex wrote through her record and bumped its version, so whichever committed second was refused: on
    PostgreSQL the edit, then the whole reindex. Her indexes are now written as columns (her version untouched)."""
    from tests.unit.test_cases_services import data

    ana = factory.user("ana", entity="SDIS")
    with app.app_context():
        case = registry.register_case(db.session.get(User, ana.id), data(document_number="444555"))
        code, version = case.code, case.version
        db.session.remove()
    result, outcome = _while_the_reindex_runs(  # the edit commits meanwhile: it takes no width lock
        app, monkeypatch, lambda: registry.update_case(db.session.get(User, ana.id), code, change, version=version).code)
    assert result.get("reindexed") == 1 and outcome.get("done"), (result, outcome)
    with app.app_context():
        found = registry.search_cases(db.session.get(User, ana.id), document_type="CC", document_number="444555")
        assert [c.code for c in found] == [code]
        assert index_width.bits() == crypto.blind_index_bits(10_000_000)


@pytest.mark.parametrize("limit", [5, 1])
def test_a_check_run_again_logs_its_cross_entity_hint_once(app, factory, monkeypatch, limit):
    """A reindex committed after the duplicate check read its candidates: registration checks again at the new
    width, and the hint she is shown is logged once - the log is her daily count of cross-entity hints, so a
    second row had used up her share (with one a day she was then told it was withheld)."""
    from datetime import timedelta

    from caseapp import audit
    from caseapp.services.registry import identity
    from caseapp.timeutil import utcnow
    from tests.unit.test_cases_services import data

    ana = factory.user("ana", entity="SDIS")
    bea = factory.user("bea", entity="FUND")
    app.config["DUPLICATE_HINTS_PER_DAY"] = limit
    with app.app_context():
        registry.register_case(db.session.get(User, ana.id), data(document_number="444555"))
        db.session.remove()
    real_hints, fired = identity._hints, []

    def hints_then_reindex(actor, cases):  # after the first check read its candidates
        value = real_hints(actor, cases)
        if not fired and threading.current_thread() is threading.main_thread():
            fired.append(_reindex_in_thread(app)[1])
        return value

    monkeypatch.setattr(identity, "_hints", hints_then_reindex)
    since = utcnow() - timedelta(minutes=5)
    with app.test_request_context():
        case = registry.register_case(db.session.get(User, bea.id), data(document_number="444555"),
                                      confirm_duplicate=True)
        shown, withheld = case.possible_duplicates, case.duplicates_withheld
        db.session.remove()
    assert fired[0].get("reindexed") == 1, fired
    with app.app_context():
        allowed = audit.count(since, identity.CROSS_ENTITY_HINT, actor="bea", outcome="allowed")
        denied = audit.count(since, identity.CROSS_ENTITY_HINT, actor="bea", outcome="denied")
    assert (allowed, denied, withheld, [h["entity_code"] for h in shown]) == (1, 0, False, ["SDIS"])
