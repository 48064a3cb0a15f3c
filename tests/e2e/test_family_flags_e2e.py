"""A social worker registers a family member of a victim and records her assistance, then sets a safety flag that
every page of the case shows, in a real browser at desktop and phone width; axe-core on the new pages."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations


def _summary(violations):
    return [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]


@pytest.mark.parametrize("width", [1280, 390])
def test_register_a_family_member_and_flag_the_case(app, page, factory, browser_login, width):
    worker = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    factory.user("abogada", roles=("lawyer",), entity="CTG")
    with app.test_request_context():
        code = make_case(worker.id, identified_on=date(2025, 3, 10))
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(worker)

    page.goto(f"/cases/{code}")
    page.get_by_role("link", name="Familiares", exact=True).click()
    page.wait_for_url(f"**/cases/{code}/family")
    expect(page.get_by_role("heading", level=1, name=f"Familiares {code}")).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))

    page.get_by_role("textbox", name="Nombres y apellidos").fill("Rosa Elvira Caicedo")
    page.get_by_role("combobox", name="Parentesco con la víctima").select_option("mother")
    page.get_by_role("combobox", name="Grupo de edad").select_option("48+")
    page.get_by_role("combobox", name="Tipo de documento").select_option("CC")
    page.get_by_role("textbox", name="Número de documento").fill("22334455")
    page.get_by_role("button", name="Registrar el familiar").click()
    page.wait_for_url(f"**/cases/{code}/family")
    expect(page.get_by_text("Familiar registrado.")).to_be_visible()
    member = page.locator("section.family-member")
    expect(member.get_by_role("heading", name="Rosa Elvira Caicedo")).to_be_visible()
    expect(member.get_by_text("22334455")).to_be_visible()

    member.get_by_role("combobox", name="Tipo de acción").select_option("reception")
    member.get_by_role("combobox", name="Estado").select_option("done")
    member.get_by_label("Fecha de realización o programada").fill("2025-03-12")
    member.get_by_role("button", name="Registrar la atención").click()
    page.wait_for_url(f"**/cases/{code}/family")
    expect(page.get_by_text("1 atendidos")).to_be_visible()
    expect(page.locator("ul.family-steps").get_by_text("Recepción (Realizada)", exact=False)).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))
    # nothing of her family member on the page scrolls sideways on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

    page.goto(f"/cases/{code}/safety")
    assert not axe_violations(page), _summary(axe_violations(page))
    page.get_by_role("combobox", name="Alerta", exact=True).select_option("contact_only_through")
    page.get_by_role("combobox", name="Profesional designado", exact=False).select_option("abogada")
    page.get_by_role("textbox", name="Motivo", exact=True).fill("Amenazas a la familia por WhatsApp")
    page.get_by_role("button", name="Poner la alerta").click()
    page.wait_for_url(f"**/cases/{code}/safety")
    expect(page.get_by_text("Alerta de seguridad puesta.")).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))

    for url in (f"/cases/{code}", f"/route/cases/{code}", "/cases/"):
        page.goto(url)
        expect(page.get_by_text("Contactar solo por medio de un profesional designado").first, url).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= max(width + 1, 1280)
