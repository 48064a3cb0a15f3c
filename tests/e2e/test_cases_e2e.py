"""A social worker registers a victim with consent in a real browser and finds her again by document number."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations

DOC = "1047382915"


def _summary(violations):
    return [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]


def test_register_a_victim_with_consent_and_find_her_by_document(page, factory, browser_login):
    worker = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    browser_login(worker)

    page.goto("/cases/")
    page.get_by_role("link", name="Registrar un caso").click()
    page.wait_for_url("**/cases/new")
    expect(page.get_by_role("heading", level=1, name="Registrar un caso")).to_be_visible()
    expect(page.get_by_text("ningún servicio depende", exact=False).first).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))

    page.get_by_role("textbox", name="Nombres", exact=True).fill("Luz Marina")
    page.get_by_role("textbox", name="Apellidos", exact=True).fill("Caicedo Valencia")
    page.get_by_role("combobox", name="Tipo de documento").select_option("CC")
    page.get_by_role("textbox", name="Número de documento").fill(DOC)
    page.locator("#birth_date").fill("1994-08-21")
    page.get_by_role("textbox", name="Teléfono").fill("3157778899")
    page.get_by_role("combobox", name="Sexo", exact=True).select_option("female")
    page.get_by_role("combobox", name="Nacionalidad").select_option("CO")
    page.locator("#identified_on").fill("2025-06-02")
    page.get_by_role("combobox", name="Fuente de la identificación").select_option("coat")
    page.get_by_role("checkbox", name=re.compile("Explotación sexual")).check()
    page.get_by_role("combobox", name="Trata", exact=True).select_option("internal")
    page.get_by_role("combobox", name="Condición de la persona").select_option("victim")
    page.get_by_role("checkbox", name="Captación").check()
    page.get_by_role("checkbox", name="Engaño").check()
    page.get_by_role("group", name="¿Acepta la asistencia?").get_by_label("Sí").check()
    page.get_by_role("group", name=re.compile("tratamiento de sus datos sensibles")).get_by_label("Sí").check()
    page.get_by_role("combobox", name="Cómo se obtuvo el consentimiento").select_option("written")
    page.get_by_role("button", name="Registrar caso").click()

    page.wait_for_url(re.compile(r"/cases/CTG-2025-\d{5}$"))
    code = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1, name=f"Caso {code}")).to_be_visible()
    expect(page.get_by_text(f"Caso {code} registrado.")).to_be_visible()
    expect(page.get_by_text("Luz Marina Caicedo Valencia")).to_be_visible()
    expect(page.get_by_role("cell", name="Asistencia", exact=True)).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))

    page.get_by_role("link", name="Volver a los casos").click()
    page.get_by_role("combobox", name="Tipo de documento").select_option("CC")
    page.get_by_role("textbox", name="Número de documento").fill(DOC)
    page.get_by_role("button", name="Buscar").click()
    results = page.get_by_role("table")
    expect(results.get_by_role("link", name=code)).to_be_visible()
    expect(results.get_by_text("Luz Marina Caicedo Valencia")).to_be_visible()
    assert DOC not in page.url and "Luz" not in page.url
    assert not axe_violations(page), _summary(axe_violations(page))
