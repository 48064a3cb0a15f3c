"""WTForms' attribute markup, drawn by the same escaping with a quarter of the work.

WTForms draws every attribute of every field, option and label through `html_params`, which formats each pair with
`Markup.format` (a `string.Formatter` that escapes through three calls per value): about 40 µs for an input, and a
case page draws 39 (its five forms and their options), the console's filter 11. `html_params` below writes the same
text with `markupsafe.escape` itself: same attributes, same order, same escaping (tests/unit/test_form_markup.py
compares the two over hostile values), about a quarter of the time. Installed once, for every widget, by `install`.
"""
from __future__ import annotations

import functools

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
            # escape() writes a quote as &#34;; a value already marked safe keeps its own, which WTForms writes as &quot;
            params.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))  # noqa: S704 - every key and value above went through escape()


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
