"""A coordinator signs in, opens the indicators dashboard in two clicks and downloads the product sheet (XLSX)."""
from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from playwright.sync_api import expect

from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations


def test_coordinator_opens_the_dashboard_and_downloads_the_xlsx(app, factory, page, browser_login, tmp_path):
    sw = factory.user("sw.e2e", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord.e2e", roles=("coordinator",), entity="CTG")
    year = today().year
    with app.test_request_context():
        for i in range(6):
            make_case(sw.id, document_number=f"6600{i}", given_names="Rosalba", linked_on=date(year, 1, 1),
                      identified_on=date(year, 1, 1))
    browser_login(coord)
    page.get_by_role("link", name="Indicadores").first.click()  # click 1
    page.wait_for_url("**/indicators/")
    headline = page.locator("section.headline")
    expect(headline.locator(".big-figure strong")).to_contain_text("6")
    expect(headline).to_contain_text("meta de 100")
    expect(page.locator("svg[role=img]").nth(2)).to_be_attached()  # at least three charts
    assert "Rosalba" not in page.content()
    assert axe_violations(page) == []
    with page.expect_download() as info:  # click 2
        page.get_by_role("link", name="Descargar la hoja de vida del producto (XLSX)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".xlsx"
    book = load_workbook(path)
    cells = [c for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row if c is not None]
    assert "3.5" in cells and any(isinstance(c, str) and c.startswith("Número de mujeres") for c in cells)
    assert "Rosalba" not in cells
