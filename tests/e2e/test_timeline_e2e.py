"""A social worker opens a case's timeline and downloads its printable summary, at desktop and at phone width."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import casework
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations

WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _summary(violations):
    return [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]


@pytest.mark.parametrize("width", WIDTHS)
def test_open_the_timeline_and_download_the_summary(app, page, factory, browser_login, width):
    worker = factory.user("trabajadora", roles=("social_worker", "lawyer"), entity="CTG")
    with app.test_request_context():
        user = db.session.get(User, worker.id)
        code = make_case(worker.id, given_names="Luz Marina", identified_on=date(2025, 3, 10),
                         status="in_immediate_assistance", intake_on=date(2025, 3, 10))
        casework.add_step(user, code, kind="psychological_assessment", status="done", done_on="2025-03-11")
        casework.add_event(user, code, kind="hearing", on="2025-03-14", title="Audiencia preliminar")
    page.set_viewport_size(WIDTHS[width])
    browser_login(worker)

    page.goto(f"/cases/{code}")
    page.get_by_role("link", name="Línea de tiempo del caso").click()
    page.wait_for_url(f"**/cases/{code}/timeline")
    expect(page.get_by_role("heading", level=1, name=f"Línea de tiempo del caso {code}")).to_be_visible()
    days = page.locator("ol.timeline time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert days == sorted(days, reverse=True)  # newest first
    expect(page.locator("ol.timeline li", has_text="14/03/2025").first).to_be_visible()  # dd/mm/aaaa
    expect(page.get_by_text("Acción realizada: ", exact=False).first).to_be_visible()
    # nothing scrolls sideways, at any width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not axe_violations(page), _summary(axe_violations(page))

    with page.expect_download() as download:
        page.get_by_role("link", name="Resumen para imprimir (PDF)").click()
    assert download.value.suggested_filename == f"resumen-{code}.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(Path(download.value.path())).pages)
    assert f"Resumen del caso {code}" in text and "Luz Marina" in text and "Audiencia preliminar" in text

    page.get_by_role("link", name="Volver al caso").click()
    page.wait_for_url(f"**/cases/{code}")
    assert not axe_violations(page), _summary(axe_violations(page))
