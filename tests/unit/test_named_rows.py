"""`base.named_rows`: a Core result's rows as named tuples, read as its `Row`s are (by name, index, slice, unpacking)."""
from __future__ import annotations

import pytest
from sqlalchemy import literal, select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.base import named_rows


def test_rows_read_as_sqlalchemys_do(app, factory):
    for code in ("SDIS", "OIM"):
        factory.user(f"u_{code.lower()}", roles=("social_worker",), entity=code)
    with app.app_context():
        stmt = select(Entity.id, Entity.code, Entity.name.label("shown_as"), literal(None).label("left_empty")) \
            .order_by(Entity.code)
        rows = db.session.connection().execute(stmt).all()
        named = named_rows(db.session.connection().execute(stmt))
    assert len(rows) > 1 and len(named) == len(rows)
    for row, tup in zip(rows, named, strict=True):
        assert tuple(tup) == tuple(row) and tup == row
        assert (tup.id, tup.code, tup.shown_as, tup.left_empty) == (row.id, row.code, row.shown_as, None)
        assert tup[1:3] == row[1:3] and tup[-1] == row[-1]
        id_, code, *rest = tup
        assert (id_, code, rest) == (row.id, row.code, [row.shown_as, None])
    assert type(named[0]) is type(named[1])  # one tuple type a result's keys


def test_a_name_a_tuple_cannot_have_fails_loudly(app):
    with app.app_context(), pytest.raises(ValueError):
        named_rows(db.session.connection().execute(select(literal(1).label("_hidden"))))
