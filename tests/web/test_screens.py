"""Screens a professional works on (issue 13, G1): one date format (dd/mm/aaaa) on every screen, a registration
form that cannot register twice, a duplicate warning that also catches the same full name with no document and
says what it compared, the consent's entity picked from a list, the route page linking back to its case, and the
script that turns tables into cards on a phone served under the CSP."""
from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from caseapp import templating
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.services import registry
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.web.test_cases_web import code_of, register, registration

GIVEN, FAMILY = "Sandra Milena", "Arboleda Cuesta"
PATHS = ("web", "api", "service")
BODY = {
    "given_names": GIVEN, "family_names": FAMILY, "document_type": "NONE", "identified_on": "2025-09-10",
    "identification_source": "policia", "exploitation_purposes": ["forced_labour"], "trafficking_scope": "internal",
    "consent_assistance": True, "consent_data_processing": True,
}


def n_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


# --- dates: dd/mm/aaaa ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,shown", [
    (date(2025, 3, 11), "11/03/2025"),
    ("2025-03-11", "11/03/2025"),  # the case summary keeps ISO dates for the API
    (None, "—"),
    ("", "—"),
    ("2025-13-45", "2025-13-45"),  # not a date: shown as it is
    ("<script>", "<script>"),  # shown as it is; autoescape still escapes it in a page
])
def test_one_date_format(app, value, shown):
    with app.test_request_context():
        assert templating.local_date(value) == shown


def test_raw_dates_in_templates_read_dd_mm_aaaa_and_markup_is_left_alone(app):
    with app.test_request_context():
        render = app.jinja_env.from_string
        assert render("{{ d }}").render(d=date(2025, 3, 1)) == "01/03/2025"
        assert render("{{ d }}").render(d="2025-03-01") == "01/03/2025"
        assert render("{{ d }}").render(d="Calle 2025-03-01") == "Calle 2025-03-01"
        instant = datetime(2025, 3, 1, 17, 30, tzinfo=UTC)
        assert render("{{ d }}").render(d=instant) == "01/03/2025 12:30"  # Bogotá, UTC-5
        # a rendered form field is markup: its date input keeps the ISO value the browser's date field needs
        from markupsafe import Markup

        assert render("{{ d }}").render(d=Markup("2025-03-01")) == "2025-03-01"


def test_the_case_page_shows_dates_as_dd_mm_aaaa(app, client, factory, login_as):
    factory.entity("ICBF")
    sw = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    login_as(sw)
    code = code_of(register(client))
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "14/05/1996" in html and "1996-05-14" not in html.replace('value="1996-05-14"', "")  # birth date
    assert "10/03/2025" in html  # identification date and the consents' dates
    assert re.search(r"<td>10/03/2025</td>", html)
    # the date inputs still work with what the browser sends (ISO)
    token = csrf_token(client, f"/cases/{code}")
    response = client.post(f"/cases/{code}/consents", data={
        "csrf_token": token, "kind": "sharing", "method": "written", "given_on": "2025-03-12", "entity_code": "ICBF"},
        follow_redirects=True)
    assert "Consentimiento registrado" in response.get_data(as_text=True)
    assert "12/03/2025" in response.get_data(as_text=True)


def test_the_access_log_shows_instants_as_dd_mm_aaaa(app, client, factory, login_as):
    login_as(factory.user("ana", roles=("social_worker",), entity="CTG"))
    client.get("/cases/")  # something for the log to show
    login_as(factory.user("audi", roles=("auditor",), entity="CTG"))
    html = client.get("/audit/").get_data(as_text=True)
    assert re.search(r"<time datetime=\"[^\"]+\">\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}</time>", html)
    assert not re.search(r">\d{4}-\d{2}-\d{2} \d{2}:\d{2}", html)


# --- the registration form is sent once -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["same session", "new session"])
def test_the_same_registration_form_sent_twice_makes_one_case(app, client, factory, login_as, how):
    """Back, then send again (or a reload): the form's one-time token answers with the case it already created,
    also when the session that remembered it is gone (the registration service's key is the one owner)."""
    sw = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    login_as(sw)
    form = registration(client)
    first = client.post("/cases/new", data=form)
    assert first.status_code == 302
    code = first.headers["Location"].rsplit("/", 1)[1]
    again_client = client
    if how == "new session":
        again_client = app.test_client()
        login_as(sw, again_client)
        form = dict(form, csrf_token=csrf_token(again_client, "/cases/new"))
    again = again_client.post("/cases/new", data=form, follow_redirects=True)
    html = again.get_data(as_text=True)
    assert again.request.path == f"/cases/{code}"
    assert f"Este formulario ya se había enviado: el caso {code} se registró una sola vez." in html
    assert n_cases(app) == 1


def test_another_users_token_is_not_a_way_into_her_case(app, client, factory, login_as):
    """Hostile: a token read off someone else's form registers nothing of hers and shows nothing of hers."""
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    eva = factory.user("eva", roles=("social_worker",), entity="BOG")
    login_as(ana)
    form = registration(client)
    code = client.post("/cases/new", data=form).headers["Location"].rsplit("/", 1)[1]
    other = app.test_client()
    login_as(eva, other)
    stolen = dict(form, csrf_token=csrf_token(other, "/cases/new"), confirm_duplicate="y")
    response = other.post("/cases/new", data=stolen)
    assert response.status_code == 302 and code not in response.headers["Location"]
    assert n_cases(app) == 2


# --- duplicate warning: the same full name, and what was compared ------------------------------------------


class Registrar:
    def __init__(self, app, path, user, login_as):
        self.app, self.path, self.user = app, path, user
        if path == "web":
            self.client = app.test_client()
            login_as(user, self.client)
        elif path == "api":
            self.client = app.test_client()
            self.headers = token_for(app, user)

    def register(self, **overrides) -> tuple[int, str]:
        """(HTTP-like status, the warning text shown)."""
        if self.path == "web":
            fields = dict({"given_names": GIVEN, "family_names": FAMILY, "document_type": "NONE",
                           "document_number": "", "phone": "", "birth_date": ""}, **overrides)
            form = registration(self.client, **fields)
            response = self.client.post("/cases/new", data=form)
            return response.status_code, response.get_data(as_text=True)
        if self.path == "api":
            response = self.client.post("/api/v1/cases", json=dict(BODY, confirm_duplicate=False, **overrides),
                                        headers=self.headers)
            return response.status_code, (response.json or {}).get("message", "")
        with self.app.test_request_context():
            user = db.session.get(User, self.user.id)
            try:
                registry.register_case(user, dict(BODY, **overrides))
            except registry.PossibleDuplicate as dup:
                return 409, dup.message
            return 201, ""


@pytest.fixture
def namesake(app, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    with app.app_context():
        make_case(ana.id, given_names=GIVEN, family_names=FAMILY, document_type="NONE", document_number=None,
                  phone=None, birth_date=None)
    return ana


@pytest.mark.parametrize("path", PATHS)
def test_the_same_full_name_with_no_document_is_warned_and_says_so(app, namesake, login_as, path, caplog):
    caplog.set_level(logging.DEBUG)
    status, text = Registrar(app, path, namesake, login_as).register(given_names="SANDRA  milena")
    assert status == 409
    assert "Se comparó: mismo nombre completo (sin fecha de nacimiento para comparar)." in text
    assert n_cases(app) == 1
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.duplicate_hint")))
        assert rows and all("Sandra" not in (r.detail or "") and "Arboleda" not in (r.detail or "") for r in rows)
        assert "name" in rows[-1].detail
    assert "Sandra" not in caplog.text and "Arboleda" not in caplog.text  # no name in any log line


@pytest.mark.parametrize("path", PATHS)
def test_the_same_document_says_same_document(app, factory, login_as, path):
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    with app.app_context():
        make_case(ana.id, given_names="Otra", family_names="Persona", document_type="CC",
                  document_number="1045789321")
    status, text = Registrar(app, path, ana, login_as).register(document_type="CC", document_number="1045789321")
    assert status == 409 and "Se comparó: mismo documento." in text


@pytest.mark.parametrize("path", PATHS)
def test_namesakes_born_on_different_days_are_not_warned(app, factory, login_as, path):
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    with app.app_context():
        make_case(ana.id, given_names=GIVEN, family_names=FAMILY, document_type="NONE", document_number=None,
                  phone=None, birth_date="1990-01-01")
    status, _text = Registrar(app, path, ana, login_as).register(birth_date="1995-02-02")
    assert status in (201, 302)
    assert n_cases(app) == 2


def test_the_same_name_and_birth_date_says_both(app, factory, login_as):
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    with app.app_context():
        make_case(ana.id, given_names=GIVEN, family_names=FAMILY, document_type="NONE", document_number=None,
                  phone=None, birth_date="1995-02-02")
    status, text = Registrar(app, "service", ana, login_as).register(birth_date="1995-02-02")
    assert status == 409 and "mismo nombre completo y fecha de nacimiento" in text


# --- consent: the entity from a list; the route page links back ---------------------------------------------


def test_the_sharing_consent_picks_the_entity_from_a_list(app, client, factory, login_as):
    factory.entity("ICBF", name="Instituto Colombiano de Bienestar Familiar")
    factory.entity("OFF", name="Entidad inactiva")
    with app.app_context():
        from caseapp.models.accounts import Entity

        db.session.scalar(select(Entity).where(Entity.code == "OFF")).active = False
        db.session.commit()
    sw = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    login_as(sw)
    code = code_of(register(client))
    html = client.get(f"/cases/{code}").get_data(as_text=True)
    picker = re.search(r'<select[^>]*name="entity_code".*?</select>', html, re.S)
    assert picker, "the entity is a list, not a typed code"
    assert 'value="ICBF"' in picker.group(0) and "Instituto Colombiano de Bienestar Familiar" in picker.group(0)
    assert 'value="CTG"' not in picker.group(0)  # the case's own entity is not offered
    assert 'value="OFF"' not in picker.group(0)  # nor an inactive one
    token = csrf_token(client, f"/cases/{code}")
    ok = client.post(f"/cases/{code}/consents", data={
        "csrf_token": token, "kind": "sharing", "method": "written", "given_on": "2025-03-11",
        "entity_code": "ICBF"}, follow_redirects=True)
    assert "Consentimiento registrado" in ok.get_data(as_text=True)
    # hostile: a code that is not in the list, the inactive one, the case's own entity
    for bad in ("NOPE", "OFF", "CTG", "ICBF' OR 1=1"):
        client.post(f"/cases/{code}/consents", data={
            "csrf_token": token, "kind": "sharing", "method": "written", "given_on": "2025-03-11",
            "entity_code": bad})
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        assert [c.entity.code for c in case.consents if c.kind == "sharing"] == ["ICBF"]
        assert db.session.scalar(select(func.count()).select_from(Consent).where(Consent.kind == "sharing")) == 1


def test_the_route_page_links_back_to_the_case(app, client, factory, login_as):
    sw = factory.user("trabajadora", roles=("social_worker",), entity="CTG")
    login_as(sw)
    code = code_of(register(client))
    html = client.get(f"/route/cases/{code}").get_data(as_text=True)
    assert f'href="/cases/{code}"' in html and f"Volver al caso {code}" in html


# --- phone width: the table script is served and allowed -------------------------------------------------------


def test_the_table_script_is_on_every_page_and_allowed_by_the_csp(client):
    response = client.get("/auth/login")
    assert '<script src="/static/js/tables.js" defer></script>' in response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    script = client.get("/static/js/tables.js")
    assert script.status_code == 200 and b"data-label" in script.data
    css = client.get("/static/css/ruta.css").get_data(as_text=True)
    assert "table.stacked" in css and "overflow-wrap: anywhere" in css
