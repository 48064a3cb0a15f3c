"""A case's places, coarse and never an address, and the HTCDS methods of control and recruitment: the same rules
on every path that records a case (the registration form, POST /api/v1/cases, the edit form, PATCH)."""
from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

import config
from caseapp import create_app, labels
from caseapp.extensions import db
from caseapp.models.cases import CONTROL_METHODS, CONTROL_METHODS_FORMER, RECRUITMENT_METHODS, Case
from tests.api.test_cases_api import BODY, token_for
from tests.cases_factory import make_case
from tests.web.test_cases_web import registration

PLACES = {"identification_municipality": "13001", "recruitment_municipality": "05001",
          "exploitation_municipality": "", "destination_country": "ES", "recruitment_method": "job_offer"}
EXTERNAL = {**PLACES, "trafficking_scope": "external"}
PATHS = ("web", "api")


@pytest.fixture
def sw(factory):
    return factory.user("trabajadora", roles=("social_worker",), entity="CTG")


@pytest.fixture
def api(app, sw):
    return token_for(app, sw)


def n_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def register(path, client, api, **fields):
    """Register through `path`: (the case code or None, the text a user reads back)."""
    if path == "web":
        response = client.post("/cases/new", data=registration(client, **fields))
        if response.status_code == 302:
            return response.headers["Location"].rsplit("/", 1)[1], ""
        return None, response.get_data(as_text=True)
    body = {**BODY, **{k: v for k, v in fields.items() if v != ""}}
    response = client.post("/api/v1/cases", json=body, headers=api)
    if response.status_code == 201:
        return response.json["code"], ""
    assert response.status_code == 422, response.json
    return None, str(response.json)


@pytest.fixture
def web(client, login_as, sw):
    login_as(sw)
    return client


@pytest.mark.parametrize("path", PATHS)
def test_places_are_recorded_shown_and_returned(app, web, api, path):
    code, page = register(path, web, api, **EXTERNAL)
    assert code, page
    data = web.get(f"/api/v1/cases/{code}", headers=api).json
    assert {k: data[k] for k in PLACES} == {**PLACES, "exploitation_municipality": None}
    html = web.get(f"/cases/{code}").get_data(as_text=True)
    assert "Cartagena de Indias (Bolívar) · 13001" in html and "Medellín (Antioquia) · 05001" in html
    assert "España" in html and "Oferta de trabajo" in html


ADDRESS = "Calle 10 # 5-20, barrio Olaya"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fields,field,message", [
    # An address, a neighbourhood or a bar's name is refused wherever a place goes: only codes are stored.
    ({"exploitation_municipality": ADDRESS}, "exploitation_municipality", "Municipio desconocido"),
    ({"recruitment_municipality": "Bar La Estrella"}, "recruitment_municipality", "Municipio desconocido"),
    ({"identification_municipality": "13"}, "identification_municipality", "Municipio desconocido"),
    ({"identification_municipality": "00001"}, "identification_municipality", "Municipio desconocido"),
    ({"identification_municipality": "13000"}, "identification_municipality", "Municipio desconocido"),
    # (the form offers a list of countries: a value not in it is refused there before the service sees it)
    ({**EXTERNAL, "destination_country": "España, Madrid"}, "destination_country", ("ISO 3166", "Elija una")),
    ({**EXTERNAL, "destination_country": "ZZ"}, "destination_country", ("ISO 3166", "Elija una")),
    ({"recruitment_method": "por un bus en la calle 5"}, "recruitment_method", None),
    ({"trafficking_scope": "internal", "destination_country": "ES"}, "destination_country", "solo a la trata externa"),
    ({"trafficking_scope": "external"}, "destination_country", "elija el país de destino"),
])
def test_hostile_places_are_refused_and_nothing_is_written(app, web, api, path, fields, field, message):
    code, page = register(path, web, api, **fields)
    assert code is None and n_cases(app) == 0
    assert field in page
    if message:
        assert any(m in page for m in ((message,) if isinstance(message, str) else message))


def _edit(path, client, api, code, **fields):
    if path == "api":
        version = client.get(f"/api/v1/cases/{code}", headers=api).json["version"]
        response = client.patch(f"/api/v1/cases/{code}", json={"version": version, **fields}, headers=api)
        return response.status_code in (200, 201), str(response.json)
    page = client.get(f"/cases/{code}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {k: v for k, v in registration(client).items() if k not in (
        "form_token", "screening_acts", "screening_means", "screening_purpose", "consent_assistance",
        "consent_data_processing", "consent_method", "declined_reasons", "representative")}
    form.update(EXTERNAL)
    form.update(fields)
    response = client.post(f"/cases/{code}/edit", data={**form, "csrf_token": token, "version": version})
    return response.status_code == 302, response.get_data(as_text=True)


@pytest.mark.parametrize("path", PATHS)
def test_edit_path_keeps_the_same_rules(app, web, api, path):
    code, page = register("api", web, api, **EXTERNAL)
    assert code, page
    ok, page = _edit(path, web, api, code, trafficking_scope="internal")
    assert not ok and "solo a la trata externa" in page  # the destination stays: refused, nothing saved
    ok, page = _edit(path, web, api, code, exploitation_municipality=ADDRESS)
    assert not ok and "Municipio desconocido" in page
    ok, page = _edit(path, web, api, code, trafficking_scope="internal", destination_country="",
                     exploitation_municipality="13430")
    assert ok, page[:2000]
    data = web.get(f"/api/v1/cases/{code}", headers=api).json
    assert data["trafficking_scope"] == "internal" and data["destination_country"] is None
    assert data["exploitation_municipality"] == "13430" and data["identification_municipality"] == "13001"


# --- HTCDS alignment ---------------------------------------------------------------------------------------


def test_control_methods_are_the_htcds_list_with_one_mapping_of_the_former_codes():
    assert "restricts_financial_access" in CONTROL_METHODS and "uses_children" in CONTROL_METHODS
    assert "withholds_necessities" in CONTROL_METHODS and len(CONTROL_METHODS) == 17
    assert not set(CONTROL_METHODS_FORMER) & set(CONTROL_METHODS)
    assert set(CONTROL_METHODS_FORMER.values()) <= set(CONTROL_METHODS)
    assert set(labels.LABELS["control_method_former"]) == set(CONTROL_METHODS_FORMER)
    for group, codes in (("control_method", CONTROL_METHODS), ("recruitment_method", RECRUITMENT_METHODS)):
        assert set(labels.LABELS[group]) == set(codes)


@pytest.mark.parametrize("path", ["api"])  # the form offers the HTCDS codes only
def test_a_former_control_code_is_stored_as_its_htcds_code(app, web, api, path):
    code, page = register(path, web, api, control_methods=["isolation", "threats_to_family", "threats"])
    assert code, page
    data = web.get(f"/api/v1/cases/{code}", headers=api).json
    assert data["control_methods"] == ["restricts_movement", "threats"]


def test_the_migration_rewrites_stored_former_codes(empty_database_url, instance_path):
    from caseapp.models.accounts import Entity, User

    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.test_request_context():
        upgrade()
        entity = Entity(code="SDIS", name="Entidad SDIS", kind="government")
        user = User(username="ana", display_name="Ana", entity=entity, active=True)
        user.set_roles(("social_worker",))
        db.session.add_all([entity, user])
        db.session.flush()
        code = make_case(user.id)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0018")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE cases SET control_methods = 'isolation,threats,threats_to_family,debt_bondage'"))
        upgrade()
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT control_methods FROM cases WHERE code = :c"), {"c": code}).scalar()
        assert stored == "restricts_movement,threats,debt_bondage"
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE cases SET control_methods = 'uses_children,threats', "
                              "destination_country = 'ES'"))
        downgrade(revision="0018")
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT control_methods FROM cases WHERE code = :c"), {"c": code}).scalar()
        assert stored == "other,threats"
        db.session.remove()
        db.engine.dispose()
