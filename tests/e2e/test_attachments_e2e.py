"""A social worker attaches a signed consent scan to a case in a real browser, at desktop and phone width, and
downloads it back as it was; an administrator sets the size limit. axe-core finds no serious violation."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations

SCAN = b"%PDF-1.7\n1 0 obj<<>>endobj\n% consentimiento firmado\n%%EOF\n"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _summary(violations):
    return [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_upload_and_download_a_consent_scan(app, page, factory, browser_login, width):
    page.set_viewport_size(WIDTHS[width])
    worker = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    with app.test_request_context():
        code = make_case(worker.id)
    browser_login(worker)

    page.goto(f"/cases/{code}")
    block = page.locator("section", has=page.get_by_role("heading", name="Documentos adjuntos"))
    expect(block.get_by_text("No hay documentos adjuntos que usted pueda ver.")).to_be_visible()
    block.get_by_text("Adjuntar un documento").click()
    block.get_by_role("combobox", name="Tipo de documento").select_option("consent")
    block.get_by_label("Archivo (PDF, JPEG o PNG)").set_input_files(
        files=[{"name": "consentimiento firmado.pdf", "mimeType": "application/pdf", "buffer": SCAN}])
    block.get_by_role("button", name="Adjuntar el documento").click()

    expect(page.get_by_text("Documento adjuntado y cifrado.")).to_be_visible()
    block = page.locator("section", has=page.get_by_role("heading", name="Documentos adjuntos"))
    expect(block.get_by_text("consentimiento firmado.pdf")).to_be_visible()
    expect(block.get_by_text("Consentimiento firmado").first).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))
    # the block fits a phone: nothing pushes the page sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    with page.expect_download() as info:
        block.get_by_role("link", name="Descargar").first.click()
    download = info.value
    assert download.suggested_filename.startswith("consent-") and download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes() == SCAN


def test_a_file_that_is_not_a_document_is_refused_with_a_clear_message(app, page, factory, browser_login):
    worker = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    with app.test_request_context():
        code = make_case(worker.id)
    browser_login(worker)
    page.goto(f"/cases/{code}")
    block = page.locator("section", has=page.get_by_role("heading", name="Documentos adjuntos"))
    block.get_by_text("Adjuntar un documento").click()
    block.get_by_label("Archivo (PDF, JPEG o PNG)").set_input_files(
        files=[{"name": "acta.pdf", "mimeType": "application/pdf", "buffer": b"<html><script>alert(1)</script>"}])
    block.get_by_role("button", name="Adjuntar el documento").click()
    expect(page.get_by_text("Solo se pueden adjuntar archivos PDF, JPEG o PNG", exact=False)).to_be_visible()
    expect(page.get_by_text("No hay documentos adjuntos que usted pueda ver.")).to_be_visible()


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_an_administrator_sets_the_size_limit(page, factory, browser_login, width):
    page.set_viewport_size(WIDTHS[width])
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    browser_login(admin)
    page.goto("/attachments/admin/limit")
    expect(page.get_by_role("heading", level=1, name="Tamaño máximo de los adjuntos")).to_be_visible()
    assert not axe_violations(page), _summary(axe_violations(page))
    page.get_by_role("spinbutton", name="Tamaño máximo de un adjunto, en MB").fill("3")
    page.get_by_role("button", name="Guardar el límite").click()
    expect(page.get_by_text("Se guardó el tamaño máximo de los adjuntos.")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Tamaño máximo de un adjunto, en MB")).to_have_value("3")
