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
