"""The access log's rows as table rows (`audit/_rows.html` draws the table around them).

Drawn here, not by a Jinja loop: a console page is 50 rows of up to ten cells, and Jinja spent about 40 µs a row
on them (an attribute lookup, `finalize` and `escape` per cell, a context call per label), two fifths of the page.
Every value goes through `markupsafe.escape`, as autoescaping would; labels come from the one catalogue
(`caseapp.labels`), each code labelled once per table. Free text (user, entity, object, address, detail) is shown
as stored: no cell here is a date for `finalize` to reformat, and a user name that looks like one stays as it is.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from caseapp import labels
from caseapp.timeutil import to_local

NONE = "—"


def audit_time(value) -> str:
    """A log instant in Colombian time, to the second (auditors compare rows, so no rounding). Its fields formatted
    as numbers: strftime took twice as long, and an f-string 1.6 times, 50 times a console page."""
    if not value:
        return NONE
    t = to_local(value)
    return "%02d/%02d/%04d %02d:%02d:%02d" % (t.day, t.month, t.year, t.hour, t.minute, t.second)  # noqa: UP031


def audit_rows(items, full: bool = True) -> Markup:
    """The `<tr>` of each row: every column for auditors (`full`); who, entity, action and when otherwise."""
    seen: dict = {}

    def once(kind: str, code, draw) -> str:
        key = (kind, code)
        text = seen.get(key)
        if text is None:
            text = seen[key] = str(escape(draw(code)))
        return text

    def shown(value) -> str:
        """A value that repeats down the table (who, her entity, the case, the address), escaped once. Values come
        from the database as plain `str`, never Markup (equal to its text, not escaped)."""
        return once("text", value, str) if value else NONE

    out = []
    add = out.append
    for row in items:
        outcome = row.outcome
        add("<tr>" if outcome == "allowed" else f'<tr class="outcome-{escape(outcome)}">')
        if full:
            add(f'<td class="num">{int(row.seq)}</td>')
        at = row.at  # a datetime: its two texts are digits and separators, nothing to escape
        add(f'<td><time datetime="{at.isoformat()}Z">{audit_time(at)}</time></td>'
            f"<td>{shown(row.actor)}</td><td>{shown(row.actor_entity)}</td>")
        if full:
            add(f"<td>{once('roles', row.roles, lambda c: labels.label_list('role', c)) or NONE}</td>")
        add(f"<td>{once('action', row.action, labels.action_label)} <code>{shown(row.action)}</code></td>")
        if full:
            object_type = row.object_type
            if object_type:
                add(f'<td><span title="{shown(object_type)}">'
                    f"{once('object', object_type, lambda c: labels.label('audit_object', c))}</span>")
                add(f": <code>{shown(row.object_ref)}</code></td>" if row.object_ref else "</td>")
            else:
                add(f"<td>{NONE}</td>")
            request_id = row.request_id
            add(f"<td>{once('outcome', outcome, lambda c: labels.label('audit_outcome', c))}</td>"
                f"<td>{shown(row.ip)}</td>"
                f'<td class="request-id">{escape(request_id[:8] if request_id else NONE)}</td>'
                f'<td class="detail">{escape(row.detail or "")}</td>')
        add("</tr>\n")
    return Markup("".join(out))  # noqa: S704 - every value above went through escape()
