"""Shelters: capacity is never exceeded, even with two placements in the last bed at the same time."""
from __future__ import annotations

import threading
from datetime import date

import pytest

from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import casework as shelters
from tests.cases_factory import make_case


def _u(uid):
    return db.session.get(User, uid)


@pytest.fixture
def setup(app, factory):
    admin = factory.user("admin", roles=("admin",), entity="SDIS")
    sw = factory.user("ana", roles=("social_worker",), entity="SDIS")
    with app.test_request_context():
        shelter = shelters.save_shelter(_u(admin.id), code="CASA-1", name="Casa Violeta", city="Cartagena",
                                        operator_entity="SDIS", capacity=2)
        codes = [make_case(sw.id, document_number=str(52000000 + i), identified_on=date(2025, 3, 10))
                 for i in range(3)]
        return {"sw": sw, "admin": admin, "shelter_id": shelter.id, "codes": codes}


def test_capacity_cannot_be_exceeded(app, setup):
    with app.test_request_context():
        sw = _u(setup["sw"].id)
        shelters.place(sw, setup["codes"][0], shelter_id=setup["shelter_id"], admitted_on="2025-03-11")
        stay = shelters.place(sw, setup["codes"][1], shelter_id=setup["shelter_id"], admitted_on="2025-03-11")
        assert [r.free for r in shelters.list_shelters(sw)] == [0]
        with pytest.raises(Conflict) as err:
            shelters.place(sw, setup["codes"][2], shelter_id=setup["shelter_id"], admitted_on="2025-03-12")
        assert "no tiene camas libres" in err.value.message
        with pytest.raises(Invalid):  # capacity cannot drop below the beds in use
            shelters.save_shelter(_u(setup["admin"].id), shelter_id=setup["shelter_id"], code="CASA-1",
                                  name="Casa Violeta", city="", operator_entity="SDIS", capacity=1)
        shelters.end_stay(sw, stay.id, version=stay.version, left_on="2025-03-13")
        assert stay.step.status == "done" and stay.step.kind.code == "lodging"
        shelters.place(sw, setup["codes"][2], shelter_id=setup["shelter_id"], admitted_on="2025-03-13")
        assert [r.free for r in shelters.list_shelters(sw)] == [0]


def test_two_placements_in_the_last_bed_at_once(app, setup):
    with app.test_request_context():
        shelters.place(_u(setup["sw"].id), setup["codes"][0], shelter_id=setup["shelter_id"], admitted_on="2025-03-11")
    results, barrier = [], threading.Barrier(2)

    def place(code):
        with app.test_request_context():
            user = _u(setup["sw"].id)
            db.session.commit()
            barrier.wait()
            try:
                shelters.place(user, code, shelter_id=setup["shelter_id"], admitted_on="2025-03-12")
                results.append("ok")
            except Conflict as error:
                results.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=place, args=(c,)) for c in setup["codes"][1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count("ok") == 1 and len(results) == 2
    assert any("no tiene camas libres" in r or "cambió" in r for r in results if r != "ok")
    with app.test_request_context():
        assert [r.occupied for r in shelters.list_shelters(_u(setup["sw"].id))] == [2]


@pytest.mark.parametrize("shelter_id", [True, "1.0", 10**400, -1, "9" * 30])
def test_a_shelter_id_that_is_no_id_is_refused_cleanly(app, setup, shelter_id):
    with app.test_request_context():
        with pytest.raises(Invalid) as err:
            shelters.place(_u(setup["sw"].id), setup["codes"][0], shelter_id=shelter_id, admitted_on="2025-03-11")
        assert "shelter_id" in err.value.field_errors


def test_her_lodging_step_ends_only_with_her_departure(app, setup):
    """The bed stays occupied while the stay is open: the step cannot be marked done on its own."""
    with app.test_request_context():
        sw = _u(setup["sw"].id)
        stay = shelters.place(sw, setup["codes"][0], shelter_id=setup["shelter_id"], admitted_on="2025-03-11")
        step = stay.step
        with pytest.raises(Conflict) as err:
            shelters.update_step(sw, step.id, version=step.version, status="done", done_on="2025-03-20")
        assert err.value.rule == "shelter_stay_open"
        db.session.rollback()
        shelters.end_stay(sw, stay.id, version=stay.version, left_on="2025-03-20")
        assert stay.step.status == "done" and [r.free for r in shelters.list_shelters(sw)] == [2]
