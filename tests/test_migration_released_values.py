"""Migration 0024 keeps the values of the publications already stored as the first values released: the next
release after the upgrade is protected against what readers already have."""
from __future__ import annotations

from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

import config
from caseapp import create_app
from caseapp.extensions import db

BEFORE = "0023"


def test_the_publications_stored_before_the_upgrade_are_released_values_after_it(empty_database_url, instance_path):
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO publications (id, territory, year, cut_off, k, built_at, cells_published, "
                              "cells_suppressed, programmes) VALUES (1, '47001', 2025, :cut, 5, :at, 2, 1, 0)"),
                         {"cut": date(2025, 4, 30), "at": date(2025, 5, 3)})
            for base, period, dims, key, value in (("identified", "2025", "", "", 12),
                                                   ("identified", "2025", "nationality", "CO", 9),
                                                   ("identified", "2025", "nationality", "VE", None)):
                conn.execute(text('INSERT INTO published_cells (publication_id, base, "time", period, dims, "key", '
                                  "value) VALUES (1, :base, 'year', :period, :dims, :key, :value)"),
                             {"base": base, "period": period, "dims": dims, "key": key, "value": value})
        upgrade()
        from caseapp.models.publication import ReleasedValue
        from caseapp.services.indicators.publication.releases import known_values

        kept = {(r.territory, r.year, r.dims, r.key, r.value) for r in db.session.scalars(select(ReleasedValue))}
        assert kept == {("47001", 2025, "", "", 12), ("47001", 2025, "nationality", "CO", 9)}  # not the suppressed
        assert known_values("47001", 2025)["identified"] == {("year", "2025", (), ()): (12,),
                                                             ("year", "2025", ("nationality",), ("CO",)): (9,)}
        db.session.remove()
        downgrade(revision=BEFORE)
        upgrade()
        db.session.remove()
