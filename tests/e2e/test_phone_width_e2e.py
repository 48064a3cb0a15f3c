"""Real browser at phone width (390 px) and on a laptop (1366 px): no page scrolls sideways, every table's actions are
reachable, a 21-digit SPOA number wraps, and the registration form sent twice (Back, then send again) makes one case."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case, Consent
from caseapp.services.casework import legal, steps
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.e2e.conftest import axe_violations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SPOA = "110016000049202500123"  # 21 digits: the number that used to scroll the whole page sideways


def _summary(violations):
    return [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _inside_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 0.5


@pytest.fixture
def busy_case(app, factory):
    """A case with steps, consents (one shared with OIM), a criminal proceeding with a 21-digit SPOA number, a
    hearing and a protection measure, worked by a user who is both social worker and lawyer."""
    worker = factory.user("ana", roles=("social_worker", "lawyer"), entity="SDIS")
    factory.entity("OIM", kind="international")
    factory.entity("ICBF", name="Instituto Colombiano de Bienestar Familiar")
    with app.test_request_context():
        from caseapp.models.accounts import User

        actor = db.session.get(User, worker.id)
        code = make_case(worker.id, identified_on=date(2025, 3, 10), status="in_immediate_assistance",
                         intake_on=date(2025, 3, 10))
        case = db.session.scalar(select(Case).where(Case.code == code))
        oim = db.session.scalar(select(Entity).where(Entity.code == "OIM"))
        case.consents.append(Consent(kind="sharing", entity_id=oim.id, given_on=date(2025, 3, 11), method="written",
                                     taken_by_id=worker.id, recorded_at=utcnow()))
        db.session.commit()
        steps.add_step(actor, code, kind="reception", status="done", done_on="2025-03-10",
                       notes="Llega acompañada por la Policía")
        steps.add_step(actor, code, kind="lodging", status="planned", planned_on="2025-03-12")
        legal.save_proceeding(actor, code, version=0, complaint_filed_on="2025-03-11", receiving_office="Fiscalía 12",
                              criminal_case_number=SPOA, stage="complaint")
        legal.add_event(actor, code, kind="hearing", on="2025-03-20", title="Audiencia de imputación")
        legal.add_measure(actor, code, kind=_measure_kind(), requested_on="2025-03-12")
    return worker, code


def _measure_kind() -> str:
    from caseapp.models.route import PROTECTION_KINDS

    return next(iter(PROTECTION_KINDS))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_main_page_fits_the_screen(app, factory, page, browser_login, busy_case, viewport):
    worker, code = busy_case
    page.set_viewport_size(viewport)
    browser_login(worker)
    pages = ["/", "/cases/", f"/cases/{code}", f"/route/cases/{code}", "/route/agenda", "/referrals/",
             "/route/monthly-list"]
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        assert _scroll_width(page) <= viewport["width"], path
    if viewport is DESKTOP:
        page.goto(f"/cases/{code}")
        expect(page.get_by_role("cell", name="11/03/2025").first).to_be_visible()  # a real table on a wide screen
        return

    # the steps' controls and the consents' actions sit inside the screen, under their column's name
    page.goto(f"/route/cases/{code}")
    for button in page.locator("table button").all():
        assert _inside_viewport(page, button), button.inner_text()
    expect(page.get_by_text(SPOA)).to_be_visible()
    assert _inside_viewport(page, page.get_by_text(SPOA))
    expect(page.get_by_role("link", name=re.compile(code)).first).to_be_visible()  # back to the case
    assert not axe_violations(page), _summary(axe_violations(page))

    page.goto(f"/cases/{code}")
    consents = page.get_by_role("table").filter(has_text="Compartir")
    expect(consents.first).to_be_attached()
    withdraw = consents.first.get_by_role("button")
    expect(withdraw.first).to_be_attached()
    for i in range(withdraw.count()):
        assert _inside_viewport(page, withdraw.nth(i))
    # dates in one format: dd/mm/aaaa
    expect(consents.first.get_by_text("11/03/2025").first).to_be_visible()
    expect(page.get_by_text("2025-03-11")).to_have_count(0)
    assert not axe_violations(page), _summary(axe_violations(page))

    # a consent to share: the entity is picked from a list, not typed
    page.get_by_text("Registrar un consentimiento").click()
    form = page.locator("form[action$='/consents']")
    form.locator("select[name=kind]").select_option("sharing")
    form.locator("select[name=method]").select_option("written")
    form.locator("input[name=given_on]").fill("2025-03-12")
    entity = form.get_by_label("Entidad con la que se pueden compartir los datos")
    assert entity.evaluate("e => e.tagName") == "SELECT"
    expect(entity.locator("option", has_text=re.compile(r"^\s*SDIS\s*$"))).to_have_count(0)  # not the case's own entity
    entity.select_option("ICBF")
    assert _scroll_width(page) <= PHONE["width"]
    form.get_by_role("button", name="Registrar consentimiento").click()
    page.get_by_text("Consentimiento registrado.").wait_for()
    expect(page.get_by_role("table").filter(has_text="12/03/2025").first).to_be_attached()


def test_login_fits_a_phone(page):
    page.set_viewport_size(PHONE)
    page.goto("/auth/login")
    assert _scroll_width(page) <= PHONE["width"]


def test_coordinator_and_auditor_pages_fit(app, factory, page, browser_login, busy_case):
    boss = factory.user("coord", roles=("coordinator",), entity="SDIS")
    auditor = factory.user("audi", roles=("auditor",), entity="SDIS")
    page.set_viewport_size(PHONE)
    browser_login(boss)
    page.goto("/indicators/")
    assert _scroll_width(page) <= PHONE["width"]
    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_label("Usuario").wait_for()

    browser_login(auditor)
    page.goto("/audit/")
    assert _scroll_width(page) <= PHONE["width"]
    # the access-log console on a laptop: readable without scrolling sideways, instants as dd/mm/aaaa
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/audit/")
    assert _scroll_width(page) <= 1366
    expect(page.locator("table time").first).to_have_text(re.compile(r"^\s*\d{2}/\d{2}/\d{4}"))
    assert not axe_violations(page), _summary(axe_violations(page))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_registration_sent_again_after_back_makes_one_case(app, factory, page, browser_login, viewport):
    worker = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    page.set_viewport_size(viewport)
    browser_login(worker)
    page.goto("/cases/new")
    assert _scroll_width(page) <= viewport["width"]
    page.get_by_role("textbox", name="Nombres", exact=True).fill("Luz Marina")
    page.get_by_role("textbox", name="Apellidos", exact=True).fill("Caicedo Valencia")
    page.get_by_role("combobox", name="Tipo de documento").select_option("CC")
    page.get_by_role("textbox", name="Número de documento").fill("1047382915")
    page.get_by_role("combobox", name="Sexo", exact=True).select_option("female")
    page.get_by_role("combobox", name="Nacionalidad").select_option("CO")
    page.locator("#identified_on").fill("2025-06-02")
    page.get_by_role("combobox", name="Fuente de la identificación").select_option("coat")
    page.get_by_role("checkbox", name=re.compile("Explotación sexual")).check()
    page.get_by_role("combobox", name="Trata", exact=True).select_option("internal")
    page.get_by_role("combobox", name="Condición de la persona").select_option("victim")
    page.get_by_role("group", name="¿Acepta la asistencia?").get_by_label("Sí").check()
    page.get_by_role("group", name=re.compile("tratamiento de sus datos sensibles")).get_by_label("Sí").check()
    page.get_by_role("combobox", name="Cómo se obtuvo el consentimiento").select_option("written")
    page.get_by_role("button", name="Registrar caso").click()
    page.wait_for_url(re.compile(r"/cases/CTG-2025-\d{5}$"))
    first = page.url.rsplit("/", 1)[1]
    assert _scroll_width(page) <= viewport["width"]

    page.go_back()
    page.wait_for_url("**/cases/new")
    if not page.get_by_role("textbox", name="Nombres", exact=True).input_value():
        # the browser did not restore what she typed: she types it again, as she would
        page.get_by_role("textbox", name="Nombres", exact=True).fill("Luz Marina")
    page.get_by_role("button", name="Registrar caso").click()
    page.wait_for_url(f"**/cases/{first}")
    expect(page.get_by_text(f"el caso {first} se registró una sola vez", exact=False)).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Case)) == 1


def test_a_new_form_reached_by_back_registers_its_own_case(app, factory, page, browser_login):
    """Nothing lost: a registration form she opened anew and left unsent, reached again with Back, registers the
    new victim (it does not borrow the token of a form sent earlier)."""
    worker = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    page.set_viewport_size(PHONE)
    browser_login(worker)
    for n, doc in enumerate(("1047382915", "52998877")):
        page.goto("/cases/new")
        if n == 1:
            page.goto("/cases/")
            page.go_back()
            page.wait_for_url("**/cases/new")
        page.get_by_role("textbox", name="Nombres", exact=True).fill(["Luz Marina", "Rosa Elena"][n])
        page.get_by_role("textbox", name="Apellidos", exact=True).fill(["Caicedo Valencia", "Mina Ortiz"][n])
        page.get_by_role("combobox", name="Tipo de documento").select_option("CC")
        page.get_by_role("textbox", name="Número de documento").fill(doc)
        page.locator("#identified_on").fill("2025-06-02")
        page.get_by_role("combobox", name="Fuente de la identificación").select_option("coat")
        page.get_by_role("checkbox", name=re.compile("Explotación sexual")).check()
        page.get_by_role("combobox", name="Trata", exact=True).select_option("internal")
        page.get_by_role("combobox", name="Condición de la persona").select_option("victim")
        page.get_by_role("group", name="¿Acepta la asistencia?").get_by_label("Sí").check()
        page.get_by_role("group", name=re.compile("tratamiento de sus datos sensibles")).get_by_label("Sí").check()
        page.get_by_role("combobox", name="Cómo se obtuvo el consentimiento").select_option("written")
        page.get_by_role("button", name="Registrar caso").click()
        page.wait_for_url(re.compile(rf"/cases/CTG-2025-0000{n + 1}$"))
        expect(page.get_by_text(f"Caso CTG-2025-0000{n + 1} registrado.")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Case)) == 2
