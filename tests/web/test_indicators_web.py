"""Indicator screens: the coordinator's two clicks, Spanish and Colombian numbers, accessible charts with tables,
manual values, the suppression setting, exports (logged, suppressed) and no identity anywhere."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.audit import AuditEvent
from caseapp.models.indicators import AchievedValue, Product
from caseapp.services import accounts as admin_service
from caseapp.services.indicators import plans as plan_service
from caseapp.timeutil import today
from tests.cases_factory import make_case
from tests.conftest import csrf_token

NAMES = ("Yolanda", "Quintanilla", "Hernando")
DOCS = ("88112233", "88112234", "88112235")


@pytest.fixture
def world(app, factory):
    sw = factory.user("sw", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord", roles=("coordinator",), entity="CTG")
    other = factory.user("coord.bog", roles=("coordinator",), entity="BOG")
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    year = today().year
    codes = []
    with app.test_request_context():
        for i in range(7):
            codes.append(make_case(sw.id, given_names=NAMES[i % 2], family_names=NAMES[1],
                                   document_number=f"{DOCS[0][:-2]}{i:02d}", phone=f"31099900{i:02d}",
                                   linked_on=date(year, 1, 1), identified_on=date(year, 1, 1),
                                   age_group="18-20" if i < 5 else "21-23"))
        codes.append(make_case(sw.id, given_names=NAMES[2], sex="male", document_number=DOCS[2],
                               linked_on=date(year, 1, 1), identified_on=date(year, 1, 1)))
        # a manual product of the CTG sector, for on-screen values
        csv = ("policy,objective,objective_name,product,product_name,indicator,sector,weight,periodicity,period,"
               "target,achieved,source\nCTG-PPIG,3,Objetivo 3,3.9,Campañas,Número de campañas,Interior,1,annual,"
               f"{year},4,,\n")
        preview = plan_service.validate(plan_service.read_table(csv.encode(), "p.csv"))
        plan_service.apply(admin_service.CLI, preview)
        product = db.session.scalar(select(Product).where(Product.code == "3.9"))
        product.responsible_entity_id = db.session.scalar(select(Entity.id).where(Entity.code == "CTG"))
        db.session.commit()
    return {"sw": sw, "coord": coord, "other": other, "admin": admin, "year": year, "codes": codes}


def test_two_clicks_from_home_to_the_answer_in_spanish(client, login_as, world):
    login_as(world["coord"])
    home = client.get("/").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)"[^>]*>Indicadores</a>', home)
    assert link, "the navigation offers Indicadores"
    r = client.get(link.group(1))
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    # how many women this year, against the target of 100, and are we on track?
    assert re.search(r"<strong>7</strong>\s*<span>logradas, frente a una meta de 100</span>", html)
    assert "Semáforo del avance hasta la vigencia:" in html and "¿Vamos al día?" in html
    assert "Trayectoria ideal" in html and "Brecha" in html and "1.000" in html  # Colombian thousands
    assert "Descargar la hoja de vida del producto (XLSX)" in html
    # accessible, CSP-clean charts: an SVG image with title and description, and a table for each
    assert html.count('role="img"') >= 3 and "<title id=" in html and "<desc id=" in html
    assert html.count("<table") >= html.count('role="img"')
    # no inline style or script: the only script is the site's own file (the length counters)
    assert 'style="' not in html and not re.findall(r'<script(?![^>]*src="/static/js/)', html)
    # breakdowns are protected: 5 of 18-20 shown, 2 of 21-23 suppressed and a partner hidden with it
    cut_off = today().replace(day=1) - timedelta(days=1)
    assert ">reservado</abbr>" in html and "&lt;5" not in html and f"Datos al {cut_off:%d/%m/%Y}" in html


def test_social_worker_and_anonymous_are_kept_out(client, login_as, world):
    assert client.get("/indicators/").status_code in (302, 401)
    login_as(world["sw"])
    assert client.get("/indicators/").status_code == 403
    assert client.get("/indicators/counts?by=sex").status_code == 403
    assert client.get("/indicators/export/report?kind=yearly").status_code == 403


def _all_pages(year):
    return ["/indicators/", f"/indicators/?year={year}", f"/indicators/products/3.5?year={year}",
            "/indicators/policies/CTG-PPIG", f"/indicators/counts?by=sex&by2=age_group&period={year}",
            "/indicators/counts?by=entity", "/indicators/counts?by=exploitation_purpose&unit=victims",
            "/indicators/reports"]


def _all_files(year):
    month = f"{year}-01"
    return [f"/indicators/export/product?code=3.5&year={year}&format=xlsx",
            f"/indicators/export/product?code=3.5&year={year}&format=csv",
            "/indicators/export/counts?by=sex&by2=age_group&format=xlsx",
            "/indicators/export/counts?by=entity&format=csv",
            f"/indicators/export/report?kind=yearly&year={year}&format=xlsx",
            f"/indicators/export/report?kind=monthly&period={month}&format=csv",
            f"/indicators/export/report?kind=half_yearly&period={year}-S1&format=xlsx",
            f"/indicators/export/report?kind=bimonthly&period={year}-B1&format=xlsx"]


def _text_of(response) -> str:
    if response.mimetype.endswith("sheet"):
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for c in row if c is not None)
    return response.get_data(as_text=True)


def test_a_coordinator_gets_no_identity_anywhere(app, client, login_as, world):
    login_as(world["coord"])
    secrets = list(NAMES) + [DOCS[0][:-2], DOCS[2], "3109990", world["codes"][0][:9]]
    for url in _all_pages(world["year"]) + _all_files(world["year"]):
        r = client.get(url)
        assert r.status_code == 200, url
        text = _text_of(r)
        for secret in secrets:
            assert secret not in text, (url, secret)
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            for secret in secrets[:5]:
                assert secret not in (event.detail or ""), event.action


def test_every_download_is_suppressed_and_logged(app, client, login_as, world):
    login_as(world["coord"])
    r = client.get(f"/indicators/export/report?kind=yearly&year={world['year']}&format=xlsx")
    assert r.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(r.data))
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
    # the breakdowns and small counts are protected in the file as on screen: an empty cell with the legend,
    # never a bound ("<5") that a count held back to protect another one would make false
    reserved = [c for c in cells if c.comment is not None]
    assert reserved and all(c.value is None and "reservado" in c.comment.text for c in reserved)
    assert not any(isinstance(c.value, str) and "<5" in c.value for c in cells)
    assert any(isinstance(c.value, str) and "Hoja de vida" in c.value for c in cells)
    csv = client.get("/indicators/export/counts?by=sex&format=csv").get_data(as_text=True)
    # the man is reserved, and so is the total (8): next to product 3.5's published figure (7 women) it would
    # say how many linked cases are not counted in it
    assert "Sexo;Conteo" in csv and "Hombre;\r\n" in csv and "Total;\r\n" in csv and "<5" not in csv
    with app.app_context():
        actions = [(e.action, e.object_ref) for e in db.session.scalars(select(AuditEvent))]
    assert ("stats.export", "yearly_report") in actions and ("stats.export", "stats_table") in actions


def test_coordinator_of_the_sector_enters_a_manual_value(app, client, login_as, world):
    login_as(world["coord"])
    url = f"/indicators/products/3.9?policy=CTG-PPIG&year={world['year']}"
    page = client.get(url).get_data(as_text=True)
    assert "Registrar un valor medido fuera del sistema" in page
    token = csrf_token(client, url)
    period = str(world["year"])
    bad = client.post(url, data={"csrf_token": token, "period": period, "value": "muchas", "source": "Informe"})
    html = bad.get_data(as_text=True)
    assert "Escriba un número, p. ej. 42 o 42,5." in html and 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.scalar(select(AchievedValue).join(Product).where(Product.code == "3.9")) is None
    ok = client.post(url, data={"csrf_token": token, "period": period, "value": "3", "source": "Informe SICC"},
                     follow_redirects=True)
    assert "Valor guardado." in ok.get_data(as_text=True)
    with app.app_context():
        value = db.session.scalar(select(AchievedValue).join(Product).where(Product.code == "3.9"))
        assert value.value == 3 and value.source == "Informe SICC" and value.entered_by_id == world["coord"].id
        version = value.version
    # a stale form (someone saved in between) is refused, nothing overwritten
    client.post(url, data={"csrf_token": token, "period": period, "value": "4", "source": "Otra",
                           "version": version}, follow_redirects=True)
    stale = client.post(url, data={"csrf_token": token, "period": period, "value": "5", "source": "Vieja",
                                   "version": version})
    assert stale.status_code == 409 and "Otra persona cambió este valor" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AchievedValue.value).join(Product).where(Product.code == "3.9")) == 4
    # forged CSRF
    assert client.post(url, data={"csrf_token": "x", "period": period, "value": "9", "source": "s"}).status_code == 400


def test_a_coordinator_of_another_sector_cannot_enter_values(app, client, login_as, world):
    login_as(world["other"])
    url = f"/indicators/products/3.9?policy=CTG-PPIG&year={world['year']}"
    page = client.get(url).get_data(as_text=True)
    assert "Registrar un valor medido fuera del sistema" not in page
    from caseapp.errors import Forbidden
    from caseapp.models.accounts import User
    from caseapp.services import indicators as ind

    with app.test_request_context():
        user = db.session.get(User, world["other"].id)
        product = db.session.scalar(select(Product).where(Product.code == "3.9"))
        with pytest.raises(Forbidden):
            ind.enter_value(user, product.id, period=str(world["year"]), value="2", source="x", version=0)


def test_admin_sets_the_suppression_threshold(app, client, login_as, world):
    login_as(world["admin"])
    token = csrf_token(client, "/indicators/admin/suppression")
    r = client.post("/indicators/admin/suppression", data={"csrf_token": token, "k": "1"})
    assert r.status_code == 200 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post("/indicators/admin/suppression", data={"csrf_token": token, "k": "3"}, follow_redirects=True)
    assert "Umbral de supresión guardado." in r.get_data(as_text=True)
    login_as(world["coord"])
    html = client.get(f"/indicators/counts?by=sex&period={world['year']}").get_data(as_text=True)
    # the legend follows the new k (reserved: from 1 to 2), and no count is ever shown as a bound
    assert "entre 1 y 2," in html and "reservado" in html and "&lt;" not in html


def test_counts_screen_crosstab_and_errors(client, login_as, world):
    login_as(world["coord"])
    html = client.get(f"/indicators/counts?by=sex&by2=age_group&period={world['year']}").get_data(as_text=True)
    assert "Sexo × Grupo de edad" in html and "Total" in html
    html = client.get("/indicators/counts?by=sex&period=ayer").get_data(as_text=True)
    assert "El periodo debe ser un año" in html
    html = client.get("/indicators/counts?by=sex&f_sex=female").get_data(as_text=True)
    assert "No puede filtrar por esa dimensión aquí." in html


def test_admin_edits_the_product_sheet_and_moves_its_first_year(app, client, login_as, world):
    with app.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.code == "3.5"))
    login_as(world["coord"])
    assert client.get(f"/indicators/admin/products/{product_id}").status_code == 403
    login_as(world["admin"])
    url = f"/indicators/admin/products/{product_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Número de mujeres víctimas de trata vinculadas" in page
    token = csrf_token(client, url)
    with app.app_context():
        version = db.session.get(Product, product_id).version
    form = {"csrf_token": token, "name": "Programa", "indicator": "Número de mujeres vinculadas",
            "formula": "women_linked", "first_year": "2026", "weight": "1", "ods_code": "5", "version": version,
            "responsible_entity": "CTG"}
    r = client.post(url, data=form, follow_redirects=True)
    assert "Producto guardado." in r.get_data(as_text=True)
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert [t.period for t in product.targets] == [str(y) for y in range(2026, 2036)]
        assert product.first_year == 2026 and product.responsible_entity.code == "CTG"
    stale = client.post(url, data={**form, "name": "Otro nombre"})
    assert stale.status_code == 409
    bad = client.post(url, data={**form, "version": version + 1, "weight": "mucho", "formula": "eval"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Product, product_id).name == "Programa"


def test_an_admin_manages_the_catalogue_but_sees_no_figures(client, login_as, world):
    login_as(world["admin"])
    assert client.get("/indicators/admin/products").status_code == 200
    for url in ("/indicators/", "/indicators/products/3.5", "/indicators/policies/CTG-PPIG",
                "/indicators/export/product?code=3.5&format=xlsx", "/indicators/counts?by=sex"):
        assert client.get(url).status_code == 403, url
