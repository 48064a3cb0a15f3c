"""A product's formula parameters (population, kind of step, provider entity) on every path that writes them - the
admin's product sheet, `flask plans import` and the plan import screen - each through the registry's one check,
with its refusals in Spanish and nothing written; the product's API sheet shows them."""
from __future__ import annotations

import io
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.indicators import Product
from caseapp.models.route import AssistanceStep, StepKind
from caseapp.services import indicators as ind
from caseapp.services.indicators.plans import COLUMNS
from tests.cases_factory import make_case
from tests.conftest import csrf_token

HEADER = ",".join(COLUMNS) + ",formula,population,step_kind,provider_entity"
ROW = "CTG-PPIG,4,Autonomía económica,{code},Producto {code},{indicator},Desarrollo,1,annual,{year},{target},,,{rest}"


def plan(*rows: tuple[str, str, str, str]) -> str:
    """A plan of Cartagena's policy with the formula columns: (product, indicator, year, formula columns)."""
    lines = [HEADER] + [ROW.format(code=c, indicator=i, year=y, target=10, rest=rest) for c, i, y, rest in rows]
    return "\n".join(lines) + "\n"


GOOD = plan(
    ("4.1", "Número de mujeres con generación de ingresos", "2025", "victims_with_step,women,income_generation,"),
    ("4.1", "Número de mujeres con generación de ingresos", "2026", "victims_with_step,women,income_generation,"),
    ("4.2", "Porcentaje de víctimas identificadas atendidas", "2025", "coverage,,,"),
    ("4.3", "Número de víctimas atendidas por SENA", "2025", "victims_attended_by_provider,,,SENA"),
    ("4.4", "Número de campañas", "2025", ",,,"),  # no formula: entered by hand, as before
)


@pytest.fixture
def people(app, factory):
    factory.entity("SENA", territory="13001")
    return {"sw": factory.user("sw", roles=("social_worker",), entity="CTG"),
            "admin": factory.user("admin", roles=("admin",), entity="CTG")}


def _product(code: str) -> Product:
    return db.session.scalar(select(Product).where(Product.code == code))


def _products() -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def test_cli_import_sets_formulas_and_parameters_and_they_count(app, runner, people, tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["plans", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        assert ind.params_of(_product("4.1")) == {"population": "women", "step_kind": "income_generation"}
        assert _product("4.1").formula == "victims_with_step"
        coverage = _product("4.2")
        assert (coverage.formula, coverage.unit, coverage.accumulation) == ("coverage", "percent", "latest")
        assert ind.params_of(_product("4.3")) == {"population": "all", "provider_entity": "SENA"}
        assert _product("4.4").formula == "manual"
        # a woman with income generation done in 2025, and a man: 4.1 counts her alone
        kind = db.session.scalar(select(StepKind).where(StepKind.code == "income_generation"))
        for i, sex in enumerate(("female", "male")):
            case = make_case(people["sw"].id, document_number=f"9{i}", sex=sex)
            from caseapp.models.cases import Case

            db.session.add(AssistanceStep(case=db.session.scalar(select(Case).where(Case.code == case)),
                                          phase="mediate", kind=kind, status="done", done_on=date(2025, 5, 1)))
        db.session.commit()
        assert ind.compute(_product("4.1"), date(2025, 1, 1), date(2025, 12, 31)) == 1
    # re-importing the plan without the formula columns keeps the formulas (old plan files keep working)
    old = "\n".join([",".join(COLUMNS)] + [line.rsplit(",", 4)[0] for line in GOOD.splitlines()[1:]]) + "\n"
    path.write_text(old, encoding="utf-8")
    assert runner.invoke(args=["plans", "import", str(path)]).exit_code == 0
    with app.app_context():
        assert _product("4.1").formula == "victims_with_step" and _product("4.1").formula_population == "women"


@pytest.mark.parametrize(("rows", "message"), [
    ((("4.1", "X", "2025", "victims_with_step,,cosmetologia,"),),
     'Fila 2: No hay ningún tipo de acción de asistencia con el código "cosmetologia".'),
    ((("4.1", "X", "2025", "victims_attended_by_provider,,,NOEXISTE"),),
     'Fila 2: No hay ninguna entidad con el código "NOEXISTE".'),
    ((("4.1", "X", "2025", "victims_with_step,,,"),), "Fila 2: La fórmula «Víctimas con una acción de un tipo dado "
                                                      "realizada» necesita el tipo de acción que cuenta."),
    ((("4.1", "X", "2025", ",women,,"),), "Fila 2: indique la fórmula a la que corresponden"),
    ((("4.1", "X", "2025", "=cmd(),,,"),), 'Fila 2: no existe la fórmula "=cmd()"'),
    ((("4.1", "X", "2025", "coverage,marcianos,,"),), "Fila 2: Elija una población de la lista."),
    ((("4.1", "X", "2025", "victims_with_step,women,job_training,"),
      ("4.1", "X", "2026", "victims_with_step,women,income_generation,")),
     "Fila 3: el producto 4.1 tiene una fórmula o unos parámetros de fórmula distintos"),
])
def test_bad_formula_columns_are_refused_row_by_row_and_nothing_is_written(app, runner, people, tmp_path, rows,
                                                                           message):
    path = tmp_path / "bad.csv"
    path.write_text(plan(*rows), encoding="utf-8")
    with app.app_context():
        before = _products()
    result = runner.invoke(args=["plans", "import", str(path)])
    assert result.exit_code != 0 and message in result.output, result.output
    with app.app_context():
        assert _products() == before


def test_a_product_the_plan_makes_computed_takes_no_achieved_value(app, runner, people, tmp_path):
    text = plan(("4.1", "X", "2025", "victims_with_step,,job_training,")).replace(",10,,,victims", ",10,3,Informe,victims")
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["plans", "import", str(path)])
    assert result.exit_code != 0 and "lo calcula el sistema" in result.output, result.output


def test_the_import_screen_keeps_the_formula_columns_from_preview_to_import(app, client, people, login_as):
    login_as(people["admin"])
    page = client.get("/indicators/admin/plans").get_data(as_text=True)
    assert "Columnas opcionales" in page and "<code>victims_with_step</code>" in page
    assert "<code>income_generation</code>: Generación de ingresos" in page
    token = csrf_token(client, "/indicators/admin/plans")
    r = client.post("/indicators/admin/plans", data={"csrf_token": token,
                                                     "file": (io.BytesIO(GOOD.encode("utf-8-sig")), "plan.csv")},
                    content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="payload" name="payload" type="hidden" value="([^"]+)"', html)
    assert payload, html
    r = client.post("/indicators/admin/plans/confirm", data={"csrf_token": token, "filename": "plan.csv",
                                                            "payload": unescape(payload.group(1))},
                    follow_redirects=True)
    assert "Plan importado" in r.get_data(as_text=True)
    with app.app_context():
        assert ind.params_of(_product("4.3")) == {"population": "all", "provider_entity": "SENA"}


def test_the_admin_sets_the_parameters_on_the_product_sheet(app, client, people, login_as):
    with app.app_context():
        product_id, version = db.session.execute(select(Product.id, Product.version)
                                                 .where(Product.code == "3.5")).one()
    login_as(people["admin"])
    url = f"/indicators/admin/products/{product_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Qué cuenta la fórmula" in page and "Formación para el trabajo" in page
    token = csrf_token(client, url)
    form = {"csrf_token": token, "name": "Programa", "indicator": "Número de mujeres con formación",
            "formula": "victims_with_step", "weight": "1", "version": version, "population": "migrants",
            "step_kind": "job_training", "provider_entity": "SENA"}
    r = client.post(url, data=form, follow_redirects=True)
    assert "Producto guardado." in r.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<option selected value="job_training">|<option value="job_training" selected', page)
    assert 'value="SENA"' in page
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert ind.params_of(product) == {"population": "migrants", "step_kind": "job_training",
                                          "provider_entity": "SENA"}
        version = product.version
    # refusals, in Spanish, on the field; nothing saved
    for bad, message in (({"step_kind": "cosmetologia"}, "No hay ningún tipo de acción de asistencia"),
                         ({"provider_entity": "NOEXISTE"}, "No hay ninguna entidad con el código"),
                         ({"formula": "women_linked"}, "no cuenta por tipo de acción")):
        r = client.post(url, data={**form, "version": version, **bad})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and message in unescape(html) and 'aria-invalid="true"' in html, bad
    with app.app_context():
        assert db.session.get(Product, product_id).formula == "victims_with_step"


def test_the_api_product_sheet_shows_the_parameters(app, client, people, factory):
    from tests.api.test_cases_api import token_for

    coord = factory.user("coord", roles=("coordinator",), entity="CTG")
    with app.test_request_context():
        product = _product("3.5")
        values, _errors = ind.check_params("victims_with_step", "women", "job_training", "")
        product.formula = "victims_with_step"
        for key, value in values.items():
            setattr(product, key, value)
        db.session.commit()
    r = client.get("/api/v1/products", headers=token_for(app, coord))
    assert r.status_code == 200, r.get_data(as_text=True)
    sheet = next(p for p in r.get_json()["products"] if p["code"] == "3.5")
    assert sheet["formula_params"] == {"population": "women", "step_kind": "job_training"}
