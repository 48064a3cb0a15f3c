"""Real browser, at desktop and phone width: a lawyer opens the criminal proceeding of a case, records a hearing and
then its outcome with the next hearing's date, and takes a protection measure from requested to granted. The legal
follow-up page has no serious or critical accessibility violation (axe-core) before or after."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.route import LegalEvent, ProtectionMeasure
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("width", WIDTHS)
def test_a_lawyer_records_a_hearing_outcome_and_a_measure_granted(app, factory, page, browser_login, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    sw = factory.user("ana", roles=("social_worker",), entity="SDIS")
    lawyer = factory.user("luz", roles=("lawyer",), entity="SDIS")
    with app.test_request_context():
        code = make_case(sw.id, identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))

    browser_login(lawyer)
    page.goto(f"/route/cases/{code}")
    page.get_by_role("link", name="Todos los procesos, historial de etapas, audiencias y medidas").click()
    page.get_by_role("heading", name="Seguimiento jurídico").wait_for()
    assert axe_violations(page) == []

    page.get_by_text("Abrir un proceso").click()
    page.get_by_label("Tipo de proceso").select_option("criminal")
    page.get_by_label("Inició el").fill("2025-03-12")
    page.get_by_role("button", name="Abrir el proceso").click()
    page.get_by_text("Proceso abierto.").wait_for()

    page.get_by_text("Registrar una audiencia").click()
    page.get_by_label("Fecha de la audiencia").fill("2025-03-20")
    page.get_by_label("Audiencia o actuación").fill("Audiencia de imputación")
    page.get_by_role("button", name="Registrar la audiencia").click()
    page.get_by_text("Audiencia registrada.").wait_for()

    hearing = page.locator("article.hearing").first
    hearing.get_by_text("Registrar el resultado").click()
    hearing.get_by_label("Resultado").fill("Imputación aceptada")
    hearing.get_by_label("Próxima audiencia").fill("2025-05-02")
    hearing.get_by_role("button", name="Guardar el resultado").click()
    page.get_by_text("Resultado de la audiencia registrado.").wait_for()
    expect(page.locator("article.hearing").first).to_contain_text("Imputación aceptada")

    page.get_by_text("Registrar una medida de protección").click()
    page.get_by_label("Medida de protección").select_option("witness_protection")
    page.get_by_label("Fecha de solicitud").fill("2025-03-13")
    page.get_by_role("button", name="Registrar la medida").click()
    page.get_by_text("Medida de protección registrada").wait_for()
    measure = page.locator("article.measure").first
    measure.get_by_role("combobox", name="Decisión").select_option("granted")
    measure.get_by_label("Fecha de la decisión").fill("2025-03-25")
    measure.get_by_label("Autoridad que decidió").fill("Juzgado de control de garantías")
    measure.get_by_role("button", name="Registrar la decisión").click()
    page.get_by_text("Decisión sobre la medida de protección registrada.").wait_for()
    expect(page.locator("article.measure").first).to_contain_text("Otorgada")
    assert axe_violations(page) == []
    if width == "phone":  # nothing pushes the page sideways on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    with app.app_context():
        event = db.session.scalar(select(LegalEvent))
        measure_row = db.session.scalar(select(ProtectionMeasure))
        assert (event.outcome, event.next_on) == ("Imputación aceptada", date(2025, 5, 2))
        assert (measure_row.status, measure_row.decided_on) == ("granted", date(2025, 3, 25))
