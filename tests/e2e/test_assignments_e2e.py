"""Real browser, at desktop and phone width: a social worker assigns a lawyer to her case from a list; the lawyer
then finds the case in "Mis casos" and its hearing and pending measure on her agenda. The admin's bulk move page
too. axe-core finds no serious or critical violation on any of the new pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.route import LegalEvent, ProtectionMeasure
from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("width", WIDTHS)
def test_assigning_a_lawyer_who_then_sees_her_agenda(app, factory, page, browser_login, width):
    page.set_viewport_size({"width": WIDTHS[width][0], "height": WIDTHS[width][1]})
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    lina = factory.user("lina", roles=("lawyer",), entity="SDIS")
    with app.test_request_context():
        code = make_case(ana.id)
        case = db.session.scalar(select(Case).where(Case.code == code))
        db.session.add(LegalEvent(case=case, kind="hearing", on=today() + timedelta(days=2)))
        db.session.add(ProtectionMeasure(case=case, kind="witness_protection", status="requested",
                                         requested_on=today() - timedelta(days=1)))
        db.session.commit()

    browser_login(ana)
    page.goto(f"/cases/{code}")
    page.get_by_role("link", name="Asignar o cambiar profesionales").click()
    page.locator("select#username").select_option("lina")
    page.locator("select#role").select_option("lawyer")
    page.get_by_role("button", name="Asignar", exact=True).click()
    page.get_by_text("Profesional asignada.").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_label("Usuario").wait_for()

    browser_login(lina)
    expect(page.get_by_role("link", name="Mis casos")).to_have_count(1)
    page.goto("/my-cases")
    page.get_by_role("link", name=code).first.wait_for()
    assert axe_violations(page) == []
    page.goto("/route/agenda")
    expect(page.get_by_text("Audiencia").first).to_be_attached()
    expect(page.get_by_text("Medida de protección pendiente de decisión").first).to_be_attached()
    if width == "phone":  # nothing pushes the page sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width][0] + 1


@pytest.mark.parametrize("width", WIDTHS)
def test_the_bulk_move_page(app, factory, page, browser_login, width):
    page.set_viewport_size({"width": WIDTHS[width][0], "height": WIDTHS[width][1]})
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    factory.user("bea", roles=("social_worker",), entity="SDIS")
    root = factory.user("root", roles=("admin",), entity="SDIS")
    with app.test_request_context():
        make_case(ana.id)
    browser_login(root)
    page.goto("/assignments/reassign")
    page.locator("select#from_username").select_option("ana")
    page.locator("select#to_username").select_option("bea")
    page.locator("select#role").select_option("social_worker")
    page.get_by_role("button", name="Mover los casos").click()
    page.get_by_text("Se movieron 1 casos.").wait_for()
    assert axe_violations(page) == []
