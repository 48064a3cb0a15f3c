"""File templates compiled once per language (caseapp.template_language): the literal `_()` texts are written in at
compile time. What must hold: each reader reads her own language from the same worker, values are still escaped,
and what cannot be translated at compile time is translated at render time as before (templating.gettext)."""
from __future__ import annotations

import pytest
from flask import render_template
from flask_babel import force_locale
from jinja2 import ChoiceLoader, DictLoader

from caseapp import templating
from tests.world import logged_in_client

SOURCES = {
    "t/literal.html": "{{ _('Purposes of exploitation') }}|{{ gettext('Purposes of exploitation') }}",
    "t/values.html": "{{ _('Case %(code)s', code=code) }}",
    "t/percent.html": "{{ _('%(done)s%% done', done=pct) }}|{% if never %}{{ _('At 100%') }}{% endif %}ok",
    "t/shadowed.html": "{% macro m(_) %}{{ _('x') }}{% endmacro %}{{ m(shout) }}",
    "t/variable.html": "{{ _(text) }}",
    "t/parent.html": "{% include 't/literal.html' %}",
}


@pytest.fixture
def env(app):
    app.jinja_env.loader.loader = ChoiceLoader([DictLoader(SOURCES), app.jinja_env.loader.loader])
    app.jinja_env.cache.clear()
    return app.jinja_env


def _render(name, locale, **values):
    with force_locale(locale):
        return render_template(name, **values)


def test_each_language_reads_its_own_text_from_one_environment(ctx, env):
    for _ in range(2):  # compiled, then from the cache: the cache holds one copy per language
        assert _render("t/literal.html", "es_CO") == "Finalidades de explotación|Finalidades de explotación"
        assert _render("t/literal.html", "en") == "Purposes of exploitation|Purposes of exploitation"
        assert _render("t/parent.html", "en") == "Purposes of exploitation|Purposes of exploitation"
        assert _render("t/parent.html", "es_CO") == "Finalidades de explotación|Finalidades de explotación"


def test_values_are_escaped_and_the_text_is_not(ctx, env):
    assert _render("t/values.html", "es_CO", code="<b>X</b>") == "Caso &lt;b&gt;X&lt;/b&gt;"
    assert _render("t/values.html", "en", code="A&B") == "Case A&amp;B"


def test_percent_signs_read_as_at_render_time(ctx, env):
    # "%%" is one "%", as newstyle gettext formats every text; a text whose "%" cannot be formatted is not
    # compiled in (it would fail the whole template), and fails only at the render that reaches it, as before
    assert _render("t/percent.html", "en", pct=40, never=False) == "40% done|ok"
    with pytest.raises(ValueError):
        _render("t/percent.html", "en", pct=40, never=True)


def test_what_is_not_a_literal_call_is_translated_at_render_time(ctx, env, monkeypatch):
    calls = []
    original = templating._translated
    monkeypatch.setattr(templating, "_translated", lambda *a: calls.append(a[2]) or original(*a))
    assert _render("t/variable.html", "es_CO", text="Purposes of exploitation") == "Finalidades de explotación"
    assert calls == ["Purposes of exploitation"]
    assert _render("t/shadowed.html", "es_CO", shout=str.upper) == "X"  # a template's own `_` is left alone
    calls.clear()
    _render("t/literal.html", "es_CO")
    _render("t/values.html", "es_CO", code="C")
    assert calls == []  # compiled in


def test_the_case_page_translates_nothing_at_render_time_and_speaks_the_readers_language(app, factory, monkeypatch):
    from datetime import date

    from tests.cases_factory import make_case

    factory.entity("ALFA", name="Alcaldía Alfa")
    ana = factory.user("ana", roles=("social_worker",), entity="ALFA")
    with app.test_request_context():
        code = make_case(ana.id, given_names="Mariana", identified_on=date(2025, 3, 10))
    client = logged_in_client(app, ana)
    calls = []
    original = templating._translated
    monkeypatch.setattr(templating, "_translated", lambda *a: calls.append(a[2]) or original(*a))
    spanish = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "Resumen" in spanish and ">Summary<" not in spanish
    assert calls == []
    with client.session_transaction() as session:
        session["locale"] = "en"
    english = client.get(f"/cases/{code}").get_data(as_text=True)
    assert ">Summary<" in english and "Resumen" not in english
    assert calls == []
