"""The coordinator's dashboard is drawn once per state of what it shows (services.indicators.dashboard_cache): the
next reader of the same territory, entity and roles gets the same body without counting it again, each read still
writes its access-log row, and anything that changes what it shows (a publication counted again, a plan edited, k,
the day, the reader's territory or entity, the language) draws it afresh.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.audit import AuditEvent
from caseapp.models.indicators import ProductTarget
from caseapp.services.indicators import dashboard_cache
from caseapp.services.indicators.publication import rebuild
from tests.web.test_indicators_web import world  # noqa: F401 - the fixture


@pytest.fixture
def served(app, world, runner):  # noqa: F811
    """As deployed: monthly releases counted off the request (by `flask stats publish`, here)."""
    app.config.update(PUBLICATION_BUILD="background", PUBLICATION_REFRESH="monthly")
    for year in (world["year"] - 1, world["year"]):  # the history reads last year's too
        _publish(runner, year)
    yield world
    rebuild.wait()


def _publish(runner, year):
    result = runner.invoke(args=["stats", "publish", "--year", str(year)])
    assert result.exit_code == 0, result.output


def _body(html: str) -> str:
    found = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    assert found, html[:500]
    return found.group(1)


def _dashboard_rows(app) -> list[tuple]:
    with app.app_context():
        return [(e.actor, json.loads(e.detail) if e.detail else None) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_ref == "dashboard").order_by(AuditEvent.seq))]


def test_the_next_read_is_the_same_page_without_counting_and_is_logged_alike(app, client, login_as, served,
                                                                               count_queries):
    login_as(served["coord"])
    with count_queries() as first_cost:
        first = client.get("/indicators/")
    rebuild.wait()  # nothing was out of date: no build ran, the state is the one the body was drawn from
    with count_queries() as second_cost:
        second = client.get("/indicators/")
    assert first.status_code == second.status_code == 200
    assert _body(first.get_data(as_text=True)) == _body(second.get_data(as_text=True))
    assert "Indicadores" in first.get_data(as_text=True)
    # what is left: the session, the mark of the state, k, and the read's access-log row (on PostgreSQL, its queue
    # and seal: a few statements more)
    assert second_cost() < first_cost() and second_cost() <= 12, (first_cost(), second_cost())
    rows = _dashboard_rows(app)
    assert len(rows) == 2 and rows[0] == rows[1], rows  # one row per read, the same question
    # another year is another question: counted and logged with its year
    assert client.get(f"/indicators/?year={served['year'] - 1}").status_code == 200
    assert len(_dashboard_rows(app)) == 3


def test_a_new_count_and_an_edited_target_are_shown_at_once(app, client, login_as, served, runner):
    login_as(served["coord"])
    before = _body(client.get("/indicators/").get_data(as_text=True))
    with app.app_context():
        target = db.session.scalars(select(ProductTarget).order_by(ProductTarget.id)).first()
        target.target = target.target + 7  # an administrator's edit of the plan (its version moves)
        db.session.commit()
    edited = _body(client.get("/indicators/").get_data(as_text=True))
    assert edited != before
    with app.test_request_context():
        stamp = dashboard_cache.state()
    _publish(runner, served["year"])  # counted again: a new publication row, so never an older body after it
    with app.test_request_context():
        assert dashboard_cache.state() != stamp


def test_readers_of_another_territory_entity_or_language_get_their_own_page(app, client, login_as, served, factory):
    login_as(served["coord"])
    ctg = _body(client.get("/indicators/").get_data(as_text=True))
    assert client.post("/auth/account/language", data={"locale": "en", "csrf_token": _csrf(client)}).status_code == 302
    english = _body(client.get("/indicators/").get_data(as_text=True))
    assert english != ctg and "<h1>Indicators</h1>" in english
    factory.entity("MED", "Alcaldía de Medellín", territory="05001")
    login_as(factory.user("coord.med", roles=("coordinator",), entity="MED"))
    med_page = client.get("/indicators/")  # Medellín has no policy here: her page, never Cartagena's
    med = _body(med_page.get_data(as_text=True))
    assert med not in (ctg, english) and "3.5" not in med and "CTG-PPIG" not in med, med[:300]


def test_a_renamed_entity_is_shown_at_once(app, client, login_as, served):
    """The breakdowns name entities (and purposes, step kinds): renaming one draws the page afresh."""
    from caseapp.models.accounts import Entity

    login_as(served["coord"])
    client.get("/indicators/")
    with app.test_request_context():
        stamp = dashboard_cache.state()
    with app.app_context():
        entity = db.session.scalar(select(Entity).where(Entity.code == "CTG"))
        entity.name = "Alcaldía Distrital renombrada"
        db.session.commit()
    with app.test_request_context():
        assert dashboard_cache.state() != stamp


def test_nothing_is_kept_while_there_is_nothing_to_show(app, client, login_as, world, factory):  # noqa: F811
    """No publication yet (being counted): the read is drawn and not kept, so the next one asks again (and starts
    the count again if the first failed)."""
    app.config.update(PUBLICATION_BUILD="background", PUBLICATION_REFRESH="monthly")
    login_as(world["coord"])
    assert client.get("/indicators/").status_code == 200
    assert not dashboard_cache._bodies
    rebuild.wait()


def test_a_raised_k_is_never_served_from_memory(app, client, login_as, served):
    from caseapp.models.accounts import User
    from caseapp.services.indicators import dimensions

    login_as(served["coord"])
    shown = _body(client.get("/indicators/").get_data(as_text=True))
    with app.test_request_context():
        admin = db.session.get(User, served["admin"].id)
        dimensions.set_k(admin, dimensions.get_k() + 3, version=dimensions.setting_version())
    after = _body(client.get("/indicators/").get_data(as_text=True))
    assert after != shown  # the publication under the old k is not shown any more


def _csrf(client) -> str:
    html = client.get("/auth/account").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
