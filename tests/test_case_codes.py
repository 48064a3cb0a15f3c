"""Case codes (ENTITY-YEAR-NNNNN) come from one counter row per entity and year, raised and read in one statement:
two registrations at once never get the same number, the first case of a year included (when both find no counter
and both try to create it), and a registration rolled back gives its number back. On SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import CaseCounter
from caseapp.services.registry import registration


@pytest.mark.parametrize("threads", [2, 4])
def test_the_first_codes_of_a_year_taken_at_once_are_one_each(app, factory, monkeypatch, threads):
    factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.app_context():
        entity_id = db.session.scalar(select(Entity.id).where(Entity.code == "SDIS"))
    create = registration._create_counter
    together = threading.Barrier(threads, timeout=2)

    def all_at_the_creation(params):  # every registration found no counter: all of them try to create it
        try:
            together.wait()
        except threading.BrokenBarrierError:
            pass  # SQLite: the first one's UPDATE took the write lock, the others wait at theirs instead
        create(params)

    monkeypatch.setattr(registration, "_create_counter", all_at_the_creation)
    start = threading.Barrier(threads)

    def register(_):
        with app.app_context():
            entity = db.session.get(Entity, entity_id)
            db.session.commit()
            start.wait()
            code = registration._next_code(entity, 2031)
            time.sleep(0.2)  # the lock held a while, as a registration's flush and commit hold it
            db.session.commit()
            return code

    with ThreadPoolExecutor(threads) as pool:
        codes = list(pool.map(register, range(threads)))
    assert sorted(codes) == [f"SDIS-2031-{n:05d}" for n in range(1, threads + 1)]
    monkeypatch.setattr(registration, "_create_counter", create)
    with app.app_context():
        assert db.session.scalar(select(CaseCounter.last).where(CaseCounter.entity_id == entity_id,
                                                                CaseCounter.year == 2031)) == threads
        assert registration._next_code(db.session.get(Entity, entity_id), 2031) == f"SDIS-2031-{threads + 1:05d}"
        db.session.commit()


def test_a_registration_rolled_back_gives_its_number_back(app, factory):
    factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.app_context():
        entity = db.session.scalar(select(Entity).where(Entity.code == "SDIS"))
        assert registration._next_code(entity, 2032) == "SDIS-2032-00001"
        db.session.rollback()
        entity = db.session.scalar(select(Entity).where(Entity.code == "SDIS"))
        assert registration._next_code(entity, 2032) == "SDIS-2032-00001"
        assert registration._next_code(entity, 2032) == "SDIS-2032-00002"
        db.session.commit()
        # no counter object is left in the session to say otherwise than the database
        assert not [o for o in db.session.identity_map.values() if isinstance(o, CaseCounter)]
        assert db.session.get(CaseCounter, (entity.id, 2032)).last == 2
