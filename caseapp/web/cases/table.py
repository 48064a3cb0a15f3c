"""The rows of the case table (the case list and search results; `templates/cases/_table.html` draws the table).

Drawn here, not by a Jinja loop: the list is 50 rows, and the loop spent about 35 µs a row on attribute lookups,
`finalize` and `escape` per cell and a context call per label, a fifth of the page. Every value goes through
`markupsafe.escape`, as autoescaping would; free text (her name, an entity's code) is shown as stored, never taken
for a date by the templates' `finalize`. A row carries her name only where the reader may see her identity
(services.registry.listing, which alone decides it); elsewhere the cell says it is not shown.
"""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from caseapp import labels
from caseapp.templating import local_date
from caseapp.web.safety.badges import flag_badges


def detail_urls():
    """`code -> url_for("cases.detail", code=code)` at the cost of one url_for a table, not one a row (a twentieth of
    the list page): the rule's path up to the code, then the code quoted by the rule's (default) converter, as url_for
    does."""
    head = url_for("cases.detail", code="-")
    if not head.endswith("/-"):
        raise RuntimeError("the case page's rule no longer ends with its code")
    url_map = current_app.url_map
    head, to_url = head[:-1], url_map.converters["default"](url_map).to_url
    return lambda code: head + to_url(code)


def case_rows(rows) -> Markup:
    """The `<tr>` of each row (services.registry.listing): code (with its child and safety badges), name or why it
    is not shown, status, entity and date of identification."""
    child = f' <span class="badge badge-child">{escape(_("Child"))}</span>'
    erased = f"<em>{escape(_('Erased'))}</em>"
    hidden = f'<span class="muted">{escape(_("Not shown"))}</span>'
    statuses: dict = {}
    detail_url = detail_urls()
    out = []
    add = out.append
    for row in rows:
        if row.identity_readable:
            name = erased if row.erased else escape(row.full_name or "—")
        else:
            name = hidden
        status = statuses.get(row.status)
        if status is None:
            status = statuses[row.status] = escape(labels.label("status", row.status))
        code = escape(row.code)
        add(f'<tr><td><a href="{escape(detail_url(row.code))}">{code}</a>'
            f'{child if row.is_child else ""}{flag_badges(row.flags)}</td>'
            f"<td>{name}</td><td>{status}</td><td>{escape(row.owner_code)}</td>"
            f"<td>{escape(local_date(row.identified_on))}</td></tr>\n")
    return Markup("".join(out))  # noqa: S704 - every value above went through escape()
