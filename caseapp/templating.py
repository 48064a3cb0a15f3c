"""Jinja globals and filters: `can` for templates, local date formatting, navigation by role, and the labels of
coded values (`label(group, code)`, `action_label(code)`) so that no template shows a raw code."""
from __future__ import annotations

import re
from datetime import date, datetime

from flask import current_app, has_request_context, request, url_for
from flask_babel import format_datetime, format_decimal, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_eval_context
from markupsafe import Markup, escape

from caseapp import authz, crypto, form_markup, labels

# (endpoint, label, action that shows it). One list for the whole navigation.
NAVIGATION = (
    ("main.home", _l("Home"), None),
    ("cases.index", _l("Cases"), "case.search"),
    ("assignments.my_cases", _l("My cases"), "case.my_cases"),
    ("route.agenda", _l("Due dates"), "route.agenda"),
    ("referrals.inbox", _l("Referrals"), "referral.inbox"),
    ("route.shelters", _l("Shelters"), "shelter.view"),
    ("indicators.dashboard", _l("Indicators"), "stats.read"),
    ("audit.console", _l("Access log"), "audit.read"),
    ("admin.users", _l("Users"), "admin.manage"),
    ("admin.entities", _l("Entities"), "admin.manage"),
    ("assignments.reassign", _l("Reassign cases"), "case.reassign_bulk"),
)


def nav_items():
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return []
    return [
        {"endpoint": ep, "label": label, "url": plain_url(ep)}
        for ep, label, action in NAVIGATION
        if action is None or authz.can(user, action)
    ]


_PLAIN_URLS = "caseapp.plain_urls"
_PLAIN_URLS_KEPT = 512  # the app's templates draw ~40 such URLs; a few script roots at most


def plain_url(endpoint: str, **values) -> str:
    """`url_for` in templates: Flask's, remembered for the URLs that take nothing from the page (the navigation, the
    account links, the static files). Every page drew a dozen of them again, ~10 µs each. One per endpoint, static
    file and script root, kept per app; the rest go to Flask's url_for as they are."""
    if values and not (endpoint == "static" and values.keys() == {"filename"}) or not has_request_context():
        return url_for(endpoint, **values)
    key = (endpoint, values.get("filename"), request.script_root,
           request.blueprint if endpoint.startswith(".") else None)
    urls = current_app.extensions.setdefault(_PLAIN_URLS, {})
    url = urls.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(urls) < _PLAIN_URLS_KEPT:  # the script root comes with the request: a proxy could pass many
            urls[key] = url
    return url


def submission_token() -> str:
    """A form's one-time token (web.flow.SentOnce draws its field with it; a form drawn by hand, this global)."""
    return crypto.new_token(16)


@pass_eval_context
def gettext(eval_ctx, string: str, **variables) -> str:
    """`_()` and `gettext()` in templates: Jinja's newstyle gettext (escaped where the template escapes, always
    formatted), called directly. Jinja's own passes each string through three context.call()s (the `_` alias,
    the newstyle wrapper, the translation function): about 10 µs a string. A file template's literal texts are
    compiled in per language (caseapp.template_language); what reaches this is the rest (a variable text, a
    template from a string)."""
    return _translated(get_translations(), eval_ctx, string, variables)


def _translated(translations, eval_ctx, string: str, variables: dict) -> str:
    rv = translations.ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - the catalogue's own text, as in Jinja's gettext; `%` escapes the variables
    return rv % variables


def _bound_to_reader() -> dict:
    """`_()` and `can()` for this render, bound to the request's translations and to the signed-in user herself.
    A list page asks `can()` once a row, and `_()` is still asked for what a template could not have translated when
    it was compiled (caseapp.template_language); each ask found the translations again, or went through the
    `current_user` proxy's lookups again. Rendering inside force_locale gets that locale's (this
    runs when the render starts). The globals stay for macros imported without the template's context."""
    bound = {"_": _translate_with(get_translations()), "csrf_token": _csrf_token_once()}
    user = current_user._get_current_object()  # None outside a request (an e-mail rendered by a job)
    if user is not None and user.is_authenticated:
        bound["can"] = lambda action, obj=None: authz.can(user, action, obj)
    return bound


def _csrf_token_once():
    """`csrf_token()` for one render: Flask-WTF's token, asked of it once (a case page draws eight forms, and each
    ask read its configuration again). Made at the first form drawn, never for a page without one."""
    token = None

    def csrf_token() -> str:
        nonlocal token
        if token is None:
            token = generate_csrf()
        return token

    return csrf_token


def _translate_with(translations):
    @pass_eval_context
    def translate(eval_ctx, string: str, **variables) -> str:
        return _translated(translations, eval_ctx, string, variables)

    return translate


def init_app(app) -> None:
    form_markup.install()
    app.jinja_env.globals.update(_=gettext, gettext=gettext)  # after Flask-Babel installed Jinja's (create_app)
    app.jinja_env.globals.update(
        url_for=plain_url,
        can=lambda action, obj=None: authz.can(current_user, action, obj),
        referral_flags=lambda referral: (referral.case.safety_flags
                                         if authz.referral_carries_flags(current_user, referral) else []),
        nav_items=nav_items,
        get_locale=get_locale,
        field=form_markup.field,  # every form's fields: label, widget, hint, errors (accessible)
        label=labels.label,
        label_list=labels.label_list,
        action_label=labels.action_label,
        country_label=labels.country_label,
        territory_label=labels.territory_label,
        divipola_municipalities=labels.municipality_options,
        # a fresh one-time token per form drawn (several forms of a page must not share one): web.flow.SentOnce
        submission_token=submission_token,
    )
    app.context_processor(_bound_to_reader)
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["iso_date"] = iso_date
    # A date printed raw (`{{ consent.given_on }}`) reads dd/mm/aaaa too: one format on every screen.
    app.jinja_env.finalize = _finalize
    app.jinja_env.filters["number"] = lambda n: format_decimal(n) if n is not None else "—"


# --- dates: one format on every screen, dd/mm/aaaa (the Colombian way, in both languages) ------------------

DATE_PATTERN = "%d/%m/%Y"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def local_date(value) -> str:
    """A date (or an ISO date string, as identity fields are kept) as dd/mm/aaaa; "—" when there is none."""
    if not value:
        return "—"
    if isinstance(value, datetime):
        return local_datetime(value)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value  # not a date: shown as it is (escaped by autoescape)
    return value.strftime(DATE_PATTERN)


def local_datetime(value) -> str:
    """An instant in local time as dd/mm/aaaa HH:MM (Flask-Babel's configured time zone)."""
    if not value:
        return "—"
    if not isinstance(value, datetime):
        return local_date(value)
    return format_datetime(value, "dd/MM/yyyy HH:mm")


def iso_date(value) -> Markup:
    """A date for a machine (`<time datetime=...>`): ISO, marked safe so the dd/mm/aaaa finalize leaves it."""
    return escape(value.isoformat() if value else "")


def _finalize(value):
    """Every `{{ ... }}` passes here: a date, an instant or an ISO date string (the case summary keeps ISO dates for
    the API) is shown as dd/mm/aaaa; markup (a rendered form field, whose date input needs ISO) is left alone."""
    if isinstance(value, datetime):
        return local_datetime(value)
    if isinstance(value, date):
        return local_date(value)
    if type(value) is str and ISO_DATE.fullmatch(value):
        return local_date(value)
    return value
