"""A label is remembered once per language (caseapp.labels._text): each request, and each force_locale block, still
gets its own language's text, whichever language asked first."""
from __future__ import annotations

from flask import session
from flask_babel import force_locale
from markupsafe import Markup

from caseapp import labels
from caseapp.labels import AUDIT_ACTIONS, LABELS, action_label, label


def _in_request(app, locale, ask):
    with app.test_request_context():
        session["locale"] = locale
        return ask()


def test_labels_follow_each_request_and_force_locale(app):
    with app.test_request_context():
        with force_locale("es_CO"):
            spanish = str(LABELS["role"]["lawyer"]), str(AUDIT_ACTIONS["case.view"])
        with force_locale("en"):
            english = str(LABELS["role"]["lawyer"]), str(AUDIT_ACTIONS["case.view"])
    assert spanish[0] != english[0] and spanish[1] != english[1]  # the check below can tell them apart
    labels._TEXTS.clear()

    def ask():
        return label("role", "lawyer"), action_label("case.view")

    for locale, expected in [("en", english), ("es_CO", spanish), ("en", english), ("es_CO", spanish)]:
        assert _in_request(app, locale, ask) == expected
    with app.test_request_context():
        session["locale"] = "es_CO"
        assert ask() == spanish
        with force_locale("en"):
            assert ask() == english
        assert ask() == spanish


def test_outside_a_request_a_label_is_what_the_catalogue_gives(app):
    labels._TEXTS.clear()
    with app.app_context():
        assert label("role", "lawyer") == str(LABELS["role"]["lawyer"])
    assert label("role", "lawyer") == str(LABELS["role"]["lawyer"])
    assert label("role", "not-a-role") == "not-a-role" and label("role", None) == ""
    # a code the catalogue does not know is given back as text, never remembered (True and 1 are one key to a dict)
    assert (label("role", True), label("role", 1)) == ("True", "1")
    assert type(label("role", Markup("<b>x</b>"))) is str  # not Markup: a template still escapes it


def test_choices_are_each_requests_language_and_lazy_outside_one(app):
    from flask_babel.speaklater import LazyString

    with app.test_request_context():
        with force_locale("es_CO"):
            spanish = str(LABELS["consent_method"]["written"])
        with force_locale("en"):
            english = str(LABELS["consent_method"]["written"])
    assert spanish != english
    labels._TEXTS.clear()

    def ask():
        return dict(labels.choices("consent_method"))["written"]

    for locale, expected in [("en", english), ("es_CO", spanish), ("en", english)]:
        assert _in_request(app, locale, ask) == expected
    # a form class built at import, outside any request, keeps lazy labels: each page translates them
    assert isinstance(ask(), LazyString)
