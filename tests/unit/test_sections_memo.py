"""What another entity's referrals share of a case is read once a transaction (authz._shared_with through
database.read_memo), and never kept past what changes it: a write in the transaction (through the ORM or not), a
change not flushed yet, a savepoint rolled back, the transaction's end."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from caseapp import authz
from caseapp.database import take_write_lock
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case, Consent
from tests.web.test_page_statements import _case_with, people  # noqa: F401 (a fixture)

SHARED = {"summary", "psychosocial"}


@pytest.fixture
def reading(app, people):  # noqa: F811
    code = _case_with(app, people, 1)
    with app.test_request_context():
        beto = db.session.get(User, people["beto"].id)
        case = db.session.scalar(select(Case).where(Case.code == code))
        yield beto, case


def _withdraw_sharing():
    return update(Consent).where(Consent.kind == "sharing").values(withdrawn_on=date(2025, 4, 1))


def test_asked_twenty_times_it_is_read_once(reading, count_queries):
    beto, case = reading
    with count_queries() as count:
        answers = {authz.case_sections(beto, case) for _ in range(20)}
    assert answers == {frozenset(SHARED)}
    assert len([s for s in count.statements if "FROM referrals" in s]) == 1, count


def test_a_write_in_the_transaction_is_seen(reading):
    beto, case = reading
    assert authz.case_sections(beto, case) == SHARED
    db.session.execute(_withdraw_sharing())  # not through the ORM: no flush to hear of it
    assert authz.case_sections(beto, case) == frozenset()


def test_a_change_not_flushed_yet_is_seen(reading):
    beto, case = reading
    assert authz.case_sections(beto, case) == SHARED
    consent = db.session.scalar(select(Consent).where(Consent.kind == "sharing"))
    consent.withdrawn_on = date(2025, 4, 1)  # pending: a query would flush it first
    assert authz.case_sections(beto, case) == frozenset()


def test_a_savepoint_rolled_back_takes_what_it_showed_with_it(reading):
    beto, case = reading
    assert authz.case_sections(beto, case) == SHARED
    savepoint = db.session.begin_nested()
    db.session.execute(_withdraw_sharing())
    assert authz.case_sections(beto, case) == frozenset()
    savepoint.rollback()
    assert authz.case_sections(beto, case) == SHARED


def test_the_next_transaction_and_a_writer_read_afresh(app, reading):
    beto, case = reading
    assert authz.case_sections(beto, case) == SHARED
    with app.app_context():  # another connection withdraws it and commits
        db.session.execute(_withdraw_sharing())
        db.session.commit()
    take_write_lock(db.session)  # a writer reads what is current (SQLite: a newer snapshot)
    assert authz.case_sections(beto, case) == frozenset()
    db.session.rollback()
    assert authz.case_sections(beto, case) == frozenset()
