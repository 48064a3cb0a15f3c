"""The route screens in the browser's terms: Spanish pages, forms with CSRF, errors tied to fields, 404 for others."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.cases import Case
from tests.cases_factory import make_case
from tests.conftest import csrf_token


@pytest.fixture
def sw(factory):
    return factory.user("trabajadora", roles=("social_worker",), entity="SDIS")


def _code(app, owner_id, **kw):
    with app.test_request_context():
        return make_case(owner_id, **kw)


def _form(token, prefix, **fields):
    """Form data as the browser sends it: prefixed fields plus the form's own (prefixed) CSRF token."""
    data = {"csrf_token": token, f"{prefix}-csrf_token": token}
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    return data


def _case(app, code):
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        return case.status, case.version, case.intake_on


def test_route_page_in_spanish_and_log_a_step(app, client, sw, login_as):
    code = _code(app, sw.id, identified_on=date(2025, 3, 10))
    login_as(sw)
    r = client.get(f"/route/cases/{code}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Ruta de asistencia" in html and "Registrar un paso" in html and "Mariana" not in html
    token = csrf_token(client, f"/route/cases/{code}")
    r = client.post(f"/route/cases/{code}/steps", data=_form(token, "step", kind="reception", status="done",
                                                              done_on="2025-03-11", notes="Llega con su hija"))
    assert r.status_code == 302
    status, version, intake = _case(app, code)
    assert status == "in_immediate_assistance" and intake == date(2025, 3, 11)
    page = client.get(f"/route/cases/{code}").get_data(as_text=True)
    assert "Recepción" in page and "Llega con su hija" in page and "16/03/2025" in page


def test_bad_input_is_tied_to_the_field_and_nothing_written(app, client, sw, login_as):
    code = _code(app, sw.id)
    login_as(sw)
    token = csrf_token(client, f"/route/cases/{code}")
    r = client.post(f"/route/cases/{code}/steps", data=_form(token, "step", kind="reception", status="done",
                                                              done_on="2999-01-01"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "La fecha no puede ser futura." in html and 'id="step-done_on-error"' in html
    assert _case(app, code)[0] == "identified"


def test_forged_csrf_is_refused(app, client, sw, login_as):
    code = _code(app, sw.id)
    login_as(sw)
    r = client.post(f"/route/cases/{code}/steps", data={"csrf_token": "forged", "step-kind": "reception",
                                                         "step-status": "done", "step-done_on": "2025-03-11"})
    assert r.status_code == 400
    assert _case(app, code)[0] == "identified"


def test_stale_version_is_refused(app, client, sw, login_as):
    code = _code(app, sw.id, identified_on=date(2025, 3, 10))
    login_as(sw)
    token = csrf_token(client, f"/route/cases/{code}")
    client.post(f"/route/cases/{code}/steps", data=_form(token, "step", kind="reception", status="done",
                                                         done_on="2025-03-11"))
    _s, version, _i = _case(app, code)
    data = _form(token, "imm", closed_on="2025-03-14", complaint_on="2025-03-12", acta_on="2025-03-14",
                 version=str(version - 1))
    r = client.post(f"/route/cases/{code}/immediate/close", data=data)
    assert r.status_code == 409 and "no se guardó nada" in r.get_data(as_text=True)
    data["imm-version"] = str(version)
    assert client.post(f"/route/cases/{code}/immediate/close", data=data).status_code == 302
    assert _case(app, code)[0] == "in_mediate_assistance"
    # double submit of the same form: the second is stale
    assert client.post(f"/route/cases/{code}/immediate/close", data=data).status_code == 409


def test_other_entity_gets_404(app, client, sw, factory, login_as):
    other = factory.user("otra", roles=("social_worker",), entity="OIM")
    code = _code(app, sw.id)
    login_as(other)
    assert client.get(f"/route/cases/{code}").status_code == 404
    token = csrf_token(client, "/route/agenda")
    r = client.post(f"/route/cases/{code}/steps", data=_form(token, "step", kind="reception", status="done",
                                                              done_on="2025-03-11"))
    assert r.status_code == 404


def test_coordinator_cannot_open_the_route(app, client, sw, factory, login_as):
    coord = factory.user("coord", roles=("coordinator",), entity="SDIS")
    code = _code(app, sw.id)
    login_as(coord)
    r = client.get(f"/route/cases/{code}")
    assert r.status_code in (403, 404) and "Mariana" not in r.get_data(as_text=True)
    assert client.get("/route/agenda").status_code == 403


def test_agenda_shelters_and_monthly_list(app, client, sw, factory, login_as):
    admin = factory.user("admin", roles=("admin",), entity="SDIS")
    code = _code(app, sw.id, identified_on=date(2025, 3, 10))
    login_as(admin)
    token = csrf_token(client, "/route/admin")
    r = client.post("/route/admin/shelters", data=_form(token, "shelter", code="CASA-1", name="Casa Violeta",
                                                        city="Cartagena", operator_entity="SDIS", capacity="3"))
    assert r.status_code == 302
    login_as(sw)
    page = client.get("/route/shelters").get_data(as_text=True)
    assert "Casa Violeta" in page and "Camas libres" in page
    assert client.get("/route/agenda").status_code == 200
    r = client.get("/route/monthly-list?month=2025-03")
    assert r.status_code == 200 and code in r.get_data(as_text=True)
    r = client.get("/route/monthly-list?month=2025-03&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and code in r.get_data(as_text=True)
    assert "Mariana" not in r.get_data(as_text=True)
    r = client.get("/route/monthly-list?month=2025-03&format=xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    assert client.get("/route/monthly-list?month=marzo").status_code == 422


def test_admin_records_a_new_rule(app, client, factory, login_as):
    admin = factory.user("admin", roles=("admin",), entity="SDIS")
    login_as(admin)
    token = csrf_token(client, "/route/admin")
    base = _form(token, "rule", immediate_days="8", immediate_extension_days="4", mediate_months="6",
                 mediate_extension_months="3", legal_source="Reforma de la Ley 985 (2026)")
    r = client.post("/route/admin/rules", data={**base, "rule-effective_from": "2010-01-01"})
    assert r.status_code == 422 and "después de la vigente" in r.get_data(as_text=True)
    r = client.post("/route/admin/rules", data={**base, "rule-effective_from": "2026-07-01"})
    assert r.status_code == 302
    page = client.get("/route/admin").get_data(as_text=True)
    assert "Reforma de la Ley 985 (2026)" in page
    assert "30/06/2026" in page  # the seeded rule now ends the day before


def test_the_monthly_list_shows_a_page_at_a_time_and_the_files_carry_the_whole_month(app, client, sw, factory,
                                                                                       login_as, monkeypatch):
    """An entity's month can be 20,000 cases: the screen shows them a page at a time, in the order of their codes
    (a page past the last, or no number, shows a real page); the CSV and the API carry every one."""
    import importlib

    monkeypatch.setattr(importlib.import_module("caseapp.services.followup.table_list"), "TABLE_PAGE", 2)
    codes = sorted(_code(app, sw.id, identified_on=date(2025, 3, 10), document_number=f"81000{i}") for i in range(5))
    login_as(factory.user("lina", roles=("lawyer",), entity="SDIS"))

    def shown(query=""):
        page = client.get(f"/route/monthly-list?month=2025-03{query}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        return [c for c in codes if c in html], html

    first, html = shown()
    assert first == codes[:2] and "Casos 1 a 2 de 5" in html and 'rel="next"' in html and 'rel="prev"' not in html
    assert shown("&page=2")[0] == codes[2:4]
    last, html = shown("&page=3")
    assert last == codes[4:] and "Casos 5 a 5 de 5" in html and 'rel="next"' not in html
    assert shown("&page=99")[0] == codes[4:]  # past the last: the last
    assert shown("&page=uno")[0] == codes[:2]
    csv = client.get("/route/monthly-list?month=2025-03&format=csv").get_data(as_text=True)
    assert all(c in csv for c in codes)
