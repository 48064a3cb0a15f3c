"""Jinja globals and filters: `can` for templates, local date formatting, navigation by role, and the labels of
coded values (`label(group, code)`, `action_label(code)`) so that no template shows a raw code."""
from __future__ import annotations

from flask import url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caseapp import authz, labels

# (endpoint, label, action that shows it). One list for the whole navigation.
NAVIGATION = (
    ("main.home", _l("Home"), None),
    ("cases.index", _l("Cases"), "case.search"),
    ("route.agenda", _l("Due dates"), "route.agenda"),
    ("referrals.inbox", _l("Referrals"), "referral.inbox"),
    ("route.shelters", _l("Shelters"), "shelter.view"),
    ("indicators.dashboard", _l("Indicators"), "stats.read"),
    ("audit.console", _l("Access log"), "audit.read"),
    ("admin.users", _l("Users"), "admin.manage"),
    ("admin.entities", _l("Entities"), "admin.manage"),
)


def nav_items():
    if not current_user.is_authenticated:
        return []
    return [
        {"endpoint": ep, "label": label, "url": url_for(ep)}
        for ep, label, action in NAVIGATION
        if action is None or authz.can(current_user, action)
    ]


def init_app(app) -> None:
    app.jinja_env.globals.update(
        can=lambda action, obj=None: authz.can(current_user, action, obj),
        nav_items=nav_items,
        get_locale=get_locale,
        label=labels.label,
        label_list=labels.label_list,
        action_label=labels.action_label,
        country_label=labels.country_label,
        territory_label=labels.territory_label,
        divipola_municipalities=labels.municipality_options,
    )
    app.jinja_env.filters["local_date"] = lambda d: format_date(d, "medium") if d else "—"
    app.jinja_env.filters["local_datetime"] = lambda d: format_datetime(d, "medium") if d else "—"
    app.jinja_env.filters["number"] = lambda n: format_decimal(n) if n is not None else "—"
