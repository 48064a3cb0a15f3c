"""Blank forms drawn once per language and key (caseapp.web.blank_forms): the case page's action forms come from
memory after the first view. What must hold: a fragment sees nothing of the request, so nothing of one reader or
one case can reach another; each reader gets her own language; the choices follow the key (the entities a consent
may name differ by case, a new entity shows at once); the markup drawn from memory is the markup drawn afresh."""
from __future__ import annotations

import inspect
import re
from datetime import date

import pytest
from jinja2 import meta

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.web import blank_forms
from tests.cases_factory import make_case
from tests.world import logged_in_client


def test_every_fragment_sees_only_its_form_and_key(app):
    """Names a fragment may use: its form, `_`, `field` and its key's names. Not `csrf_token`, `can`,
    `current_user`, `case`, `request`, `g`, `session`..., which would draw one reader's or one case's value into
    markup served to every other."""
    assert {f.template for f in blank_forms.FRAGMENTS} >= {
        "cases/_consent_fields.html", "cases/_status_fields.html", "cases/_closure_fields.html",
        "cases/_erasure_fields.html", "attachments/_upload_fields.html", "cases/_search_fields.html",
        "cases/_filter_fields.html"}
    env = app.jinja_env
    for fragment in blank_forms.FRAGMENTS:
        source = env.loader.get_source(env, fragment.template)[0]
        names = meta.find_undeclared_variables(env.parse(source))
        allowed = {"form", "_", "field"} | set(inspect.signature(fragment.build).parameters)
        assert names <= allowed, (fragment.template, names - allowed)
        assert not list(meta.find_referenced_templates(env.parse(source))), fragment.template  # no include


@pytest.fixture
def two_cases(app, factory):
    factory.entity("ALFA", name="Alcaldía Alfa")
    factory.entity("BETA", name="Fundación Beta", kind="ngo")
    ana = factory.user("ana", roles=("social_worker",), entity="ALFA")
    bea = factory.user("bea", roles=("social_worker",), entity="BETA")
    with app.test_request_context():
        alfa = make_case(ana.id, given_names="Mariana", identified_on=date(2025, 3, 10))
        beta = make_case(bea.id, given_names="Lucía", identified_on=date(2025, 4, 2))
    return {"ana": ana, "bea": bea, "alfa": alfa, "beta": beta}


def _consent_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="entity_code".*?</select>', html, re.S)
    assert select, "no consent form"
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(0))


def test_each_case_lists_its_own_entities_and_a_new_one_shows_at_once(app, factory, two_cases):
    blank_forms.forget()
    ana = logged_in_client(app, two_cases["ana"])
    bea = logged_in_client(app, two_cases["bea"])
    for _ in range(2):  # drawn afresh, then from memory
        alfa_page = ana.get(f"/cases/{two_cases['alfa']}").get_data(as_text=True)
        beta_page = bea.get(f"/cases/{two_cases['beta']}").get_data(as_text=True)
        assert "BETA" in _consent_options(alfa_page) and "ALFA" not in _consent_options(alfa_page)
        assert "ALFA" in _consent_options(beta_page) and "BETA" not in _consent_options(beta_page)
    factory.entity("GAMMA", name="Personería Gamma")
    assert "GAMMA" in _consent_options(ana.get(f"/cases/{two_cases['alfa']}").get_data(as_text=True))


def test_each_reader_gets_her_language(app, two_cases):
    blank_forms.forget()
    with app.app_context():
        db.session.get(User, two_cases["bea"].id).locale = "en"
        db.session.commit()
    ana = logged_in_client(app, two_cases["ana"])
    bea = logged_in_client(app, two_cases["bea"])
    spanish = ana.get(f"/cases/{two_cases['alfa']}").get_data(as_text=True)  # drawn first, in Spanish
    english = bea.get(f"/cases/{two_cases['beta']}").get_data(as_text=True)
    assert "Registrar consentimiento" in spanish and "Record consent" not in spanish
    assert "Record consent" in english and "Registrar consentimiento" not in english
    assert "Leave empty for today." in english and "Déjelo vacío para usar la fecha de hoy." in spanish


def _without_tokens(html: str) -> str:
    return re.sub(r'(name="[\w-]*(?:csrf_token|submission)" value=")[^"]*', r"\1", html)


def test_the_page_from_memory_is_the_page_drawn_afresh(app, two_cases):
    client = logged_in_client(app, two_cases["ana"])
    url = f"/cases/{two_cases['alfa']}"
    blank_forms.forget()
    afresh = _without_tokens(client.get(url).get_data(as_text=True))
    remembered = _without_tokens(client.get(url).get_data(as_text=True))
    assert afresh == remembered
    for action in ("/consents", "/status", "/erasure"):  # every blank form is on it, with its fields
        assert f'action="{url}{action}"' in afresh
    assert 'name="kind"' in afresh and 'name="on"' in afresh and 'name="erasure-reason"' in afresh
    assert 'name="att-kind"' in afresh and 'name="att-file"' in afresh


def test_memory_is_bounded_per_fragment(app):
    """A national deployment lists hundreds of entities: each owning entity's readers draw their own consent form.
    Those drawings are bounded, and evict only each other: the status form stays drawn."""
    from caseapp.web.cases import routes

    blank_forms.forget()
    with app.test_request_context():
        routes._STATUS_FIELDS(next_status="in_immediate_assistance")
        for n in range(200):
            routes._CONSENT_FIELDS(entities=((f"E{n}", f"Entidad {n}"),))
        before = routes._STATUS_FIELDS._drawn.cache_info().hits
        routes._STATUS_FIELDS(next_status="in_immediate_assistance")
        assert routes._STATUS_FIELDS._drawn.cache_info().hits == before + 1
        assert routes._CONSENT_FIELDS._drawn.cache_info().currsize <= 64


def test_the_case_list_from_memory_is_the_list_drawn_afresh_and_a_refused_form_keeps_its_errors(app, two_cases):
    """The list's search and status filter come from memory: the same markup as afresh, the chosen status selected
    in each drawing of its own; a refused filter and a refused search are drawn from their forms, with their
    errors and what was typed."""
    client = logged_in_client(app, two_cases["ana"])
    blank_forms.forget()
    for query in ("", "?status=", "?status=closed", "?status=identified", "?status="):
        afresh = _without_tokens(client.get(f"/cases/{query}").get_data(as_text=True))
        assert afresh == _without_tokens(client.get(f"/cases/{query}").get_data(as_text=True))
        assert 'name="document_number"' in afresh and 'action="/cases/search"' in afresh
        assert 'name="csrf_token" value=' in afresh  # the search posts with her token
        selected = re.findall(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', afresh)
        # as the bound form drew it: nothing chosen without the field, "All" chosen when sent empty
        assert [a or b for a, b in selected] == ([query.split("=")[1]] if query else []), (query, selected)
    refused = client.get("/cases/?status=bogus").get_data(as_text=True)
    assert 'class="error' in refused.split('class="filter"')[1].split("</form>")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', refused).group(1)
    searched = client.post("/cases/search", data={"name": "Ma", "phone": "300", "csrf_token": token})
    page = searched.get_data(as_text=True)
    assert searched.status_code == 422 and 'value="Ma"' in page and 'value="300"' in page
    assert 'role="alert"' in page
