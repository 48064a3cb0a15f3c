"""Territories (issue 11): Cartagena's product 3.5 counts Cartagena's women, a coordinator sees the counts of her
entity's territory and nothing of another one, a national coordinator sees all; an entity's territory is checked
the same way on every path that sets it (CLI, admin screen, service)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity, User
from caseapp.models.audit import AuditEvent
from caseapp.models.indicators import AchievedValue, Objective, Policy, Product
from caseapp.services import indicators as ind
from caseapp.services.indicators import stats
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case
from tests.conftest import csrf_token

YEAR = 2025
CTG_WOMEN = 6  # at least k = 5, so every count below is published exactly
BOG_WOMEN = 7




def _women(app, worker, n: int, first_doc: int) -> None:
    with app.test_request_context():
        for i in range(n):
            make_case(worker.id, document_number=str(first_doc + i), phone=f"3{first_doc + i}"[:10],
                      given_names=f"Nombre{first_doc + i}", family_names="Territorial",
                      identified_on=date(YEAR, 3, 1), linked_on=date(YEAR, 4, 1))


@pytest.fixture
def places(app, factory):
    factory.entity("CTG", "Secretaría del Interior de Cartagena", territory="13001")
    factory.entity("SDIS", "Secretaría Distrital de Integración Social", territory="11001")
    factory.entity("ICBF", "Instituto Colombiano de Bienestar Familiar", kind="child_protection", territory="CO")
    people = {
        "sw_ctg": factory.user("sw.ctg", roles=("social_worker",), entity="CTG"),
        "sw_bog": factory.user("sw.bog", roles=("social_worker",), entity="SDIS"),
        "coord_ctg": factory.user("coord.ctg", roles=("coordinator",), entity="CTG"),
        "coord_bog": factory.user("coord.bog", roles=("coordinator",), entity="SDIS"),
        "coord_co": factory.user("coord.nal", roles=("coordinator",), entity="ICBF"),
    }
    _women(app, people["sw_ctg"], CTG_WOMEN, 70010000)
    return people


def _achieved_api(client, app, user) -> float:
    r = client.get(f"/api/v1/products/3.5/progress?period={YEAR}", headers=token_for(app, user))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["achieved"]


def _achieved_dashboard(client, app, user, login_as) -> int:
    login_as(user)
    html = client.get(f"/indicators/?year={YEAR}").get_data(as_text=True)
    found = re.search(r"<strong>(\d+)</strong>\s*<span>logradas", html)
    assert found, "the dashboard shows the year's achieved value"
    return int(found.group(1))


def _linked_stats_api(client, app, user) -> int:
    body = client.get(f"/api/v1/stats/cases?by=entity&basis=linked&period={YEAR}",
                      headers=token_for(app, user)).get_json()
    return body["total"]


def _linked_csv(client, app, user, login_as) -> int:
    login_as(user)
    r = client.get("/indicators/export/counts?by=year&basis=linked&format=csv")
    assert r.status_code == 200
    text = r.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if text.count(";") > text.count(",") else ","))
    year_row = next(row for row in rows if row and row[0].strip() == str(YEAR))
    return int(year_row[1])


READERS = {
    "progress API": lambda client, app, user, login_as: _achieved_api(client, app, user),
    "dashboard": _achieved_dashboard,
    "stats API": lambda client, app, user, login_as: _linked_stats_api(client, app, user),
    "CSV export": _linked_csv,
}


@pytest.mark.parametrize("path", READERS)
def test_a_bogota_case_leaves_cartagenas_3_5_unchanged(app, client, login_as, places, path):
    read = READERS[path]
    before = read(client, app, places["coord_ctg"], login_as)
    assert before == CTG_WOMEN
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    assert read(client, app, places["coord_ctg"], login_as) == before


def test_cartagenas_3_5_is_cartagenas_even_for_a_national_coordinator(app, client, places):
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    assert _achieved_api(client, app, places["coord_co"]) == CTG_WOMEN
    # while her counts are the whole country's
    body = client.get(f"/api/v1/stats/cases?by=entity&basis=linked&period={YEAR}",
                      headers=token_for(app, places["coord_co"])).get_json()
    assert body["total"] == CTG_WOMEN + BOG_WOMEN
    assert {r["entity"]: r["count"] for r in body["rows"]} == {"CTG": CTG_WOMEN, "SDIS": BOG_WOMEN}


CARTAGENA_ONLY = [
    ("api", "/api/v1/products/3.5/progress?period=2025"),
    ("api", "/api/v1/products/3.5/progress?period=2025&policy=CTG-PPIG"),
    ("api", "/api/v1/policies/CTG-PPIG/summary?as_of=2025-12-31"),
    ("web", "/indicators/products/3.5?policy=CTG-PPIG&year=2025"),
    ("web", "/indicators/?product=3.5&policy=CTG-PPIG&year=2025"),
    ("web", "/indicators/policies/CTG-PPIG?as_of=2025-12-31"),
    ("web", "/indicators/export/product?code=3.5&policy=CTG-PPIG&year=2025&format=csv"),
    ("web", "/indicators/export/report?kind=yearly&year=2025&format=csv"),
]


@pytest.mark.parametrize(("via", "url"), CARTAGENA_ONLY)
def test_a_bogota_coordinator_gets_404_for_cartagenas_policy_and_product(app, client, login_as, places, via, url):
    if via == "api":
        r = client.get(url, headers=token_for(app, places["coord_bog"]))
    else:
        login_as(places["coord_bog"])
        r = client.get(url)
    assert r.status_code == 404
    assert "Cartagena" not in r.get_data(as_text=True)


def test_a_bogota_coordinator_lists_no_cartagena_product_and_counts_none_of_its_cases(app, client, login_as,
                                                                                       places):
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    headers = token_for(app, places["coord_bog"])
    assert [p for p in client.get("/api/v1/products", headers=headers).get_json()["products"]
            if p["policy"] == "CTG-PPIG"] == []
    for basis in ("identified", "linked"):
        body = client.get(f"/api/v1/stats/cases?by=entity&basis={basis}&period={YEAR}", headers=headers).get_json()
        assert body["total"] == BOG_WOMEN and [r["entity"] for r in body["rows"]] == ["SDIS"]
    # filtering by a Cartagena entity finds nothing (and is not an error that would confirm anything)
    body = client.get(f"/api/v1/stats/cases?by=sex&entity=CTG&period={YEAR}", headers=headers).get_json()
    assert body["rows"] == [] and body["total"] == 0
    login_as(places["coord_bog"])
    csv_text = client.get(f"/indicators/export/counts?by=entity&format=csv&period={YEAR}").get_data().decode("utf-8-sig")
    assert "CTG" not in csv_text and "SDIS" in csv_text
    html = client.get(f"/indicators/counts?by=entity&period={YEAR}").get_data(as_text=True)
    assert "CTG" not in html and "Cartagena" not in html and "Casos de las entidades de: Bogotá D.C. · 11001" in html
    # the monthly report counts Bogotá's cases only
    report = client.get(f"/indicators/export/report?kind=monthly&period={YEAR}-03&format=csv")
    assert report.status_code == 200 and "CTG" not in report.get_data().decode("utf-8-sig")


def test_a_national_coordinator_sees_both_territories(app, client, places):
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    headers = token_for(app, places["coord_co"])
    assert any(p["code"] == "3.5" and p["territory"] == "13001"
               for p in client.get("/api/v1/products", headers=headers).get_json()["products"])
    body = client.get(f"/api/v1/stats/cases?by=entity&period={YEAR}", headers=headers).get_json()
    assert body["total"] == CTG_WOMEN + BOG_WOMEN


def test_a_department_contains_its_municipalities_and_not_another_department(app, client, factory, places):
    factory.entity("GOBOL", "Gobernación de Bolívar", territory="13")
    coord = factory.user("coord.bolivar", roles=("coordinator",), entity="GOBOL")
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    headers = token_for(app, coord)
    body = client.get(f"/api/v1/stats/cases?by=entity&period={YEAR}", headers=headers).get_json()
    assert body["total"] == CTG_WOMEN and [r["entity"] for r in body["rows"]] == ["CTG"]
    assert _achieved_api(client, app, coord) == CTG_WOMEN  # Cartagena (13001) is inside Bolívar (13)


# --- the territory of an entity: one rule on every path ----------------------------------------------------------


@pytest.mark.parametrize(("code", "ok"), [
    ("CO", True), ("co", True), ("13", True), ("11", True), ("13001", True), ("11001", True), ("13430", True),
    ("12", False), ("12001", False), ("13000", False), ("1300", False), ("130011", False), ("XX", False),
    ("BOG", False), ("13OO1", False), ("", True),  # blank: national, the default
])
def test_entity_territory_is_checked_on_every_path(app, runner, client, factory, login_as, code, ok):
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    # CLI
    args = ["entities", "create", "CLIX", "Entidad de prueba", "--kind", "government"]
    result = runner.invoke(args=args + (["--territory", code] if code else []))
    assert (result.exit_code == 0) is ok, result.output
    if not ok:
        assert "Territorio desconocido" in result.output
    # admin screen
    login_as(admin)
    r = client.post("/admin/entities/new", data={"csrf_token": csrf_token(client, "/admin/entities/new"),
                                                 "code": "WEBX", "name": "Entidad web", "kind": "ngo",
                                                 "territory": code})
    assert (r.status_code == 302) is ok
    if not ok:
        html = r.get_data(as_text=True)
        assert "Territorio desconocido" in html and 'aria-invalid="true"' in html
    with app.app_context():
        stored = {e.code: e.territory for e in db.session.scalars(select(Entity).where(
            Entity.code.in_(("CLIX", "WEBX"))))}
    expected = (territories.normalise(code) or "CO") if ok else None
    assert stored == ({"CLIX": expected, "WEBX": expected} if ok else {})


def test_cli_create_defaults_to_national_and_list_shows_the_territory(app, runner):
    assert runner.invoke(args=["entities", "create", "FGN", "Fiscalía General de la Nación", "--kind",
                               "justice"]).exit_code == 0
    assert runner.invoke(args=["entities", "create", "MECAR", "Policía Metropolitana de Cartagena", "--kind",
                               "police", "--territory", "13001"]).exit_code == 0
    listing = runner.invoke(args=["entities", "list"]).output
    assert "FGN\tjustice\tCO\tactive" in listing and "MECAR\tpolice\t13001\tactive" in listing


def test_admin_changes_an_entitys_territory_and_it_is_logged(app, client, factory, login_as, places):
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    login_as(admin)
    page = client.get("/admin/entities/SDIS").get_data(as_text=True)
    assert "Bogotá D.C. · 11001" in page and 'value="11001"' in page
    with app.app_context():
        version = db.session.scalar(select(Entity.version).where(Entity.code == "SDIS"))
    bad = client.post("/admin/entities/SDIS", data={"csrf_token": csrf_token(client, "/admin/entities/SDIS"),
                                                    "version": version, "name": "SDIS", "kind": "government",
                                                    "territory": "99999x"})
    assert bad.status_code == 422 and "Territorio desconocido" in bad.get_data(as_text=True)
    r = client.post("/admin/entities/SDIS", data={"csrf_token": csrf_token(client, "/admin/entities/SDIS"),
                                                  "version": version, "name": "SDIS", "kind": "government",
                                                  "territory": "13001"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Entity.territory).where(Entity.code == "SDIS")) == "13001"
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.entity.update")).all()[-1]
        assert "territory" in event.detail and "13001" in event.detail
    assert "Cartagena de Indias (Bolívar) · 13001" in client.get("/admin/entities").get_data(as_text=True)
    # from now on SDIS's cases count for Cartagena, and its coordinator sees 3.5
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    assert _achieved_api(client, app, places["coord_ctg"]) == CTG_WOMEN + BOG_WOMEN


def test_entity_api_lists_territories_for_any_signed_in_user(app, client, places):
    body = client.get("/api/v1/entities", headers=token_for(app, places["sw_ctg"])).get_json()
    by_code = {e["code"]: e for e in body["entities"]}
    assert by_code["CTG"]["territory"] == "13001" and by_code["SDIS"]["territory"] == "11001"
    assert by_code["ICBF"]["territory"] == "CO" and by_code["CTG"]["active"] is True
    assert client.get("/api/v1/entities").status_code == 401


# --- policies ---------------------------------------------------------------------------------------------------


def test_seeded_policy_is_cartagenas(app):
    with app.app_context():
        assert db.session.scalar(select(Policy.territory_code).where(Policy.code == "CTG-PPIG")) == "13001"


PLAN = ("policy,objective,objective_name,product,product_name,indicator,sector,weight,periodicity,period,target,"
        "achieved,source\nBOG-T,1,Objetivo,1.1,Ingresos,Número de personas,Desarrollo,1,annual,2025,10,4,Informe\n")


def test_an_imported_policy_belongs_to_the_importers_territory(app, client, runner, factory, login_as, places,
                                                               tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text(PLAN, encoding="utf-8")
    assert runner.invoke(args=["plans", "import", str(path), "--territory", "1100"]).exit_code != 0
    assert runner.invoke(args=["plans", "import", str(path), "--territory", "11001"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Policy.territory_code).where(Policy.code == "BOG-T")) == "11001"
    assert client.get("/api/v1/policies/BOG-T/summary?as_of=2025-12-31",
                      headers=token_for(app, places["coord_bog"])).status_code == 200
    assert client.get("/api/v1/policies/BOG-T/summary?as_of=2025-12-31",
                      headers=token_for(app, places["coord_ctg"])).status_code == 404
    # a Cartagena admin cannot overwrite Bogotá's plan through the screen; a new policy of hers is Cartagena's
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    login_as(admin)
    for plan, flashed in ((PLAN.replace(",4,Informe", ",9,Informe"), "pertenece a otro territorio"),
                          (PLAN.replace("BOG-T", "CTG-T"), "Plan importado")):
        token = csrf_token(client, "/indicators/admin/plans")
        html = client.post("/indicators/admin/plans", data={"csrf_token": token,
                                                             "file": (io.BytesIO(plan.encode()), "plan.csv")},
                           content_type="multipart/form-data").get_data(as_text=True)
        payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html) or re.search(
            r'id="payload" name="payload" type="hidden" value="([^"]+)"', html)
        r = client.post("/indicators/admin/plans/confirm", follow_redirects=True, data={
            "csrf_token": token, "payload": unescape(payload.group(1)), "filename": "plan.csv"})
        assert flashed in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AchievedValue.value).join(Product).join(Objective).join(Policy).where(
            Policy.code == "BOG-T")) == 4
        assert db.session.scalar(select(Policy.territory_code).where(Policy.code == "CTG-T")) == "13001"


def test_a_yearly_report_reads_its_readers_own_publication(app, client, login_as, places):
    """One reader, one publication: a national reader's yearly report of Cartagena's 3.5 holds the nation's counts
    (her screens' and API's); Cartagena's own reader, Cartagena's. Two publications of the same cases, each
    protected on its own, could otherwise be subtracted from one another."""
    _women(app, places["sw_bog"], BOG_WOMEN, 70020000)
    login_as(places["coord_co"])
    yearly = client.get(f"/indicators/export/report?kind=yearly&year={YEAR}&format=csv").get_data().decode("utf-8-sig")
    monthly = client.get(f"/indicators/export/report?kind=monthly&period={YEAR}-03&format=csv"
                         ).get_data().decode("utf-8-sig")
    assert "SDIS" in yearly and "CTG" in yearly
    assert "SDIS" in monthly and "CTG" in monthly  # the national committee's month: all of it
    login_as(places["coord_ctg"])
    yearly = client.get(f"/indicators/export/report?kind=yearly&year={YEAR}&format=csv").get_data().decode("utf-8-sig")
    assert "SDIS" not in yearly and "CTG" in yearly


def test_admins_read_the_products_of_their_territory_only(app, client, factory, login_as, places):
    with app.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.code == "3.5"))
    login_as(factory.user("admin.ctg", roles=("admin",), entity="CTG"))
    page = client.get(f"/indicators/admin/products/{product_id}").get_data(as_text=True)
    assert "Territorio: Cartagena de Indias (Bolívar) · 13001" in page
    login_as(factory.user("admin.bog", roles=("admin",), entity="SDIS"))
    assert client.get(f"/indicators/admin/products/{product_id}").status_code == 404
    assert "3.5" not in client.get("/indicators/admin/products").get_data(as_text=True)


def test_the_demo_coordinators_each_see_their_citys_cases(app, runner):
    pytest.importorskip("faker")
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.test_request_context():
        seen = {}
        for username in ("coordinacion", "coordinacion.bog"):
            user = db.session.scalar(select(User).where(User.username == username))
            seen[username] = {r.values["entity"] for r in stats.cases_table(user, "entity").rows}
            seen[username + " policies"] = {p.code for p in ind.list_policies(user)}
    assert seen == {"coordinacion": {"CTG"}, "coordinacion policies": {"CTG-PPIG"},
                    "coordinacion.bog": {"BOG"}, "coordinacion.bog policies": {"BOG-PPLTP"}}
