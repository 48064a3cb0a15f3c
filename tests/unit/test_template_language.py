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
    "t/m.html": "{% macro shout(s) %}{{ s|upper }}{% endmacro %}",
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


def test_no_template_or_render_gives_the_translation_names_a_meaning_of_its_own(app):
    """Compile-time translation reads `_('...')` and `gettext('...')` as the catalogue's: a template that binds either
    name itself is left alone (binds_translation_names), but a binding from another file (a parent's `set`, an
    includer's loop, an imported alias) or from the render's own values is not seen when one file is compiled."""
    import pathlib
    import re

    from caseapp.template_language import binds_translation_names

    env = app.jinja_env
    names = env.list_templates()
    assert len(names) > 50
    bound = [n for n in names if binds_translation_names(env.parse(env.loader.get_source(env, n)[0]))]
    assert bound == []
    passed = re.compile(r"render_template(?:_string)?\([^)]*\b(?:_|gettext)\s*=")
    package = pathlib.Path(app.root_path)
    assert [str(p) for p in package.rglob("*.py") if passed.search(p.read_text(encoding="utf-8"))] == []


@pytest.mark.parametrize("source", [
    "{% from 't/m.html' import shout as _ %}{{ _('Purposes of exploitation') }}",
    "{% import 't/m.html' as gettext %}{{ gettext.shout('Purposes of exploitation') }}",
    "{% for _ in [1] %}{{ _('Purposes of exploitation') }}{% endfor %}",
])
def test_a_template_naming_its_own_translation_function_is_left_alone(ctx, env, source):
    from caseapp.template_language import binds_translation_names

    assert binds_translation_names(env.parse(source))


def test_a_loader_set_afterwards_is_asked_for_the_templates_own_name(ctx, app):
    app.jinja_env.loader = ChoiceLoader([DictLoader({"x/a.html": "{{ _('Case %(code)s', code=1) }}"}),
                                         app.jinja_env.loader])
    assert _render("x/a.html", "es_CO") == "Caso 1"
    assert _render("x/a.html", "en") == "Case 1"
