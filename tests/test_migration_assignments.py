"""Migration 0014: each case's `assigned_to_id` (or, when empty, its creator) becomes an open assignment in the role
that user holds, nothing else is lost, and the downgrade puts `assigned_to_id` back."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

import config
from caseapp import create_app
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from tests.cases_factory import make_case


def test_assigned_to_becomes_assignment_rows_and_comes_back(empty_database_url, instance_path):
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.test_request_context():
        upgrade()
        entity = Entity(code="SDIS", name="Entidad SDIS", kind="government")
        people = {}
        for name, roles in (("ana", ("social_worker",)), ("luz", ("lawyer",)), ("eva", ("coordinator",))):
            people[name] = User(username=name, display_name=name.title(), entity=entity, active=True)
            people[name].set_roles(roles)
        db.session.add_all([entity, *people.values()])
        db.session.commit()
        ids = {n: u.id for n, u in people.items()}
        codes = [make_case(ids["ana"], document_number=f"5212345{i}") for i in range(3)]
        db.session.remove()

        downgrade(revision="0013")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT DISTINCT assigned_to_id FROM cases")).scalars().all() == [ids["ana"]]
            # the three shapes of an old row: assigned to a lawyer, to nobody (its creator counts), to a coordinator
            conn.execute(text("UPDATE cases SET assigned_to_id = :u WHERE code = :c"), {"u": ids["luz"], "c": codes[0]})
            conn.execute(text("UPDATE cases SET assigned_to_id = NULL WHERE code = :c"), {"c": codes[1]})
            conn.execute(text("UPDATE cases SET assigned_to_id = :u, created_by_id = :u WHERE code = :c"),
                         {"u": ids["eva"], "c": codes[2]})
        db.session.remove()

        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.code, u.username, a.role, a.ended_at FROM case_assignments a "
                "JOIN cases c ON c.id = a.case_id JOIN users u ON u.id = a.user_id ORDER BY c.code")).all()
            columns = [c["name"] for c in db.inspect(conn).get_columns("cases")]
            assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar() == 3
        assert [tuple(r) for r in rows] == [(codes[0], "luz", "lawyer", None), (codes[1], "ana", "social_worker", None)]
        assert "assigned_to_id" not in columns
        db.session.remove()
        db.engine.dispose()
