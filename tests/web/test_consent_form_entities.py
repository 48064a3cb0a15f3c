"""The entities the consent form offers to share a case with: every active entity but the case's owner, by name.
The case page reads them as a column of the case's own statement (Case.sharing_entities_shown); any other caller of
consents.sharing_entities reads them on their own. Both give the same list, in the same order (accents and case
aside, whatever the database's collation)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import update

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.services.primitives import load_case
from caseapp.services.registry import consents
from tests.cases_factory import make_case


@pytest.fixture
def case_code(app, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    factory.entity("OIM", name="Organización Internacional para las Migraciones", kind="international")
    factory.entity("ALC", name="Alcaldía de Cartagena")
    factory.entity("ORG", name="Órgano de control")
    factory.entity("UAR", name="Unidad para las víctimas")
    factory.entity("OLD", name="Antigua entidad")
    with app.app_context():
        db.session.execute(update(Entity).where(Entity.code == "OLD").values(active=False))
        db.session.commit()
    with app.test_request_context():
        code = make_case(ana.id, identified_on=date(2025, 3, 10))
    return ana, code


def _offered(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="entity_code".*?</select>', html, re.S)
    assert select, "the page draws no consent form"
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(0)) if v]


@pytest.mark.parametrize("path", ["case page", "service"])
def test_every_active_entity_but_the_owner_by_name(app, client, login_as, case_code, path):
    ana, code = case_code
    if path == "case page":
        login_as(ana)
        offered = _offered(client.get(f"/cases/{code}").get_data(as_text=True))
    else:
        with app.test_request_context():
            offered = [c for c, _name in consents.sharing_entities(load_case(code))]
    # by name, accents and case aside: Alcaldía, Organización, Órgano, Unidad; not SDIS (hers), not OLD (inactive)
    assert offered == ["ALC", "OIM", "ORG", "UAR"]


def test_no_other_active_entity_offers_none(app, client, login_as, case_code):
    ana, code = case_code
    with app.app_context():
        db.session.execute(update(Entity).where(Entity.code != "SDIS").values(active=False))
        db.session.commit()
    login_as(ana)
    assert _offered(client.get(f"/cases/{code}").get_data(as_text=True)) == []
