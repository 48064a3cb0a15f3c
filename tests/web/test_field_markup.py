"""`field()` drawn in Python (caseapp.form_markup.field) is the Jinja macro it replaced: every field of every form of
the app, in both languages, bare and with a hostile hint, the sensitive mark and hostile errors, gives the same HTML
(a whitespace run holding a line break counts as one line break: between tags that is what a browser sees)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from flask import render_template_string, session
from markupsafe import Markup
from wtforms import Form, SelectFieldBase

import caseapp.web
from caseapp.form_markup import field

# templates/macros/forms.html's `field` macro before it moved to Python (commit 0030b25)
OLD_MACRO = """{% macro field(f, hint=None, sensitive=False) %}
  {% set err_id = f.id ~ '-error' %}
  {% set hint_id = f.id ~ '-hint' %}
  {% set limit = f.flags.maxlength if f.flags.maxlength is number else none %}
  {% set counted = limit is not none and (f.type == 'TextAreaField' or limit >= 500) %}
  {% set described = [] %}
  {% if hint or sensitive or counted %}{% set _ignored = described.append(hint_id) %}{% endif %}
  {% if f.errors %}{% set _ignored = described.append(err_id) %}{% endif %}
  <div class="field{% if f.errors %} has-error{% endif %}{% if f.type == 'BooleanField' %} field-check{% endif %}">
    {% if f.type == 'BooleanField' %}
      {{ f(**({'aria-describedby': described|join(' ')} if described else {})) }} {{ f.label }}
    {% elif f.type in ('RadioField',) %}
      <fieldset{% if described %} aria-describedby="{{ described|join(' ') }}"{% endif %}>
        <legend>{{ f.label.text }}{% if f.flags.required %} <span class="req" aria-hidden="true">*</span>{% endif %}</legend>
        {% for opt in f %}<label class="opt">{{ opt() }} {{ opt.label.text }}</label>{% endfor %}
      </fieldset>
    {% elif f.type in ('MultiCheckboxField',) %}
      <fieldset{% if described %} aria-describedby="{{ described|join(' ') }}"{% endif %}>
        <legend>{{ f.label.text }}{% if f.flags.required %} <span class="req" aria-hidden="true">*</span>{% endif %}</legend>
        <div class="checks">{% for opt in f %}<label class="opt">{{ opt() }} {{ opt.label.text }}</label>{% endfor %}</div>
      </fieldset>
    {% else %}
      <label for="{{ f.id }}">{{ f.label.text }}{% if f.flags.required %} <span class="req" aria-hidden="true">*</span>{% endif %}</label>
      {% set attrs = {'aria-invalid': 'true' if f.errors else 'false'} %}
      {% if described %}{% set _ignored = attrs.update({'aria-describedby': described|join(' ')}) %}{% endif %}
      {% if f.flags.required %}{% set _ignored = attrs.update({'aria-required': 'true'}) %}{% endif %}
      {% if limit is not none %}{% set _ignored = attrs.update({'maxlength': False}) %}{% endif %}
      {% if counted %}{% set _ignored = attrs.update({'data-limit': limit}) %}{% endif %}
      {{ f(**attrs) }}
    {% endif %}
    {% if hint or sensitive or counted %}<p class="hint" id="{{ hint_id }}">{% if sensitive %}<span class="sensitive">{{ _('Sensitive data: answering is optional.') }}</span> {% endif %}{{ hint or '' }}
      {%- if counted %} <span class="limit">{{ _('At most %(n)s characters.', n=limit|number) }}</span> <span class="counter" data-counter-for="{{ f.id }}" aria-live="polite"></span>{% endif %}</p>{% endif %}
    {% if f.errors %}<p class="error" id="{{ err_id }}">{{ f.errors|join(' ') }}</p>{% endif %}
  </div>
{% endmacro %}{{ field(f, hint=hint, sensitive=sensitive) }}"""

HOSTILE = '"><script>alert(1)</script>&amp;\''
CHOICES = [("a", "Primera"), (HOSTILE, HOSTILE)]


class _Option:
    """What a form offers from the database (a step kind, a professional, an entity), with a hostile name."""

    def __init__(self, code):
        self.code = self.username = code
        self.name = self.display_name = HOSTILE

    def label(self, _locale):
        return HOSTILE


def _form_classes() -> list[type]:
    found = {}
    for module in pkgutil.walk_packages(caseapp.web.__path__, "caseapp.web."):
        for _name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, Form) and cls.__module__.startswith("caseapp.") and cls._unbound_fields is not False:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


def _build(cls):
    """A blank instance of the form class; the arguments some forms need (choices read from the database) stand in."""
    params = inspect.signature(cls.__init__).parameters
    args = [[_Option("a"), _Option(HOSTILE)] for name, p in params.items() if name != "self" and p.default is p.empty
            and p.kind is p.POSITIONAL_OR_KEYWORD]
    form = cls(*args, formdata=None)
    for f in form:
        if isinstance(f, SelectFieldBase) and getattr(f, "choices", ()) is None:
            f.choices = CHOICES
    return form


def _lines(html) -> str:
    return re.sub(r"\s*\n\s*", "\n", str(html)).strip()


FORMS = _form_classes()


def test_every_form_of_the_app_is_found():
    names = {cls.__name__ for cls in FORMS}
    assert len(FORMS) >= 40 and {"GiveConsentForm", "FilterForm", "UserCreateForm"} <= names


@pytest.mark.parametrize("locale", ["es_CO", "en"])
def test_every_field_is_drawn_as_the_macro_drew_it(app, factory, locale):
    from flask_login import login_user

    from caseapp.extensions import db
    from caseapp.models.accounts import User

    ana = factory.user("ana", roles=("social_worker", "lawyer"))
    kinds = set()
    drawn = 0
    with app.test_request_context():
        session["locale"] = locale
        login_user(db.session.get(User, ana.id))  # some forms offer the entity's people or cases
        macro = app.jinja_env.from_string(OLD_MACRO)
        for cls in FORMS:
            form = _build(cls)
            for f in form:
                for hint, sensitive, errors in [(None, False, []), (HOSTILE, True, [HOSTILE, Markup("<em>ya</em>")]),
                                                (Markup("<b>ayuda</b>"), False, ["Este campo es obligatorio."])]:
                    f.errors = errors
                    expected = macro.render(f=f, hint=hint, sensitive=sensitive)
                    assert _lines(field(f, hint=hint, sensitive=sensitive)) == _lines(expected), (cls, f.name)
                    drawn += 1
                kinds.add(f.type)
    assert drawn > 600
    # every branch of the macro was compared: check box, radio, check list, a counted text, a select, a date
    assert {"BooleanField", "RadioField", "MultiCheckboxField", "TextAreaField", "SelectField", "DateField"} <= kinds
    assert "<script>" not in str(field(f, hint=HOSTILE, sensitive=True))


def test_a_page_draws_its_fields_through_the_function(app, client, factory, login_as):
    """The templates call the global, not a macro of their own (a template importing the old macro would shadow it)."""
    login_as(factory.user("ana", roles=("social_worker",)))
    with app.test_request_context():
        session["locale"] = "es_CO"
        assert render_template_string("{{ field is defined }}") == "True"
    html = client.get("/cases/new").get_data(as_text=True)
    assert 'aria-invalid="false"' in html and 'class="field' in html
