"""Blank forms drawn once per language and key, then served from memory.

A form that a page draws with no data and no errors (built with `formdata=None`, as every action form of the case
page is: a refused post comes back to the page as a flash, not as a bound form) gives the same markup at every
request for the same language and the same choices. The case page drew five such forms at every view, ten fields
and 37 options: about 1 ms of its 7.8 ms of CPU on SQLite, and the forms' construction on top.

Each such form's fields are a small template, a *fragment*, drawn by `Fragment(**key)`. A fragment sees its form,
`_`, `field` and its key, nothing else: no request, no reader, no CSRF token, no case, so that nothing that belongs
to one reader or one case can be served to another (tests/web/test_blank_forms.py reads the names every fragment
uses). What the page writes around a fragment (the form's action, its CSRF token, a record's version) stays in the
page. The key holds whatever the choices come from (the entities a consent may name, the kinds she may attach),
so a new entity or kind draws anew; the language is part of every key.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup

FRAGMENTS: list[Fragment] = []  # every fragment declared, for the test that reads their names


@dataclass(frozen=True, eq=False)
class Fragment:
    template: str
    build: Callable[..., Any]  # the blank form, from the key's values (keyword arguments)
    size: int  # drawings kept: each fragment its own, so a fragment with many keys evicts only its own

    def __post_init__(self):
        object.__setattr__(self, "_drawn", functools.lru_cache(maxsize=self.size)(self._draw))

    def __call__(self, **key) -> Markup:
        return self._drawn(str(get_locale() or ""), tuple(sorted(key.items())))

    def _draw(self, _language: str, key: tuple) -> Markup:
        values = dict(key)
        html = render_template(self.template, form=self.build(**values), **values)
        return Markup(html)  # noqa: S704 - a template's output, escaped by Jinja as it was drawn


def fragment(template: str, build: Callable[..., Any], size: int = 16) -> Fragment:
    """Declare a fragment: `template` draws the fields of `build(**key)`, the blank form, as `form`; `size`
    drawings are kept (two languages times the keys in use)."""
    declared = Fragment(template, build, size)
    FRAGMENTS.append(declared)
    return declared


def forget() -> None:
    """Draw every fragment afresh (tests that change the catalogue's labels or the language's files)."""
    for declared in FRAGMENTS:
        declared._drawn.cache_clear()
