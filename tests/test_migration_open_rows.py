"""Migration 0020 (one open assignment per user and role; one criminal proceeding per case, as unique indexes)
upgrades a database that already has duplicates: the extra open assignments are closed (every row kept), the extra
criminal proceedings are merged into one (their events and stage history kept). Afterwards the database itself
refuses a duplicate."""
from __future__ import annotations

from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

import config
from caseapp import create_app
from caseapp.extensions import db
from tests.cases_factory import make_case

BEFORE = "0019"


def _copy(conn, table: str, where: str, **override) -> int:
    """Insert a copy of the row of `table` matching `where` (a new id and uid; `override` sets columns)."""
    columns = [c["name"] for c in inspect(conn).get_columns(table) if c["name"] not in ("id", *override)]
    values = columns + [f":{k}" for k in override]
    conn.execute(text(f"INSERT INTO {table} ({', '.join(columns + list(override))}) "  # noqa: S608 (test data)
                      f"SELECT {', '.join(values)} FROM {table} WHERE {where}"), override)
    return conn.execute(text(f"SELECT max(id) FROM {table}")).scalar()  # noqa: S608


def test_duplicates_are_resolved_then_refused(empty_database_url, instance_path):
    from caseapp.models.accounts import Entity, User
    from caseapp.services import casework

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.test_request_context():
        upgrade()
        entity = Entity(code="SDIS", name="Entidad SDIS", kind="government")
        ana = User(username="ana", display_name="Ana", entity=entity, active=True)
        ana.set_roles(("social_worker", "lawyer"))
        db.session.add_all([entity, ana])
        db.session.commit()
        ana_id = ana.id
        code = make_case(ana_id, identified_on=date(2025, 3, 10))
        db.session.commit()
        casework.save_proceeding(db.session.get(User, ana_id), code, version=0, complaint_filed_on="2025-03-12",
                                 stage="trial", criminal_case_number="110016000050202500001")
        db.session.remove()

        downgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            # What two requests at the same moment left behind: a second open assignment, a second criminal
            # proceeding (no office or number of its own) with a hearing and a history row of its own.
            _copy(conn, "case_assignments", "ended_at IS NULL")
            first = conn.execute(text("SELECT id FROM legal_proceedings")).scalar()
            second = _copy(conn, "legal_proceedings", f"id = {first}", uid="f" * 32, receiving_office_enc=None,
                           criminal_case_number_enc=None, complaint_filed_on=None)
            conn.execute(text("INSERT INTO legal_events (uid, case_id, proceeding_id, kind, \"on\", version) "
                              "SELECT :uid, case_id, :p, 'hearing', :on, 1 FROM legal_proceedings WHERE id = :p"),
                         {"uid": "e" * 32, "p": second, "on": date(2025, 4, 1)})
            _copy(conn, "legal_stage_changes", "id = (SELECT min(id) FROM legal_stage_changes)", uid="d" * 32,
                  proceeding_id=second)
            assert conn.execute(text("SELECT count(*) FROM case_assignments WHERE ended_at IS NULL")).scalar() == 2
        upgrade()
        db.session.remove()

        from caseapp.models.assignments import CaseAssignment
        from caseapp.models.legal import LegalStageChange
        from caseapp.models.route import LegalEvent, LegalProceeding

        rows = list(db.session.scalars(select(CaseAssignment).order_by(CaseAssignment.id)))
        assert len(rows) == 2 and rows[0].ended_at is None and rows[1].ended_at is not None  # history kept
        proc = db.session.scalar(select(LegalProceeding))
        assert len(list(db.session.scalars(select(LegalProceeding)))) == 1
        assert (proc.id, proc.criminal_case_number, proc.complaint_filed_on) == (
            first, "110016000050202500001", date(2025, 3, 12))
        assert {e.proceeding_id for e in db.session.scalars(select(LegalEvent))} == {first}
        assert [h.proceeding_id for h in db.session.scalars(select(LegalStageChange))] == [first, first]
        db.session.remove()

        with db.engine.connect() as conn:  # the database now refuses a duplicate on its own
            for table, where in (("case_assignments", "ended_at IS NULL"), ("legal_proceedings", f"id = {first}")):
                with pytest.raises(IntegrityError), conn.begin():
                    _copy(conn, table, where, **({"uid": "c" * 32} if table == "legal_proceedings" else {}))
        downgrade(revision=BEFORE)
        upgrade()
        db.session.remove()
        db.engine.dispose()
