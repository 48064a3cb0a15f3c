"""WTForms' attributes drawn by caseapp.form_markup are the library's own, character for character, hostile values
included; and every widget the app draws goes through it."""
import pytest
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField, widgets
from wtforms.validators import Length
from wtforms.widgets import core

from caseapp import form_markup

HOSTILE = ['"><script>alert(1)</script>', "it's", 'a "quoted" & <b>bold</b>', "&amp; already", "\u00f1and\u00fa",
           Markup('a "safe" <em>value</em>'), Markup("&lt;kept&gt;"), 0, 42, 3.5, None, "", " "]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_a_value_is_written_as_wtforms_writes_it(value):
    kwargs = {"value": value, "id": "f-1", "name": "document_number", "aria_describedby": value,
              "data_counter_for": value, "class_": "wide", "for_": "f-1", "required": True, "maxlength": False}
    drawn = form_markup.html_params(**kwargs)
    assert drawn == form_markup.original(**kwargs)
    assert isinstance(drawn, Markup)
    if isinstance(value, str) and not isinstance(value, Markup):  # text from a user never opens a tag or a quote
        assert "<" not in drawn and drawn.count('"') == 2 * (len(kwargs) - 2)


@pytest.mark.parametrize("kwargs", [{}, {"checked": True}, {"checked": False}, {"disabled": True, "name": "x"},
                                    {"aria_invalid": "false", "data_limit": 2000, "type": "text"}], ids=repr)
def test_bare_and_absent_attributes_are_wtforms_own(kwargs):
    assert form_markup.html_params(**kwargs) == form_markup.original(**kwargs)


def test_every_widget_draws_through_it(app):
    # create_app installed it: a widget added by a WTForms upgrade that kept its own copy would fail here
    assert core.html_params is form_markup.html_params
    assert widgets.html_params is form_markup.html_params
    assert core.Input.html_params is form_markup.html_params
    assert core.Button.html_params is form_markup.html_params
    kept_own = [name for name, widget in vars(core).items() if isinstance(widget, type)
                and "html_params" in vars(widget) and vars(widget)["html_params"].__func__ is not form_markup.html_params]
    assert kept_own == []


@pytest.mark.parametrize("value", HOSTILE + ["\ue000ruta-value\ue000", "x\ue000ruta-value\ue000y"], ids=repr)
@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_text_field_drawn_from_its_shell_is_the_field_drawn_whole(app, value, locale):
    """A text field without errors is drawn once with a value nobody types and kept as the text around it
    (form_markup._text_field): with any value (hostile ones, the placeholder itself), hint or mark, in either
    language, the block is the one drawn whole."""
    from flask_babel import force_locale
    from werkzeug.datastructures import MultiDict

    from caseapp.web.audit.forms import FilterForm
    from caseapp.web.cases.forms import EditForm

    with app.test_request_context(), force_locale(locale):
        for form in (FilterForm(formdata=MultiDict({"case": value, "user": value})),
                     FilterForm(formdata=None, data={"case": value}), EditForm(formdata=None, purposes=[])):
            for name in ("case", "user", "given_names", "phone", "document_number"):
                f = getattr(form, name, None)
                if f is None or f.type != "StringField":
                    continue
                if form.__class__.__name__ == "EditForm":
                    f.data = value
                for hint, sensitive in ((None, False), ("Por ejemplo <b>esto</b>", False), (None, True)):
                    first = form_markup.field(f, hint=hint, sensitive=sensitive)
                    again = form_markup.field(f, hint=hint, sensitive=sensitive)  # from the shell
                    whole = form_markup._draw(f, hint, sensitive)
                    assert first == again == whole, (name, value)
                    assert isinstance(again, Markup)


class _SameInBothLanguages(FlaskForm):
    class Meta:
        csrf = False

    spoa = StringField("SPOA", validators=[Length(max=2000)])  # a label no catalogue translates (an acronym)


def test_a_shell_is_kept_per_language_and_per_kind_of_hint(app):
    """The shell's key holds the language (the sensitive mark and the length limit are translated, and the number
    formatted, even where the label reads the same in both) and whether the hint is markup (a template's own, drawn
    as it is) or text (escaped): the same text as both must not share a block (outside review of 0824413)."""
    from flask_babel import force_locale

    with app.test_request_context():
        for locale in ("es_CO", "en", "es_CO"):
            with force_locale(locale):
                f = _SameInBothLanguages(formdata=None).spoa
                assert form_markup.field(f, sensitive=True) == form_markup._draw(f, None, True), locale
        trusted, text = Markup("<b>dato</b> &amp; más"), "<b>dato</b> &amp; más"
        f = _SameInBothLanguages(formdata=None).spoa
        assert form_markup.field(f, hint=trusted) == form_markup._draw(f, trusted, False)
        drawn = form_markup.field(f, hint=text)
        assert drawn == form_markup._draw(f, text, False) and "&lt;b&gt;dato&lt;/b&gt;" in drawn
