"""Real browser, at desktop and phone width: a referral reaches the receiving entity as a notification — the
counter in the header, the list, opening it leads to the referral — with no serious accessibility violation."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case, Consent
from caseapp.services import referrals
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_referral_reaches_the_receiving_entity(app, factory, page, browser_login, width, height):
    page.set_viewport_size({"width": width, "height": height})
    a = factory.user("ana", roles=("social_worker",), entity="SDIS")
    b = factory.user("beto", roles=("social_worker",), entity="OIM")
    with app.test_request_context():
        code = make_case(a.id, identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))
        case = db.session.scalar(select(Case).where(Case.code == code))
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=date(2025, 3, 10), method="written",
                                     taken_by_id=a.id, recorded_at=utcnow()))
        db.session.commit()
        referral = referrals.send(db.session.get(User, a.id), code, to_entity="OIM",
                                  service="psychological_assessment", reason="Valoración",
                                  sections=["summary", "psychosocial"])
        referral_id = referral.id

    browser_login(b)
    counter = page.locator("#unread-count")
    expect(counter).to_have_text("1")
    page.get_by_role("link", name="Notificaciones").click()
    page.wait_for_url("**/notifications/")
    item = page.get_by_role("button", name=f"Nueva remisión del caso {code} a su entidad.")  # a POST: it marks read
    item.wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off a phone's screen
    item.click()
    page.wait_for_url(f"**/referrals/{referral_id}")
    expect(page.locator("#unread-count")).to_have_count(0)  # opened: read
    page.goto("/notifications/")
    expect(page.get_by_role("button", name="Marcar como leída")).to_have_count(0)
    assert axe_violations(page) == []
