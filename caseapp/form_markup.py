"""WTForms' attribute markup, drawn by the same escaping with a quarter of the work.

WTForms draws every attribute of every field, option and label through `html_params`, which formats each pair with
`Markup.format` (a `string.Formatter` that escapes through three calls per value): about 40 µs for an input, and a
case page draws 39 (its five forms and their options), the console's filter 11. `html_params` below writes the same
text with `markupsafe.escape` itself: same attributes, same order, same escaping (tests/unit/test_form_markup.py
compares the two over hostile values), about a quarter of the time. Installed once, for every widget, by `install`.
"""
from __future__ import annotations

import functools
from numbers import Number

from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets import core

_ORIGINAL = core.html_params


def html_params(**kwargs) -> Markup:
    """WTForms' `html_params`: `key="value"` pairs sorted by key, `True` as a bare attribute, `False` left out,
    `data_`/`aria_` keys with hyphens."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(core.clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{_attribute(value)}"')
    return Markup(" ".join(params))  # noqa: S704 - every key and value above went through escape()


def _attribute(value) -> str:
    """An attribute's value as WTForms writes it between double quotes. escape() writes a quote as &#34;; a value
    already marked safe keeps its own, which WTForms writes as &quot;."""
    return str(escape(value)).replace(chr(34), "&quot;")


def install() -> None:
    """Every widget draws through `html_params` above: the module function the widgets call, the re-export fields
    use for labels, and the copies `Input` and `Button` keep as static methods."""
    core.html_params = html_params
    widgets.html_params = html_params
    core.Input.html_params = staticmethod(html_params)
    core.Button.html_params = staticmethod(html_params)
    # A select asks inspect.signature of its class's render_option on every draw (to pick a calling convention for
    # old overrides): a class's method does not change while the app runs, so the answer is kept per class.
    if not hasattr(core.Select._dispatch_render_option, "cache_info"):
        core.Select._dispatch_render_option = classmethod(
            functools.cache(core.Select._dispatch_render_option.__func__))


def original(**kwargs) -> Markup:
    """WTForms' own, for the test that compares the two."""
    return _ORIGINAL(**kwargs)


# --- the accessible field around a widget ------------------------------------------------------------------
#
# `field(f, hint=None, sensitive=False)`, for every form of every page: its label, its widget, its hint and its
# errors tied to it with aria-describedby. It was a Jinja macro (templates/macros/forms.html): a case page draws ten
# fields, the console's filter seven, and the macro's `set`s, tests and filters cost more than the widget itself.
# tests/web/test_field_markup.py draws every field of every form of the app both ways, with and without errors,
# hints and the sensitive mark, and finds the same HTML. A whitespace run that holds a line break is written "\n":
# between tags it is what the browser sees.

_SENSITIVE = _l("Sensitive data: answering is optional.")
_AT_MOST = _l("At most %(n)s characters.")
_CHOICE_TYPES = ("RadioField", "MultiCheckboxField")
_REQUIRED = ' <span class="req" aria-hidden="true">*</span>'


def _message(lazy, **variables) -> Markup:
    """A catalogue message as the templates write it (caseapp.templating.gettext): the translation is markup, the
    variables are escaped."""
    return Markup(str(lazy)) % variables  # noqa: S704 - the catalogue's own text; `%` escapes the variables


def field(f, hint=None, sensitive: bool = False) -> Markup:
    """The field `f` (a bound WTForms field) as the form's block: label, widget, hint, errors.

    A length limit is said and counted, never enforced by the browser's `maxlength`, which cuts a pasted text
    without a word: the server refuses an over-long text with a message and gives it back whole."""
    if f.type == "StringField" and type(f.widget) is widgets.TextInput and not f.errors:
        return _text_field(f, hint, sensitive)
    return _draw(f, hint, sensitive)


# A text field without errors is its block around its value: drawn once per field, language and hint with a value
# no user can type, then kept as the text before and after it (the auditor's console draws six on every page, ~30 us
# each). The value goes in as html_params writes one.
_VALUE = "\ue000ruta-value\ue000"  # a private-use character: never a translation's, a label's or an id's
_SHELLS: dict = {}
_SHELLS_MAX = 512  # every text field of every form, in both languages, with room to spare


def _text_field(f, hint, sensitive) -> Markup:
    try:
        # the language too: the sensitive mark and the length limit are translated, whatever the label
        key = (str(get_locale()), type(f), type(f.meta), f.id, f.name, str(f.label.text), str(hint or ""),
               isinstance(hint, Markup), sensitive,
               tuple(sorted(vars(f.flags).items())), tuple(sorted((f.render_kw or {}).items())),
               getattr(f, "_datalist", None))
        shell = _SHELLS.get(key)
    except TypeError:  # something unhashable in its flags or render_kw: drawn whole
        return _draw(f, hint, sensitive)
    if shell is None:
        data = f.data
        f.data = _VALUE
        try:
            drawn = str(_draw(f, hint, sensitive))
        finally:
            f.data = data
        shell = tuple(drawn.split(_VALUE)) if drawn.count(_VALUE) == 1 else ()
        if len(_SHELLS) >= _SHELLS_MAX:
            _SHELLS.clear()
        _SHELLS[key] = shell
    if not shell:  # its value drawn more than once (or not at all): no shell, drawn whole
        return _draw(f, hint, sensitive)
    return Markup(_attribute(f._value()).join(shell))  # noqa: S704 - the shell is _draw's; the value is escaped


def _draw(f, hint, sensitive) -> Markup:
    err_id = f"{f.id}-error"
    hint_id = f"{f.id}-hint"
    limit = f.flags.maxlength
    limit = limit if isinstance(limit, Number) else None
    counted = limit is not None and (f.type == "TextAreaField" or limit >= 500)
    has_hint = bool(hint or sensitive or counted)
    errors = f.errors
    described = " ".join(([hint_id] if has_hint else []) + ([err_id] if errors else []))
    out = ['\n  <div class="field', " has-error" if errors else "",
           " field-check" if f.type == "BooleanField" else "", '">\n']
    if f.type == "BooleanField":
        out += [str(f(**({"aria-describedby": described} if described else {}))), " ", str(escape(f.label)), "\n"]
    elif f.type in _CHOICE_TYPES:
        out += ["\n<fieldset", f' aria-describedby="{escape(described)}"' if described else "", ">\n<legend>",
                str(escape(f.label.text)), _REQUIRED if f.flags.required else "", "</legend>\n"]
        options = "".join(f'<label class="opt">{escape(opt())} {escape(opt.label.text)}</label>' for opt in f)
        out += ['<div class="checks">', options, "</div>"] if f.type == "MultiCheckboxField" else [options]
        out.append("\n</fieldset>\n")
    else:
        out += [f'\n<label for="{escape(f.id)}">', str(escape(f.label.text)), _REQUIRED if f.flags.required else "",
                "</label>\n"]
        attrs = {"aria-invalid": "true" if errors else "false"}
        if described:
            attrs["aria-describedby"] = described
        if f.flags.required:
            attrs["aria-required"] = "true"
        if limit is not None:
            attrs["maxlength"] = False
        if counted:
            attrs["data-limit"] = limit
        out += [str(f(**attrs)), "\n"]
    if has_hint:
        out += [f'<p class="hint" id="{escape(hint_id)}">',
                f'<span class="sensitive">{_message(_SENSITIVE)}</span> ' if sensitive else "",
                str(escape(hint or ""))]
        if counted:
            out.append(f' <span class="limit">{_message(_AT_MOST, n=format_decimal(limit))}</span> '
                       f'<span class="counter" data-counter-for="{escape(f.id)}" aria-live="polite"></span>')
        out.append("</p>")
    out.append("\n")
    if errors:
        out += [f'<p class="error" id="{escape(err_id)}">', str(Markup(" ").join(escape(e) for e in errors)), "</p>"]
    out.append("\n</div>\n")
    return Markup("".join(out))  # noqa: S704 - every value went through escape() or is a widget's own Markup


