"""Real browser: an auditor answers "who looked at case X?" in the console and exports the rows as CSV."""
from __future__ import annotations

import csv
import io

from playwright.sync_api import expect
from sqlalchemy import select

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations


def test_auditor_filters_by_case_code_and_exports_csv(app, factory, page, browser_login):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    leo = factory.user("leo", roles=("lawyer",), entity="FISC")
    auditor = factory.user("auditora", roles=("auditor",), entity="PROC")
    with app.test_request_context():
        code = make_case(ana.id, given_names="Daniela", family_names="Quintero Ríos", document_number="1122334455")
        other = make_case(ana.id, document_number="99887766")
        case = db.session.scalar(select(Case).where(Case.code == code))
        other_case = db.session.scalar(select(Case).where(Case.code == other))
        ana_user, leo_user = db.session.get(User, ana.id), db.session.get(User, leo.id)
        audit.record("case.view", case, actor=ana_user)
        audit.record("case.update", case, actor=ana_user, detail={"fields": ["status"]})
        audit.record("case.view", case, actor=leo_user, outcome="denied")
        audit.record("case.view", other_case, actor=ana_user)
        db.session.commit()

    browser_login(auditor)
    page.get_by_role("link", name="Bitácora de acceso").first.click()
    page.wait_for_url("**/audit/")
    page.get_by_label("Código del caso").fill(code)
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(f"**/audit/?*case={code}*")

    table = page.get_by_role("table", name="Registros de la bitácora de acceso")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    text = table.inner_text()
    assert "case.update" in text and "leo" in text and other not in text
    assert "Daniela" not in page.content() and "1122334455" not in page.content()
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("link", name="Exportar estos registros (CSV)").click()
    download = info.value
    assert download.suggested_filename.startswith("bitacora-") and download.suggested_filename.endswith(".csv")
    content = open(download.path(), encoding="utf-8").read()  # noqa: PTH123 - Playwright's temp file
    exported = list(csv.DictReader(io.StringIO(content)))
    # the auditor's own filtered view and export name the case too, and come first (newest)
    assert [(r["action"], r["user"], r["outcome"]) for r in exported] == [
        ("audit.export", "auditora", "allowed"),
        ("audit.console", "auditora", "allowed"),
        ("case.view", "leo", "denied"),
        ("case.update", "ana", "allowed"),
        ("case.view", "ana", "allowed"),
    ]
    assert {r["object_ref"] for r in exported} == {code}
    assert "Daniela" not in content and "1122334455" not in content

    # the console view and the export are in the log, under the auditor's name
    page.reload()
    expect(table).to_contain_text("audit.export")
