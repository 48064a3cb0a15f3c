"""Migration 0015 (the complete legal follow-up) keeps what was recorded: each existing proceeding becomes a
criminal proceeding with one dated history row, and each existing hearing belongs to its case's proceeding. Its
downgrade is refused while a case has two proceedings (one would be lost)."""
from __future__ import annotations

from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

import config
from caseapp import create_app
from caseapp.extensions import db
from tests.cases_factory import make_case

BEFORE = "0014"


def test_existing_proceedings_become_criminal_with_one_history_row(empty_database_url, instance_path):
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
        actor = db.session.get(User, ana_id)
        casework.save_proceeding(actor, code, version=0, complaint_filed_on="2025-03-12", stage="trial",
                                 criminal_case_number="110016000050202500001")
        casework.add_event(actor, code, kind="hearing", on="2025-03-20", title="Audiencia", outcome="Aplazada")
        db.session.remove()

        downgrade(revision=BEFORE)  # the schema of 0013, with its rows
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM legal_proceedings")).scalar() == 1
        upgrade()
        db.session.remove()

        from caseapp.models.legal import LegalStageChange
        from caseapp.models.route import LegalEvent, LegalProceeding

        proc = db.session.scalar(select(LegalProceeding))
        assert (proc.kind, proc.stage, proc.criminal_case_number) == ("criminal", "trial", "110016000050202500001")
        history = list(db.session.scalars(select(LegalStageChange)))
        assert [(h.proceeding_id, h.case_id, h.stage) for h in history] == [(proc.id, proc.case_id, "trial")]
        assert history[0].changed_on is not None and len(history[0].uid) == 32
        event = db.session.scalar(select(LegalEvent))
        assert event.proceeding_id == proc.id and event.outcome == "Aplazada"

        # Two proceedings on one case: a downgrade would lose one, so it is refused and nothing changes.
        casework.open_proceeding(db.session.get(User, ana_id), code, kind="migratory")
        db.session.remove()
        with pytest.raises((RuntimeError, SystemExit)):  # Flask-Migrate reports the error and exits
            downgrade(revision=BEFORE)
        db.session.remove()
        assert len(list(db.session.scalars(select(LegalProceeding)))) == 2
        db.session.remove()
        db.engine.dispose()
