"""Case registry screens through the test client: registration, search, need-to-know, CSRF, stale edits,
double submit and malformed input. Identity never travels in a URL and never reaches a user who may not see it."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, ErasureRequest
from caseapp.models.catalogues import ExploitationPurpose
from tests.conftest import csrf_token

NAME = ("Yuliana Andrea", "Restrepo Mosquera")
DOC = "1045789321"
PHONE = "3104567788"


@pytest.fixture
def sw(factory):
    return factory.user("trabajadora", roles=("social_worker",), entity="CTG")


@pytest.fixture
def sw_other(factory):
    return factory.user("otra", roles=("social_worker",), entity="BOG")


def form_token(html: str) -> str:
    match = re.search(r'name="form_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="form_token"', html)
    assert match, "no one-time token on the registration form"
    return match.group(1)


def registration(client, **overrides):
    """The fields of the registration form, as a browser would send them (with CSRF and one-time token)."""
    html = client.get("/cases/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "csrf_token": token, "form_token": form_token(html),
        "given_names": NAME[0], "family_names": NAME[1], "document_type": "CC", "document_number": DOC,
        "birth_date": "1996-05-14", "phone": PHONE, "address": "Barrio Olaya Herrera, Cartagena",
        "contact_person": "", "narrative": "", "sex": "female", "gender_identity": "woman", "age_group": "unknown",
        "nationality": "CO", "ethnic_group": "unknown", "disability": "unknown", "lgbtiq": "unknown",
        "migrant_status": "national", "identified_on": "2025-03-10", "identification_source": "coat",
        "exploitation_purposes": ["sexual_exploitation"], "trafficking_scope": "internal",
        "control_methods": ["debt_bondage", "withholds_documents"], "victim_status": "victim",
        "screening_acts": ["recruitment", "transport"], "screening_means": ["deception"], "screening_purpose": "y",
        "consent_assistance": "yes", "consent_data_processing": "yes", "consent_method": "written",
        "declined_reasons": "", "representative": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register(client, **overrides):
    return client.post("/cases/new", data=registration(client, **overrides))


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def code_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/cases/([A-Z]+-\d{4}-\d{5})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def assert_no_identity_in_urls(html: str, *values: str) -> None:
    for url in re.findall(r'(?:href|action|src)="([^"]*)"', html):
        for value in values:
            assert value.lower() not in url.lower()


# --- registration ------------------------------------------------------------------------------------------


def test_register_with_consent_and_see_her_case(app, client, login_as, sw):
    login_as(sw)
    page = client.get("/cases/new").get_data(as_text=True)
    assert "Registrar un caso" in page
    assert "Dato sensible" in page and "ningún servicio depende" in page.lower()
    response = register(client)
    code = code_of(response)
    assert code.startswith("CTG-2025-")
    assert NAME[0] not in response.headers["Location"] and DOC not in response.headers["Location"]
    detail = client.get(f"/cases/{code}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert f"{NAME[0]} {NAME[1]}" in html and DOC in html
    assert "Asistencia" in html and "Escrito, firmado" in html
    assert f'href="/route/cases/{code}"' in html
    assert "Remisión obligatoria al ICBF" not in html
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert {c.kind for c in case.consents} == {"assistance", "data_processing"}
        assert case.linked_on == date(2025, 3, 10)
        assert case.screening is not None
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "case.view", AuditEvent.object_ref == code)) == 1


def test_declined_assistance_is_registered_with_her_reasons(app, client, login_as, sw):
    login_as(sw)
    code = code_of(register(client, consent_assistance="no", consent_data_processing="yes",
                            declined_reasons="Tiene miedo de represalias"))
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "Rechazó la asistencia" in html and "Tiene miedo de represalias" in html
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert case.declined_assistance and case.linked_on is None


def test_child_case_is_flagged_for_icbf_and_needs_no_means(app, client, login_as, sw):
    login_as(sw)
    response = register(client, birth_date="2010-02-01", document_type="TI", screening_means=[],
                        consent_method="legal_representative", representative="Defensora de familia ICBF Cartagena")
    code = code_of(response)
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "la remisión al ICBF es obligatoria" in html
    assert "No se exige para niñas, niños y adolescentes" in html


def test_child_case_without_representative_is_refused(app, client, login_as, sw):
    login_as(sw)
    response = register(client, birth_date="2010-02-01", document_type="TI", screening_means=[])
    assert response.status_code == 422
    assert "representante" in response.get_data(as_text=True)
    assert case_count(app) == 0


# --- search and list ---------------------------------------------------------------------------------------


def test_search_by_document_is_a_post_and_finds_her(app, client, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    assert client.get("/cases/search").status_code == 302  # a search is never a GET
    token = csrf_token(client, "/cases/")
    response = client.post("/cases/search", data={"csrf_token": token, "document_type": "CC",
                                                  "document_number": DOC})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert code in html and NAME[1] in html
    assert_no_identity_in_urls(html, DOC, NAME[0], NAME[1], PHONE)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.search"))
        assert json.loads(event.detail)["by"] == "document" and DOC not in event.detail and NAME[1] not in event.detail


@pytest.mark.parametrize("criteria", [
    {"name": f"{NAME[0].upper()} {NAME[1]}"}, {"phone": "310 456 7788"}, {"code": None},
])
def test_search_by_name_phone_or_code(client, login_as, sw, criteria):
    login_as(sw)
    code = code_of(register(client))
    criteria = {k: (v or code.lower()) for k, v in criteria.items()}
    response = client.post("/cases/search", data={"csrf_token": csrf_token(client, "/cases/"), **criteria})
    assert response.status_code == 200 and code in response.get_data(as_text=True)


def test_search_needs_exactly_one_way(client, login_as, sw):
    login_as(sw)
    token = csrf_token(client, "/cases/")
    empty = client.post("/cases/search", data={"csrf_token": token})
    assert empty.status_code == 422 and "una forma de buscar" in empty.get_data(as_text=True)
    both = client.post("/cases/search", data={"csrf_token": token, "name": "Ana", "phone": "3001234567"})
    assert both.status_code == 422
    no_type = client.post("/cases/search", data={"csrf_token": token, "document_number": DOC})
    assert no_type.status_code == 422 and "tipo de documento" in no_type.get_data(as_text=True)


def test_list_pages_with_an_opaque_cursor_and_filters_by_status(app, client, login_as, sw):
    from tests.cases_factory import make_case

    with app.app_context():
        for i in range(53):
            make_case(sw.id, document_number=f"7000{i:04d}", phone=f"30000{i:05d}", given_names=f"Persona{i}")
    login_as(sw)
    first = client.get("/cases/")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    codes_1 = set(re.findall(r">(CTG-2025-\d{5})<", html))
    assert len(codes_1) == 50
    next_url = re.search(r'href="([^"]*cursor=[^"]*)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    assert re.fullmatch(r"/cases/\?cursor=\d+", next_url)
    second = client.get(next_url).get_data(as_text=True)
    codes_2 = set(re.findall(r">(CTG-2025-\d{5})<", second))
    assert len(codes_2) == 3 and not codes_1 & codes_2
    assert 'rel="next"' not in second
    closed = client.get("/cases/?status=closed").get_data(as_text=True)
    assert not re.findall(r">(CTG-2025-\d{5})<", closed)
    bogus = client.get("/cases/?cursor=abc&status=nope")
    assert bogus.status_code == 200


# --- need to know ------------------------------------------------------------------------------------------


def test_other_entity_case_is_not_found_by_code_or_search(client, login_as, sw, sw_other, app):
    c1 = login_as(sw)
    code = code_of(register(c1))
    other = app.test_client()
    login_as(sw_other, other)
    for url in (f"/cases/{code}", f"/cases/{code}/edit"):
        response = other.get(url)
        assert response.status_code == 404
        assert NAME[0] not in response.get_data(as_text=True)
    found = other.post("/cases/search", data={"csrf_token": csrf_token(other, "/cases/"), "document_type": "CC",
                                              "document_number": DOC})
    assert code not in found.get_data(as_text=True) and "Ningún caso" in found.get_data(as_text=True)
    by_code = other.post("/cases/search", data={"csrf_token": csrf_token(other, "/cases/"), "code": code})
    assert "Ningún caso" in by_code.get_data(as_text=True) and f'href="/cases/{code}"' not in by_code.get_data(as_text=True)
    token = csrf_token(other, "/cases/")
    assert other.post(f"/cases/{code}/status", data={"csrf_token": token, "status": "closed", "version": "1",
                                                     "reason": "other"}).status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "auditor", "admin"])
def test_coordinator_auditor_and_admin_never_see_the_registry(app, client, factory, login_as, sw, role):
    c1 = login_as(sw)
    code = code_of(register(c1))
    other = app.test_client()
    login_as(factory.user(f"u_{role}", roles=(role,), entity="CTG"), other)
    for url in ("/cases/", "/cases/new", f"/cases/{code}", f"/cases/{code}/edit"):
        response = other.get(url)
        assert response.status_code in (403, 404), url
        html = response.get_data(as_text=True)
        assert NAME[0] not in html and DOC not in html
    token = csrf_token(other, "/")
    response = other.post("/cases/search", data={"csrf_token": token, "name": " ".join(NAME)})
    assert response.status_code == 403 and NAME[0] not in response.get_data(as_text=True)


def test_lawyer_reads_but_cannot_edit(app, client, factory, login_as, sw):
    c1 = login_as(sw)
    code = code_of(register(c1))
    other = app.test_client()
    login_as(factory.user("abogada", roles=("lawyer",), entity="CTG"), other)
    assert NAME[0] in other.get(f"/cases/{code}").get_data(as_text=True)
    assert other.get(f"/cases/{code}/edit").status_code == 403
    assert other.get("/cases/new").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/cases/CTG-2025-00001")
    assert response.status_code in (302, 401)


# --- CSRF, double submit, stale edits, malformed input ----------------------------------------------------


def test_forged_csrf_is_refused_and_nothing_written(app, client, login_as, sw):
    login_as(sw)
    data = registration(client, csrf_token="forged-token")
    response = client.post("/cases/new", data=data)
    assert response.status_code == 400
    del data["csrf_token"]
    assert client.post("/cases/new", data=data).status_code == 400
    assert case_count(app) == 0


def test_double_submit_creates_one_case(app, client, login_as, sw):
    login_as(sw)
    data = registration(client)
    first = client.post("/cases/new", data=data)
    code = code_of(first)
    again = client.post("/cases/new", data=data)
    assert code_of(again) == code
    assert case_count(app) == 1
    assert "ya se había enviado" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_same_victim_again_shows_who_to_contact_and_keeps_the_form(app, client, login_as, sw, sw_other):
    login_as(sw)
    code_of(register(client))
    other = app.test_client()
    login_as(sw_other, other)
    response = register(other, narrative="Relato escrito con cuidado")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Puede que ya exista un caso" in html and "Entidad CTG" in html
    assert "Relato escrito con cuidado" in html and DOC in html  # nothing lost
    assert "CTG-2025-" not in html  # no case code from another entity
    assert case_count(app) == 1
    confirmed = register(other, confirm_duplicate="y")
    assert code_of(confirmed).startswith("BOG-2025-")
    assert case_count(app) == 2


@pytest.mark.parametrize("overrides, field, message", [
    ({"identified_on": "2025-02-31"}, "identified_on", "fecha válida"),
    ({"birth_date": "14/05/1996"}, "birth_date", "fecha válida"),
    ({"exploitation_purposes": ["organ_harvest_xyz"]}, "exploitation_purposes", "finalidades de la lista vigente"),
    ({"exploitation_purposes": []}, "exploitation_purposes", "al menos una finalidad"),
    ({"given_names": "A" * 10_000}, "given_names", "Demasiado largo"),
    ({"narrative": "x" * 10_000}, "narrative", "Demasiado largo"),
    ({"document_type": "XX"}, "document_type", "opciones de la lista"),
    ({"nationality": "ZZ"}, "nationality", "opciones de la lista"),
    ({"phone": "llámame"}, "phone", "teléfono"),
    ({"consent_assistance": None}, "consent_assistance", "obligatorio"),
    ({"identified_on": "2099-01-01"}, "identified_on", "futura"),
])
def test_malformed_input_gets_spanish_field_errors_and_writes_nothing(app, client, login_as, sw, overrides, field,
                                                                      message):
    login_as(sw)
    response = register(client, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No se guardó nada" in html
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{message}', html), html[html.find("error-summary"):][:1500]
    assert case_count(app) == 0


def test_stale_edit_is_refused_and_nothing_changes(app, client, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    page = client.get(f"/cases/{code}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fields = {k: v for k, v in registration(client).items() if k not in (
        "form_token", "screening_acts", "screening_means", "screening_purpose", "consent_assistance",
        "consent_data_processing", "consent_method", "declined_reasons", "representative")}
    first = client.post(f"/cases/{code}/edit", data={**fields, "csrf_token": token, "version": version,
                                                     "address": "Calle 30 # 17-20, Cartagena"})
    assert first.status_code == 302
    stale = client.post(f"/cases/{code}/edit", data={**fields, "csrf_token": token, "version": version,
                                                     "address": "Otra dirección que no debe quedar"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Otra persona modificó este caso" in html and "No se guardó nada" in html
    assert "Otra dirección que no debe quedar" in html  # her typing is not lost
    detail = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "Calle 30 # 17-20, Cartagena" in detail and "Otra dirección" not in detail


def test_edit_with_bad_input_is_refused(app, client, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    page = client.get(f"/cases/{code}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(f"/cases/{code}/edit", data={
        "csrf_token": token, "version": version, "given_names": "B" * 10_000, "identified_on": "2025-03-10",
        "identification_source": "coat", "trafficking_scope": "internal", "victim_status": "victim",
        "exploitation_purposes": ["sexual_exploitation"]})
    assert response.status_code == 422
    assert NAME[0] in client.get(f"/cases/{code}").get_data(as_text=True)


# --- status and consents -----------------------------------------------------------------------------------


def _version(client, code) -> str:
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    return re.search(r'name="status"[^>]*>|name="version" value="(\d+)"', html) and re.findall(
        r'name="version" value="(\d+)"', html)[-1]


def test_status_moves_forward_and_closes_with_a_reason(app, client, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    token = csrf_token(client, f"/cases/{code}")
    with app.app_context():
        version = str(db.session.scalar(select(Case.version).where(Case.code == code)))
    moved = client.post(f"/cases/{code}/status", data={"csrf_token": token, "status": "in_immediate_assistance",
                                                       "version": version})
    assert moved.status_code == 302
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "En asistencia inmediata" in html
    # The old version is stale now.
    stale = client.post(f"/cases/{code}/status", data={"csrf_token": token, "status": "closed", "version": version,
                                                       "reason": "other"}, follow_redirects=True)
    assert "no se guardó nada" in stale.get_data(as_text=True).lower()
    with app.app_context():
        version = str(db.session.scalar(select(Case.version).where(Case.code == code)))
    no_reason = client.post(f"/cases/{code}/status", data={"csrf_token": token, "status": "closed",
                                                           "version": version}, follow_redirects=True)
    assert "motivo" in no_reason.get_data(as_text=True).lower()
    closed = client.post(f"/cases/{code}/status", data={"csrf_token": token, "status": "closed", "version": version,
                                                        "reason": "goals_met"}, follow_redirects=True)
    html = closed.get_data(as_text=True)
    assert "Cerrado" in html and "Metas del proyecto de vida cumplidas" in html


def test_withdraw_consent_keeps_it_as_proof(app, client, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    form = re.search(r'action="/cases/[^"]+/consents/withdraw".*?name="consent_id" value="(\d+)".*?'
                     r'name="version" value="(\d+)"', html, re.S)
    token = csrf_token(client, f"/cases/{code}")
    response = client.post(f"/cases/{code}/consents/withdraw", data={
        "csrf_token": token, "consent_id": form.group(1), "version": form.group(2)}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Consentimiento revocado" in html
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert len(case.consents) == 2 and sum(c.withdrawn_on is not None for c in case.consents) == 1
    again = client.post(f"/cases/{code}/consents/withdraw", data={
        "csrf_token": token, "consent_id": form.group(1), "version": form.group(2)}, follow_redirects=True)
    assert "no se guardó nada" in again.get_data(as_text=True).lower()


def test_record_a_sharing_consent(app, client, factory, login_as, sw):
    factory.entity("ICBF")
    login_as(sw)
    code = code_of(register(client))
    token = csrf_token(client, f"/cases/{code}")
    response = client.post(f"/cases/{code}/consents", data={
        "csrf_token": token, "kind": "sharing", "method": "written", "given_on": "2025-03-11",
        "entity_code": "icbf"}, follow_redirects=True)
    assert "Consentimiento registrado" in response.get_data(as_text=True)
    bad = client.post(f"/cases/{code}/consents", data={
        "csrf_token": token, "kind": "sharing", "method": "written", "given_on": "no-date"}, follow_redirects=True)
    assert "fecha válida" in bad.get_data(as_text=True)


# --- erasure -----------------------------------------------------------------------------------------------


def test_erasure_requested_by_social_worker_and_approved_by_admin(app, client, factory, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    token = csrf_token(client, f"/cases/{code}")
    requested = client.post(f"/cases/{code}/erasure", data={"csrf_token": token, "erasure-reason": "victim_request"},
                            follow_redirects=True)
    assert "Se solicitó el borrado" in requested.get_data(as_text=True)
    assert client.get("/cases/admin/erasure-requests").status_code == 403

    admin = app.test_client()
    login_as(factory.user("admin1", roles=("admin",), entity="SDIS"), admin)
    page = admin.get("/cases/admin/erasure-requests")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and code in html and NAME[0] not in html
    with app.app_context():
        request_id = db.session.scalar(select(ErasureRequest.id))
    token = csrf_token(admin, "/cases/admin/erasure-requests")
    wrong = admin.post(f"/cases/admin/erasure-requests/{request_id}/approve",
                       data={"csrf_token": token, "confirm_code": "CTG-2025-99999"})
    assert wrong.status_code == 422 and "no es el código de este caso" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ErasureRequest.status)) == "pending"
    ok = admin.post(f"/cases/admin/erasure-requests/{request_id}/approve",
                    data={"csrf_token": token, "confirm_code": code.lower()}, follow_redirects=True)
    assert "fue borrada" in ok.get_data(as_text=True)
    detail = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "fue borrada" in detail and NAME[0] not in detail and DOC not in detail


# --- catalogue admin ---------------------------------------------------------------------------------------


def test_admin_adds_and_closes_a_purpose(app, client, factory, login_as, sw):
    login_as(factory.user("admin1", roles=("admin",), entity="SDIS"))
    page = client.get("/cases/admin/purposes")
    assert page.status_code == 200 and "Explotación sexual" in page.get_data(as_text=True)
    token = csrf_token(client, "/cases/admin/purposes")
    bad = client.post("/cases/admin/purposes", data={"csrf_token": token, "code": "Bad Code!", "label_es": "",
                                                      "label_en": "x", "valid_from": "nope", "legal_source": "L"})
    assert bad.status_code == 422
    added = client.post("/cases/admin/purposes", data={
        "csrf_token": token, "code": "digital_exploitation", "label_es": "Explotación digital",
        "label_en": "Digital exploitation", "valid_from": "2026-06-01", "legal_source": "Ley 2xxx de 2026"},
        follow_redirects=True)
    assert "Explotación digital" in added.get_data(as_text=True)
    closed = client.post("/cases/admin/purposes/close", data={
        "csrf_token": token, "code": "sex_tourism", "valid_to": "2025-12-31"}, follow_redirects=True)
    assert closed.status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ExploitationPurpose).where(ExploitationPurpose.code == "sex_tourism"))
        assert row.valid_to == date(2025, 12, 31)

    other = app.test_client()
    login_as(sw, other)
    assert other.get("/cases/admin/purposes").status_code == 403


def test_after_erasure_the_edit_form_has_no_identity_and_still_saves(app, client, factory, login_as, sw):
    login_as(sw)
    code = code_of(register(client))
    with app.app_context():
        from caseapp.services.registry import erasure

        erasure.erase_case(code)
    page = client.get(f"/cases/{code}/edit").get_data(as_text=True)
    assert 'name="given_names"' not in page and "fue borrada" in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(f"/cases/{code}/edit", data={
        "csrf_token": token, "version": version, "identified_on": "2025-03-10", "identification_source": "ngo",
        "trafficking_scope": "external", "victim_status": "victim", "exploitation_purposes": ["forced_labour"],
        "sex": "female", "nationality": "VE", "destination_country": "CO"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert case.trafficking_scope == "external" and case.victim.nationality == "VE"


def _nationality_select(html: str) -> str:
    return re.search(r'<select[^>]*name="nationality"[^>]*>(.*?)</select>', html, re.S).group(1)


def _edit(client, code, **changes):
    page = client.get(f"/cases/{code}/edit").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
            "version": re.search(r'name="version"[^>]*value="(\d+)"', page).group(1),
            "given_names": NAME[0], "identified_on": "2025-03-10", "identification_source": "coat",
            "trafficking_scope": "internal", "victim_status": "victim",
            "exploitation_purposes": ["sexual_exploitation"], "sex": "female"}
    data.update(changes)
    return client.post(f"/cases/{code}/edit", data=data)


def test_a_nationality_left_blank_stays_blank_end_to_end(app, client, login_as, sw):
    login_as(sw)
    options = _nationality_select(client.get("/cases/new").get_data(as_text=True))
    # "No informa" is offered first, with no value: no country is ever assumed.
    assert re.match(r'\s*<option[^>]*value=""[^>]*>No informa</option>', options)
    code = code_of(register(client, nationality=""))
    with app.app_context():
        assert db.session.scalar(select(Case).where(Case.code == code)).victim.nationality is None
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert re.search(r"<dt>Nacionalidad</dt><dd>No informa</dd>", html)
    # The edit form keeps it blank (no country selected: the first option, "No informa", shows), a country can be
    # set, and "No informa" clears it again.
    edit_options = _nationality_select(client.get(f"/cases/{code}/edit").get_data(as_text=True))
    assert "selected" not in edit_options.split("</option>", 1)[1]
    assert _edit(client, code, nationality="VE").status_code == 302
    assert "<dd>Venezuela</dd>" in client.get(f"/cases/{code}").get_data(as_text=True)
    assert _edit(client, code, nationality="").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Case).where(Case.code == code)).victim.nationality is None
    assert re.search(r"<dt>Nacionalidad</dt><dd>No informa</dd>", client.get(f"/cases/{code}").get_data(as_text=True))
