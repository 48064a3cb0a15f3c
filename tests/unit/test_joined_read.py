"""The case as its reads load it without the ORM's row processing (caseapp.models.joined_read) against the ORM's own
load of the same read: the same objects, each with the same loaded values, the same relationships loaded and the
same members in the same order, nothing more loaded and nothing less. Cases of every shape the join meets: nothing
joined, several consents times several flags (a product of rows), a consent's entity that is the owner's, a
cleared flag (not in force), a flag naming a professional of another entity, a screening, professionals assigned,
an erased victim; and a case the session holds already."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import joinedload, lazyload, undefer

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case, Consent, IdentificationScreening
from caseapp.models.safety import SafetyFlag
from caseapp.services.primitives import load_case, read_case
from caseapp.services.registry import reading
from caseapp.services.registry.erasure import erase_case
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case

ON = date(2025, 3, 10)
READS = {"case read": reading.CASE_READ, "case page": reading.CASE_PAGE}
# The ORM's load each read replaces, written out here (not taken from JoinedRead.options, which could drift with it)
_ORM_READ = (joinedload(Case.consents), joinedload(Case.screening), joinedload(Case.safety_flags),
             undefer(Case.purposes_shown), lazyload(Case.purposes))
ORM = {"case read": _ORM_READ,
       "case page": (*_ORM_READ, undefer(Case.sharing_entities_shown), undefer(Case.professionals_shown))}


@pytest.fixture
def cases(app, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    luz = factory.user("luz", roles=("lawyer",), entity="SDIS")
    beto = factory.user("beto", roles=("social_worker",), entity="OIM")
    factory.entity("ICBF")
    with app.test_request_context():
        entities = {e.code: e.id for e in db.session.scalars(select(Entity))}

        def case(number, **kw):
            code = make_case(ana.id, document_number=f"7700{number:04d}", **kw)
            return code, db.session.scalar(select(Case).where(Case.code == code))

        def consent(c, kind, entity=None, withdrawn=False):
            db.session.add(Consent(case_id=c.id, kind=kind, entity_id=entities[entity] if entity else None,
                                   given_on=ON, method="written", recorded_at=utcnow(),
                                   withdrawn_on=ON if withdrawn else None))

        def flag(c, kind, cleared=False, professional=None):
            db.session.add(SafetyFlag(case_id=c.id, kind=kind, in_force_key=None if cleared else f"{c.id}:{kind}",
                                      professional_id=professional, set_by_id=ana.id, set_at=utcnow(),
                                      cleared_at=utcnow() if cleared else None))

        codes = {}
        codes["bare"], _ = case(1, consent_assistance=False)
        codes["full"], full = case(2, status="in_immediate_assistance")
        consent(full, "sharing", "OIM")
        consent(full, "sharing", "SDIS")  # the owner's own entity: one Entity object for both
        consent(full, "sharing", "ICBF", withdrawn=True)
        flag(full, "high_risk")
        flag(full, "threats_received")
        flag(full, "contact_only_through", professional=beto.id)  # another entity's user, and hers
        flag(full, "no_phone_contact", cleared=True)
        db.session.add(IdentificationScreening(case_id=full.id, acts="recruitment", means="deception",
                                               purpose_present=True, screened_on=ON, screened_by_id=luz.id))
        codes["erased"], erased = case(3, is_child=True)
        flag(erased, "high_risk")
        db.session.commit()
        erase_case(codes["erased"])
    return codes


def _snapshot(root) -> dict:
    """Every object reachable through loaded relationships: its loaded values, and what each loaded relationship
    holds (by identity, in order). Read from the objects' dicts only: the snapshot loads nothing. A relationship the
    ORM loads with a statement of its own after the case's (selectin: a professional's roles) is not compared: the
    joined read leaves it to load on first use, a statement fewer."""
    out: dict = {}
    pending = [root]
    while pending:
        obj = pending.pop()
        state = inspect(obj)
        key = state.identity_key
        if key in out:
            continue
        mapper = state.mapper
        values, links = {}, {}
        for name, value in state.dict.items():
            if name == "_sa_instance_state":
                continue
            if name in mapper.relationships:
                if mapper.relationships[name].lazy == "selectin" and state is not inspect(root):
                    continue  # the ORM's statement of its own (a professional's roles): left to load on first use
                members = value if isinstance(value, list) else [value]
                links[name] = [inspect(m).identity_key if m is not None else None for m in members]
                pending.extend(m for m in members if m is not None)
            else:
                values[name] = value
        out[key] = {"values": values, "links": links, "expired": sorted(state.expired_attributes)}
    return out


def _fresh():
    db.session.rollback()
    db.session.expunge_all()


@pytest.mark.parametrize("read", list(READS), ids=list(READS))
@pytest.mark.parametrize("shape", ["bare", "full", "erased"])
def test_the_read_loads_what_the_orm_loads(app, cases, read, shape):
    joined = READS[read]
    with app.test_request_context():
        _fresh()
        orm = _snapshot(load_case(cases[shape], *ORM[read]))
        _fresh()
        ours = joined.load(db.session, cases[shape])
        assert ours is not None and ours.code == cases[shape]
        assert _snapshot(ours) == orm
        if shape == "full":  # the shape's rows are there, and only once
            assert [c.entity.code if c.entity else None for c in ours.consents] == [None, "OIM", "SDIS", "ICBF"]
            assert [f.kind for f in ours.safety_flags] == ["high_risk", "threats_received", "contact_only_through"]
            assert ours.safety_flags[2].professional.username == "beto"
            assert ours.screening.acts == "recruitment"
            shared = [c.entity for c in ours.consents if c.entity and c.entity.code == "SDIS"][0]
            assert shared is ours.owner_entity


def test_nothing_the_page_uses_is_read_again(app, cases):
    statements = []
    with app.test_request_context():
        _fresh()
        case = read_case(cases["full"], reading.CASE_PAGE)
        listen = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            _ = (case.victim.data_key.id, case.owner_entity.code, [c.entity for c in case.consents], case.screening,
                 [(f.professional, f.professional and f.professional.entity) for f in case.safety_flags],
                 case.__dict__["professionals_shown"], case.__dict__["sharing_entities_shown"],
                 case.__dict__["purposes_shown"])
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
    assert statements == []


def test_a_case_the_session_holds_is_completed_as_a_query_would(app, cases):
    """Read through the ORM then (its load completes what the session holds, as it would for any query): the
    same object, with what the read joins loaded as a fresh read loads it."""
    with app.test_request_context():
        _fresh()
        fresh = _snapshot(read_case(cases["full"], reading.CASE_PAGE))
        _fresh()
        held = db.session.scalar(select(Case).where(Case.code == cases["full"]))
        assert "consents" not in held.__dict__
        case = read_case(cases["full"], reading.CASE_PAGE)
        assert case is held
        joined = ("consents", "screening", "safety_flags", "victim", "owner_entity")
        completed = _snapshot(case)[inspect(case).identity_key]["links"]
        assert {k: completed[k] for k in joined} == {k: fresh[inspect(case).identity_key]["links"][k] for k in joined}
        # twice in one request: the second read finds the first's
        _fresh()
        first = read_case(cases["full"], reading.CASE_READ)
        assert read_case(cases["full"], reading.CASE_READ) is first


def test_a_signed_in_user_or_entity_the_session_holds_is_kept(app, cases):
    """The flag's professional is the signed-in user (the session holds her, her entity with her): the read keeps
    that very object, as a query would, and does not overwrite what it holds."""
    with app.test_request_context():
        _fresh()
        beto = db.session.scalar(select(User).where(User.username == "beto"))
        beto_entity = beto.entity
        case = read_case(cases["full"], reading.CASE_READ)
        professional = case.safety_flags[2].professional
        assert professional is beto and professional.entity is beto_entity


def test_what_the_request_changed_is_what_it_reads(app, cases):
    """Changes not flushed yet are flushed first, as a query's autoflush does: a flag cleared a moment ago is not in
    force, a consent just given is there."""
    with app.test_request_context():
        _fresh()
        case = db.session.scalar(select(Case).where(Case.code == cases["full"]))
        flag = db.session.scalar(select(SafetyFlag).where(SafetyFlag.case_id == case.id,
                                                          SafetyFlag.kind == "high_risk"))
        flag.cleared_at, flag.in_force_key = utcnow(), None
        db.session.add(Consent(case_id=case.id, kind="data_processing", given_on=ON, method="verbal",
                               recorded_at=utcnow()))
        db.session.expunge(case)  # the read builds the case itself, the flag and the consent are the session's
        read = read_case(cases["full"], reading.CASE_READ)
        assert [f.kind for f in read.safety_flags] == ["threats_received", "contact_only_through"]
        assert "data_processing" in [c.kind for c in read.consents]


def test_a_held_object_that_a_commit_expired_is_filled_from_the_row(app, cases):
    """An entity the session holds, expired by a commit: the read gives its values back, as a query's row does,
    and reading them costs no statement."""
    statements = []
    with app.test_request_context():
        _fresh()
        owner = db.session.scalar(select(Entity).where(Entity.code == "SDIS"))
        db.session.commit()  # expires it
        assert "name" not in owner.__dict__
        case = read_case(cases["full"], reading.CASE_READ)
        assert case.owner_entity is owner
        listen = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            assert owner.name and owner.code == "SDIS"
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
    assert statements == []


def test_a_case_read_so_is_written_as_any_other(app, cases):
    """Nothing is left to write after the read, and an edit after it writes the case once, from its version."""
    with app.test_request_context():
        _fresh()
        case = read_case(cases["full"], reading.CASE_PAGE)
        assert not (db.session.new or db.session.dirty or db.session.deleted)
        version = case.version
        case.victim_status = status = "victim" if case.victim_status != "victim" else "possible_victim"
        db.session.commit()
        _fresh()
        stored = db.session.scalar(select(Case).where(Case.code == cases["full"]))
        assert stored.version == version + 1 and stored.victim_status == status
