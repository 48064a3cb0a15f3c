"""Locale selection: the user's saved preference, then the one chosen on the login page, then es_CO.

The browser's Accept-Language is ignored on purpose: office machines often run English browsers,
and the route's staff work in Spanish first. Outside a request (CLI, jobs) the default applies.
"""
from flask import current_app, has_request_context, session
from flask_login import current_user


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
