"""Action-plan import (CLI and admin screen) with a plan whose figures are worked out by hand, checked through the
import, the API and the screens; re-import updates and never duplicates; errors are row by row, nothing written."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken
from caseapp.models.audit import AuditEvent
from caseapp.models.indicators import AchievedValue, Objective, Policy, Product, ProductTarget
from caseapp.services.indicators.plans import COLUMNS
from caseapp.timeutil import utcnow
from tests.conftest import csrf_token

HEADER = ",".join(COLUMNS)
# Hand-worked figures at 2023-12-31:
#   1.1 (weight 0.6): 12 + 6 of 10 + 10 -> cumulative 18/20 = 90 %, ideal 100 %, gap -10 %, green; 2023: 6/10 = 60 %
#   1.2 (weight 0.4): 1 of 4 + 4 (2023 not reported: counts 0) -> 1/8 = 12.5 %, red
#   objective 1 = 0.6 * 90 % + 0.4 * 12.5 % = 59 %;  objective 2: 2.1 = (40 + 50) / 100 = 90 %, green
#   policy = (59 % + 90 %) / 2 = 74.5 %, ideal 100 %, gap -25.5 %; lights: 2 green, 0 yellow, 1 red
PLAN = f"""{HEADER}
BOG-TEST,1,Proteger los derechos de las víctimas,1.1,Generación de ingresos,Número de personas atendidas,Desarrollo Económico,0.6,annual,2022,10,12,Informe SDP 2022
BOG-TEST,1,Proteger los derechos de las víctimas,1.1,Generación de ingresos,Número de personas atendidas,Desarrollo Económico,0.6,annual,2023,10,6,Informe SDP 2023
BOG-TEST,1,Proteger los derechos de las víctimas,1.2,Formación para el trabajo,Número de personas formadas,Integración Social,0.4,annual,2022,4,1,Informe SDP 2022
BOG-TEST,1,Proteger los derechos de las víctimas,1.2,Formación para el trabajo,Número de personas formadas,Integración Social,0.4,annual,2023,4,,
BOG-TEST,2,Oferta institucional articulada,2.1,Ruta de asistencia,Número de personas en la ruta,Gobierno,1,semiannual,2022-S1,50,40,Informe SDP 2022-1
BOG-TEST,2,Oferta institucional articulada,2.1,Ruta de asistencia,Número de personas en la ruta,Gobierno,1,semiannual,2022-S2,50,50,Informe SDP 2022-2
"""


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Policy, Objective, Product, ProductTarget, AchievedValue))


def _token(app, test_user) -> str:
    with app.app_context():
        token = crypto.new_token()
        db.session.add(ApiToken(user_id=test_user.id, token_hash=crypto.hash_token(token), created_at=utcnow()))
        db.session.commit()
        return token


def test_cli_import_then_api_and_screen_show_the_hand_worked_figures(app, runner, client, factory, login_as, tmp_path):
    factory.entity("SDG", "Secretaría Distrital de Gobierno", territory="11001")  # Bogotá's plan, read in Bogotá
    coord = factory.user("coord", roles=("coordinator",), entity="SDG")
    path = tmp_path / "plan.csv"
    path.write_text(PLAN, encoding="utf-8")
    result = runner.invoke(args=["plans", "import", str(path), "--territory", "11001"])
    assert result.exit_code == 0, result.output
    assert "Plan importado" in result.output
    with app.app_context():
        before = _counts()
        assert before == (2, 3, 4, 16, 5)  # 3.5 seeded + this plan; 10 + 6 targets; 5 values imported
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plans.import")).all()
        assert events and events[-1].actor == "cli"
    # re-import: nothing duplicated
    assert runner.invoke(args=["plans", "import", str(path)]).exit_code == 0
    with app.app_context():
        assert _counts() == before
    # a corrected figure updates the value in place
    path.write_text(PLAN.replace("0.4,annual,2023,4,,", "0.4,annual,2023,4,2,Informe tardío"), encoding="utf-8")
    assert runner.invoke(args=["plans", "import", str(path)]).exit_code == 0
    with app.app_context():
        assert _counts() == before[:4] + (6,)
    path.write_text(PLAN, encoding="utf-8")
    runner.invoke(args=["plans", "import", str(path)])  # back to the hand-worked plan (the value stays: never deleted)
    with app.app_context():
        value = db.session.scalar(select(AchievedValue).join(Product).where(Product.code == "1.2",
                                                                            AchievedValue.period == "2023"))
        db.session.delete(value)
        db.session.commit()

    headers = {"Authorization": f"Bearer {_token(app, coord)}"}
    r = client.get("/api/v1/products/1.1/progress?period=2023&policy=BOG-TEST", headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["achieved"], body["target"], body["progress"]) == (6.0, 10.0, 0.6)
    assert (body["cumulative"], body["ideal_trajectory"], body["gap"], body["traffic_light"]) == (0.9, 1.0, -0.1, "green")
    r = client.get("/api/v1/products/1.1/progress?period=2023", headers=headers)  # unique code: no policy needed
    assert r.status_code == 200
    summary = client.get("/api/v1/policies/BOG-TEST/summary?as_of=2023-12-31", headers=headers).get_json()
    assert (summary["progress"], summary["ideal_trajectory"], summary["gap"]) == (0.745, 1.0, -0.255)
    assert summary["traffic_lights"] == {"green": 2, "yellow": 0, "red": 1}
    assert [(o["code"], o["progress"]) for o in summary["objectives"]] == [("1", 0.59), ("2", 0.9)]
    assert {p["code"]: (p["progress"], p["traffic_light"]) for p in summary["products"]} == {
        "1.1": (0.9, "green"), "1.2": (0.125, "red"), "2.1": (0.9, "green")}
    # at the end of 2022: objective 1 = 0.6 * 12/20 + 0.4 * 1/8 = 41 %, ideal 50 %; policy (41 + 90) / 2 = 65.5 %
    earlier = client.get("/api/v1/policies/BOG-TEST/summary?as_of=2022-12-31", headers=headers).get_json()
    assert (earlier["progress"], earlier["ideal_trajectory"]) == (0.655, 0.75)

    login_as(coord)
    html = client.get("/indicators/policies/BOG-TEST?as_of=2023-12-31").get_data(as_text=True)
    assert "74,5 %" in html and "-25,5 %" in html and "12,5 %" in html and "59,0 %" in html
    assert "Gráfico 3" in html and "Anexo 1" in html and "Desarrollo Económico" in html
    html = client.get("/indicators/products/1.2?policy=BOG-TEST&year=2023").get_data(as_text=True)
    assert "12,5 %" in html and "Informe SDP 2022" in html


def test_errors_are_row_by_row_in_spanish_and_nothing_is_written(app, runner, tmp_path):
    bad = PLAN.replace("0.6,annual,2022,10,12", "abc,annual,2022,10,12").replace(
        "1,semiannual,2022-S1", "1,semiannual,2022-S3").replace(
        "0.4,annual,2023,4,,", "0.4,monthly,2023,4,,") + PLAN.splitlines()[1] + "\n"
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    with app.app_context():
        before = _counts()
    result = runner.invoke(args=["plans", "import", str(path)])
    assert result.exit_code != 0
    out = result.output
    assert "Fila 2: weight debe ser un número" in out
    assert "Fila 5: la periodicidad debe ser annual, semiannual o quarterly." in out
    assert "Fila 6: el periodo \"2022-S3\"" in out
    assert "Fila 8: el producto 1.1, periodo 2022, está repetido (fila 2)." in out
    assert "no se escribió nada" in out
    with app.app_context():
        assert _counts() == before
    missing = tmp_path / "missing.csv"
    missing.write_text("policy,objective\nX,1\n", encoding="utf-8")
    result = runner.invoke(args=["plans", "import", str(missing)])
    assert result.exit_code != 0 and "Faltan columnas" in result.output


def test_a_computed_product_takes_no_achieved_value(app, runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(f"{HEADER}\nCTG-PPIG,3,Objetivo,3.5,Programa,Mujeres vinculadas,Interior,1,annual,2025,100,7,Informe\n",
                    encoding="utf-8")
    result = runner.invoke(args=["plans", "import", str(path)])
    assert result.exit_code != 0 and "lo calcula el sistema" in result.output


def _xlsx(text: str) -> bytes:
    book = Workbook()
    sheet = book.active
    for line in text.strip().splitlines():
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() and "." in c else
                      (int(c) if c.isdigit() else c) for c in line.split(",")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_admin_previews_then_imports_an_xlsx_plan(app, client, factory, login_as):
    admin = factory.user("admin", roles=("admin",), entity="SDG")
    login_as(admin)
    token = csrf_token(client, "/indicators/admin/plans")
    r = client.post("/indicators/admin/plans", data={"csrf_token": token,
                                                     "file": (io.BytesIO(_xlsx(PLAN)), "plan.xlsx")},
                    content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Vista previa" in html and "Todavía no se ha escrito nada" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 1  # preview writes nothing
    import re

    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="payload" name="payload" type="hidden" value="([^"]+)"', html)
    assert payload
    from html import unescape

    data = {"csrf_token": token, "payload": unescape(payload.group(1)), "filename": "plan.xlsx"}
    r = client.post("/indicators/admin/plans/confirm", data=data, follow_redirects=True)
    assert "Plan importado" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 4
    # double submit: the same plan again changes nothing
    client.post("/indicators/admin/plans/confirm", data=data, follow_redirects=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 4
    # forged CSRF: refused, nothing written
    r = client.post("/indicators/admin/plans/confirm", data={**data, "csrf_token": "forged"})
    assert r.status_code in (400, 403)


def test_bad_file_on_the_screen_lists_row_errors(app, client, factory, login_as):
    admin = factory.user("admin", roles=("admin",), entity="SDG")
    login_as(admin)
    token = csrf_token(client, "/indicators/admin/plans")
    bad = PLAN.replace("0.6,annual,2022,10,12", "0.6,annual,2022,diez,12")
    r = client.post("/indicators/admin/plans", data={"csrf_token": token,
                                                     "file": (io.BytesIO(bad.encode()), "plan.csv")},
                    content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert "Fila 2: target debe ser un número" in html and "Importar el plan" not in html
    r = client.post("/indicators/admin/plans", data={"csrf_token": token,
                                                     "file": (io.BytesIO(b"\x00\x01"), "plan.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "CSV o XLSX" in r.get_data(as_text=True)


def test_only_admins_import_plans(app, client, factory, login_as):
    coord = factory.user("coord", roles=("coordinator",), entity="SDG")
    login_as(coord)
    assert client.get("/indicators/admin/plans").status_code == 403
    assert client.get("/indicators/admin/suppression").status_code == 403


def test_demo_plan_loads_and_reloads_without_duplicates(app):
    from caseapp.demo import indicators as demo

    messages = []
    with app.app_context():
        demo.load(messages.append)
        first = _counts()
        demo.load(messages.append)
        assert _counts() == first and first[0] == 2
    assert len(messages) == 2
