"""A registration writes its rows with one INSERT each (models.base.insert_loaded), not through the unit of work:
the rows are those a flush would write, the objects the request goes on with are what the database holds, and an
object left out is an error, never a row written later by a flush."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.base import insert_loaded
from caseapp.models.cases import Case, Consent, case_purposes
from caseapp.services import registry as cases
from caseapp.services.casework import assignments
from caseapp.services.registry.fields import validate_case_data
from caseapp.services.registry.identity import _reindex
from caseapp.services.registry.registration import _new_case
from caseapp.timeutil import utcnow

CHILD = {
    "given_names": "Sara", "family_names": "Mena Ortiz", "document_type": "TI", "document_number": "1.098.765.432",
    "birth_date": "2011-02-03", "phone": "+57 310 555 0199", "address": "Barrio Olaya", "narrative": "Relato.",
    "sex": "female", "nationality": "CO", "identified_on": "2025-05-02", "identification_source": "coat",
    "exploitation_purposes": ["sexual_exploitation", "forced_labour"], "trafficking_scope": "internal",
    "control_methods": ["threats"], "victim_status": "victim", "consent_assistance": True,
    "consent_data_processing": True, "consent_method": "child_protection_authority",
    "representative": "Defensora de familia ICBF", "screening_acts": ["recruitment", "transport"],
    "screening_means": ["deception"], "screening_purpose": True, "lawyer": "leo",
    "identification_municipality": "13001",
}
# Differ between two registrations of the same person whatever writes them.
OWN = {"id", "uid", "code", "case_id", "victim_id", "data_key_id", "wrapped", "registration_key"}


@pytest.fixture
def people(factory):
    return factory.user("ana", roles=("social_worker",)), factory.user("leo", roles=("lawyer",))


def _objects(case: Case, people_assigned) -> list:
    victim = case.victim
    return [victim.data_key, victim, case, *case.consents, case.screening, *people_assigned]


def _row(obj) -> dict:
    """Its row as the database holds it, every column."""
    table = sa_inspect(obj).mapper.local_table
    pk = sa_inspect(obj).mapper.primary_key[0]
    return dict(db.session.execute(select(table).where(pk == getattr(obj, pk.key))).mappings().one())


def _comparable(row: dict) -> dict:
    return {k: v for k, v in row.items()
            if k not in OWN and not k.endswith("_enc") and not isinstance(v, datetime)}


def _built(user, clean, code):
    case = _new_case(user, clean, None)
    _reindex(case.victim, 15)
    case.code = code
    for consent in case.consents:
        consent.recorded_at = utcnow()
    lawyer = db.session.scalar(select(User).where(User.username == "leo"))
    return case, assignments.assign_at_registration(user, case, lawyer)


def test_the_rows_are_those_a_flush_writes(ctx, people):
    user = db.session.get(User, people[0].id)
    clean = validate_case_data({k: v for k, v in CHILD.items() if k != "lawyer"})
    flushed, flushed_people = _built(user, clean, "SDIS-2025-90001")
    db.session.add(flushed)
    db.session.add_all(flushed_people)
    db.session.flush()
    inserted, inserted_people = _built(user, clean, "SDIS-2025-90002")
    insert_loaded(db.session, *_objects(inserted, inserted_people))
    db.session.commit()
    pairs = list(zip(_objects(flushed, flushed_people), _objects(inserted, inserted_people), strict=True))
    assert len(pairs) == 8  # data key, victim, case, two consents, screening, social worker and lawyer
    for a, b in pairs:
        assert type(a) is type(b)
        assert _comparable(_row(a)) == _comparable(_row(b)), type(a).__name__
    for case in (flushed, inserted):
        purposes = db.session.scalars(select(case_purposes.c.purpose_id).where(case_purposes.c.case_id == case.id))
        assert sorted(purposes) == sorted(p.id for p in flushed.purposes)
    db.session.expunge_all()  # read back from the rows: her identity under her own key, the foreign keys set
    again = db.session.get(Case, inserted.id)
    assert again.victim.given_names == "Sara" and again.victim.document_number == CHILD["document_number"]
    assert [c.representative for c in again.consents] == ["Defensora de familia ICBF"] * 2
    assert again.screening.acts == "recruitment,transport" and again.version == 1


def test_what_the_request_holds_is_what_the_database_holds(ctx, people, count_queries):
    case = cases.register_case(db.session.get(User, people[0].id), dict(CHILD))
    assert not db.session.new and not db.session.dirty
    assigned = list(db.session.scalars(select(assignments.CaseAssignment).where(
        assignments.CaseAssignment.case_id == case.id)))
    assert {a.role for a in assigned} == {"social_worker", "lawyer"}
    for obj in _objects(case, assigned):
        state = sa_inspect(obj)
        assert state.persistent and not state.modified
        held = {c.key: state.dict[c.key] for c in state.mapper.local_table.columns if c.key in state.dict}
        row = _row(obj)
        assert held == {k: row[k] for k in held}, type(obj).__name__
        assert {"id", "uid"} & set(row) <= set(held)  # the ids and defaults the database made came back
    assert case.version == 1 and case.code == "SDIS-2025-00001" and case.identified_on == date(2025, 5, 2)
    with count_queries() as count:  # nothing left for a flush to write
        db.session.commit()
    assert not [s for s in count.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))], count


def test_an_object_left_out_is_an_error_not_a_row_written_later(ctx, people):
    user = db.session.get(User, people[0].id)
    case, _people = _built(user, validate_case_data({k: v for k, v in CHILD.items() if k != "lawyer"}), "SDIS-2025-90003")
    victim = case.victim
    with pytest.raises(RuntimeError, match="not written yet"):
        insert_loaded(db.session, victim, victim.data_key)  # the victim before her data key
    db.session.rollback()
    case, _people = _built(user, validate_case_data({k: v for k, v in CHILD.items() if k != "lawyer"}), "SDIS-2025-90004")
    victim = case.victim
    with pytest.raises(RuntimeError, match="not written"):
        insert_loaded(db.session, victim.data_key, victim, case)  # her consents and screening left out
    db.session.rollback()
    assert db.session.scalar(select(Consent.id).limit(1)) is None
    assert db.session.scalar(select(Case.id).where(Case.code.in_(["SDIS-2025-90003", "SDIS-2025-90004"]))) is None


def test_a_target_read_back_after_a_commit_gives_its_key(ctx, people, factory):
    case = cases.register_case(db.session.get(User, people[0].id), dict(CHILD))
    db.session.commit()  # the case's attributes expire: its id is read again, as a flush would
    mia = factory.user("mia", roles=("social_worker",))
    extra = assignments.CaseAssignment(case=case, user_id=mia.id, role="social_worker", assigned_at=utcnow(),
                                       assigned_by_id=people[0].id)
    insert_loaded(db.session, extra)
    db.session.commit()
    assert extra.case_id == case.id
    assert db.session.scalar(select(assignments.CaseAssignment.case_id).where(
        assignments.CaseAssignment.user_id == mia.id)) == case.id
