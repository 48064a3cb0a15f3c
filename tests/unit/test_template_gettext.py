"""Templates' `_()` (templating.gettext) and the translations held per request (i18n.RequestDomain): what a user
reads is what Jinja's newstyle gettext and Flask-Babel gave before they were made cheaper."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, get_translations


def test_a_template_string_is_translated_escaped_and_formatted(ctx):
    with force_locale("es_CO"):
        html = render_template_string("{{ _('Case %(code)s', code=code) }}|{{ gettext('Purposes of exploitation') }}",
                                      code="<b>X</b>")
    assert html == "Caso &lt;b&gt;X&lt;/b&gt;|Finalidades de explotación"


def test_force_locale_is_obeyed_inside_one_request(app):
    with app.test_request_context("/"):
        with force_locale("es_CO"):
            assert get_translations().ugettext("Purposes of exploitation") == "Finalidades de explotación"
            with force_locale("en"):
                assert get_translations().ugettext("Purposes of exploitation") == "Purposes of exploitation"
                assert render_template_string("{{ _('Case %(code)s', code='C') }}") == "Case C"
            assert render_template_string("{{ _('Case %(code)s', code='C') }}") == "Caso C"


def test_flask_babel_keeps_its_state_where_it_did(app):
    """i18n.babel_context, which flask_babel now asks for its per-request state: none outside an app context, one
    namespace on `g` for the rest of it (the locale found once, force_locale's changes undone after it), a new one
    for the next request."""
    import flask_babel
    from flask import g
    from flask_babel import get_locale, lazy_gettext

    from caseapp.i18n import babel_context

    assert flask_babel._get_current_context is babel_context
    assert babel_context() is None and get_locale() is None
    with app.app_context():  # a command or a job: the default language, held on its own g
        assert babel_context() is g._flask_babel and str(get_locale()) == "es_CO"
        assert str(lazy_gettext("Purposes of exploitation")) == "Finalidades de explotación"
    with app.test_request_context("/"):
        ctx = babel_context()
        assert ctx is g._flask_babel and babel_context() is ctx
        assert str(get_locale()) == "es_CO" and ctx.babel_locale is get_locale()
        with force_locale("en"):
            assert str(lazy_gettext("Purposes of exploitation")) == "Purposes of exploitation"
        assert str(lazy_gettext("Purposes of exploitation")) == "Finalidades de explotación"
    with app.test_request_context("/"):
        assert babel_context() is not ctx and not hasattr(babel_context(), "babel_locale")
