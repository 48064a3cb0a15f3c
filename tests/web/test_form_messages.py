"""WTForms' own messages speak the request's language, and their catalogue is read from disk once per language
(caseapp.i18n.wtforms_translations), not once per request that builds a form."""
from __future__ import annotations

import pytest
from babel import support

from caseapp import i18n
from tests.conftest import csrf_token

SPANISH, ENGLISH = "Este campo es obligatorio.", "This field is required."


@pytest.fixture
def as_admin(factory, login_as, client):
    factory.entity("CTG", "Secretaría del Interior de Cartagena")
    login_as(factory.user("root", roles=("admin",), entity="CTG"))
    return client


@pytest.fixture
def catalogue_reads(monkeypatch):
    """The reads of WTForms' catalogue from disk, by locale, from a cold cache."""
    reads: list[str] = []
    load = support.Translations.load

    def counted(dirname=None, locales=None, domain=None):
        if domain == "wtforms":
            reads.append(str(locales[0]))
        return load(dirname, locales, domain)

    monkeypatch.setattr(support.Translations, "load", staticmethod(counted))
    i18n._wtforms_catalogue.cache_clear()
    yield reads
    i18n._wtforms_catalogue.cache_clear()


def _create_without_entity(client):
    """A new user with no entity chosen: WTForms' DataRequired answers with its own message."""
    return client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "lucia", "entity": "",
        "roles": ["auditor"], "password": "x" * 20, "password_confirm": "x" * 20})


def test_wtforms_messages_in_each_language_read_once_per_language(as_admin, catalogue_reads):
    for _ in range(3):
        html = _create_without_entity(as_admin).get_data(as_text=True)
        assert SPANISH in html and ENGLISH not in html
    token = csrf_token(as_admin, "/admin/users/new")
    assert as_admin.post("/auth/language", data={"csrf_token": token, "locale": "en"}).status_code == 302
    for _ in range(2):
        html = _create_without_entity(as_admin).get_data(as_text=True)
        assert ENGLISH in html and SPANISH not in html
    assert catalogue_reads == ["es_CO", "en"]  # flask_wtf alone read it on each of the five requests


def test_outside_a_request_there_is_no_catalogue(app):
    with app.app_context():
        assert i18n.wtforms_translations() is None
