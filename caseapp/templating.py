"""Jinja globals and filters: `can` for templates, local date formatting, navigation by role, and the labels of
coded values (`label(group, code)`, `action_label(code)`) so that no template shows a raw code."""
from __future__ import annotations

import re
from datetime import date, datetime

from flask import url_for
from flask.globals import _cv_request
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
_PLAIN_URLS_KEPT = 512  # the app's templates draw ~60 kinds of URL; a few script roots at most
_FLASK = object()  # a kind of URL left to Flask's url_for every time


def plain_url(endpoint: str, **values) -> str:
    """`url_for` in templates: Flask's answer, found faster. A case page draws about forty URLs, at ~20 us each in
    Flask's url_for (its proxies, its defaults, the map's search for a rule): a twentieth of the page.

    What is learnt, per app, script root (and host, where rules match hosts) and kind of URL (endpoint and the
    names of its values), on its first use with no value None:
    a URL that takes nothing from the page is kept whole; one that does, when its endpoint has one rule, with no
    defaults and no host or subdomain, is built by that rule (the one werkzeug's map would choose, and the very
    builder it would call) under the request's script root. Whatever else - a value of None (Flask drops it), a
    rule that cannot build the values, a URL that is not relative, an app with url_defaults - goes to Flask, as
    does every first use, whose answer the learnt way must give too or is never used."""
    ctx = _cv_request.get(None)
    adapter = ctx.url_adapter if ctx is not None else None
    if adapter is None or endpoint[:1] == ".":
        return url_for(endpoint, **values)
    known = ctx.app.extensions.get(_PLAIN_URLS)  # (script root[, subdomain, server name], endpoint, *names) -> way
    if known is None:
        known = ctx.app.extensions.setdefault(_PLAIN_URLS, {})
    # the host matters only where rules match it; elsewhere a client's Host header would fill the memory up
    hosted = ctx.app.subdomain_matching or ctx.app.url_map.host_matching
    key = (adapter.script_name, adapter.subdomain, adapter.server_name, endpoint, *values) if hosted else (
        adapter.script_name, endpoint, *values)
    way = known.get(key)
    if way is None:
        url = url_for(endpoint, **values)
        if len(known) < _PLAIN_URLS_KEPT and None not in values.values():  # a proxy could pass many script roots
            known[key] = _learn(ctx.app, adapter, endpoint, values, url)
        return url
    if way is _FLASK:
        return url_for(endpoint, **values)
    if type(way) is str:
        return way
    url = _built(way, adapter, values) if None not in values.values() else None
    return url if url is not None else url_for(endpoint, **values)  # its error, or its answer


def _built(rule, adapter, values: dict) -> str | None:
    """`rule`'s relative URL for `values` under the request's script root, as werkzeug's map builds it, or None
    where the map would do otherwise (the rule refuses the values; another subdomain: an absolute URL)."""
    built = rule.build(values)
    if built is None or built[0] != adapter.subdomain:
        return None
    return f"{adapter.script_name.rstrip('/')}/{built[1].lstrip('/')}"


def _learn(app, adapter, endpoint: str, values: dict, url: str):
    """How to draw this kind of URL again (plain_url): the URL itself, the endpoint's rule, or _FLASK."""
    if any(app.url_default_functions.values()) or not url.startswith("/") or any(k[:1] == "_" for k in values):
        return _FLASK
    if not values:
        return url
    rules = list(app.url_map.iter_rules(endpoint))
    rule = rules[0] if len(rules) == 1 else None
    if rule is None or rule.defaults or rule.websocket or rule.host or rule.subdomain or app.url_map.host_matching:
        return _FLASK
    return rule if _built(rule, adapter, values) == url else _FLASK


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
