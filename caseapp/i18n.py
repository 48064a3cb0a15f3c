"""Locale selection: the user's saved preference, then the one chosen on the login page, then es_CO.

The browser's Accept-Language is ignored on purpose: office machines often run English browsers,
and the route's staff work in Spanish first. Outside a request (CLI, jobs) the default applies.
"""
import functools
from types import SimpleNamespace

import flask_babel
import flask_wtf.i18n
from babel import support
from flask import current_app, g, has_request_context, session
from flask_babel import Domain, get_locale
from flask_login import current_user
from wtforms.i18n import messages_path


def select_locale() -> str:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    languages = current_app.config["LANGUAGES"]
    preferred = getattr(current_user, "locale", None) if current_user else None
    if preferred in languages:
        return preferred
    chosen = session.get("locale")
    return chosen if chosen in languages else default


class RequestDomain(Domain):
    """flask_babel's message domain, with the translations of the request's locale held for the rest of the request.

    flask_babel finds them again for every string (the locale looked up, its name formatted, a cache key built):
    about 14 µs a string, 7 ms of a case page's 540. They are held with the locale they belong to, so force_locale
    and refresh, which replace or drop the locale, are still obeyed."""

    def get_translations(self):
        ctx = babel_context()
        held = getattr(ctx, "ruta_translations", None)
        if held is not None and held[0] is getattr(ctx, "babel_locale", None):
            return held[1]
        translations = super().get_translations()
        if ctx is not None:
            ctx.ruta_translations = (getattr(ctx, "babel_locale", None), translations)
        return translations


@functools.lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def wtforms_translations() -> support.Translations | None:
    """WTForms' own messages ("Este campo es obligatorio.") in the request's locale, read from disk once per locale.

    flask_wtf reads and parses WTForms' catalogue once per request that builds a form: 3.5 % of a case page. The
    catalogue never changes while the app runs; the locale is still the request's."""
    if not has_request_context():
        return None
    return _wtforms_catalogue(str(get_locale()))


def install_wtforms_translations() -> None:
    """Every form's messages through `wtforms_translations` (flask_wtf's forms look the function up at each call)."""
    flask_wtf.i18n._get_translations = wtforms_translations


def babel_context() -> SimpleNamespace | None:
    """flask_babel's per-request state (its locale, forced locale, translations): the namespace it keeps on `g`, or
    None outside an app context, as its own `_get_current_context` gives it. That one asked the `g` proxy three times
    (`not g`, `hasattr`, the attribute), ~4 us, and a translated text asks for it twice (the domain, then the
    translations RequestDomain holds; the locale too until they are held): 15 us a lazy text, 280 us for the
    console's outcome list of four options."""
    try:
        found = g._get_current_object()
    except RuntimeError:  # no app context: what `not g` said
        return None
    ctx = found.__dict__.get("_flask_babel")
    if ctx is None:
        ctx = found._flask_babel = SimpleNamespace()
    return ctx


def install_babel_context() -> None:
    """flask_babel finds its per-request state through `babel_context` (its functions look the name up in their
    module at each call)."""
    flask_babel._get_current_context = babel_context
