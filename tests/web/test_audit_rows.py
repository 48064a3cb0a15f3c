"""The access log's rows drawn in Python (caseapp/web/audit/rows.py) are the rows the Jinja loop drew: same cells,
same labels in each language, same escaping, over hostile values a logged request can carry (a user name, an
object reference, an address, a detail are what somebody typed or sent)."""
from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest
from flask import render_template_string, session
from flask_babel import force_locale

from caseapp.labels import LABELS
from caseapp.web.audit.rows import audit_rows

# The loop as it was in templates/audit/_rows.html before it moved to Python (commit 0030b25).
JINJA_LOOP = """{% for row in items %}
    <tr{% if row.outcome != 'allowed' %} class="outcome-{{ row.outcome }}"{% endif %}>
      {% if full %}<td class="num">{{ row.seq }}</td>{% endif %}
      <td><time datetime="{{ row.at.isoformat() }}Z">{{ row.at|audit_time }}</time></td>
      <td>{{ row.actor or '—' }}</td>
      <td>{{ row.actor_entity or '—' }}</td>
      {% if full %}<td>{{ label_list('role', row.roles) or '—' }}</td>{% endif %}
      <td>{{ action_label(row.action) }} <code>{{ row.action }}</code></td>
      {% if full %}
      <td>{% if row.object_type %}<span title="{{ row.object_type }}">{{ label('audit_object', row.object_type) }}</span>{% if row.object_ref %}: <code>{{ row.object_ref }}</code>{% endif %}{% else %}—{% endif %}</td>
      <td>{{ label('audit_outcome', row.outcome) }}</td>
      <td>{{ row.ip or '—' }}</td>
      <td class="request-id">{{ row.request_id[:8] if row.request_id else '—' }}</td>
      <td class="detail">{{ row.detail or '' }}</td>
      {% endif %}
    </tr>
  {% endfor %}"""

HOSTILE = '"><script>alert(1)</script>&amp;\''


def _row(seq, **values):
    row = dict(seq=seq, at=datetime(2026, 3, 1, 4, 59, 58), actor="sw_ctg", actor_entity="CTG",
               roles="social_worker", action="case.view", object_type="case", object_ref="CTG-2026-00001",
               outcome="allowed", ip="10.0.0.7", request_id="0123456789abcdef", detail=None)
    row.update(values)
    return SimpleNamespace(**row)


ROWS = [
    _row(1),
    _row(2, actor=HOSTILE, actor_entity=HOSTILE, roles=f"lawyer,{HOSTILE},auditor", action=HOSTILE,
         object_type=HOSTILE, object_ref=HOSTILE, outcome="denied", ip=HOSTILE, request_id=HOSTILE,
         detail='{"q": "</td><img src=x onerror=alert(1)>"}'),
    _row(3, actor=None, actor_entity=None, roles=None, object_type=None, object_ref=None, ip=None,
         request_id=None, outcome="error", action="request:/cases/<b>x</b>"),
    _row(4, object_ref=None, action="login.failure", outcome=HOSTILE, roles="", at=datetime(2026, 12, 31, 23, 0)),
    _row(5, action="not.an.action", object_type="user", roles="coordinator,admin"),
    _row(6),  # labels repeat across rows
    _row(7, actor=HOSTILE, actor_entity=HOSTILE, action=HOSTILE, object_type=HOSTILE, object_ref=HOSTILE,
         ip=HOSTILE),  # hostile values again: escaped once for the table, shown escaped on every row
    _row(8, actor="case", actor_entity="allowed", object_ref="case.view"),  # a value that is also a code or label
]


def _cells(html) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("locale", ["es_CO", "en"])
def test_python_rows_are_the_jinja_rows(app, locale, full):
    with app.test_request_context():
        session["locale"] = locale
        expected = render_template_string(JINJA_LOOP, items=ROWS, full=full)
        drawn = audit_rows(ROWS, full)
    assert _cells(drawn) == _cells(expected)
    assert "<script>" not in str(drawn) and "<img" not in str(drawn)
    assert str(drawn).count("<tr") == len(ROWS)


@pytest.mark.parametrize("at", [datetime(2026, 3, 1, 4, 59, 58), datetime(2026, 1, 1, 0, 0, 0, 999999),
                                datetime(2025, 12, 31, 5, 0, 1), datetime(2024, 2, 29, 23, 9, 7)])
def test_a_log_instant_is_shown_in_colombian_time_to_the_second(at):
    from caseapp.timeutil import to_local
    from caseapp.web.audit.rows import audit_time

    assert audit_time(at) == to_local(at).strftime("%d/%m/%Y %H:%M:%S")
    assert audit_time(datetime(2026, 3, 1, 4, 59, 58)) == "28/02/2026 23:59:58"  # UTC-5, the day before


def test_rows_speak_the_readers_language(app):
    texts = {}
    for locale in ("es_CO", "en", "es_CO"):
        with app.test_request_context():
            session["locale"] = locale
            texts.setdefault(locale, set()).add(str(audit_rows([_row(1, outcome="denied")], True)))
    assert len(texts["es_CO"]) == 1  # the same text both times Spanish was asked
    spanish, english = texts["es_CO"].pop(), texts["en"].pop()
    with app.test_request_context():
        with force_locale("es_CO"):
            denied_es = str(LABELS["audit_outcome"]["denied"])
        with force_locale("en"):
            denied_en = str(LABELS["audit_outcome"]["denied"])
    assert denied_es != denied_en
    assert f"<td>{denied_es}</td>" in spanish and f"<td>{denied_en}</td>" in english
    # Colombian time: 04:59:58 UTC on 1 March is 23:59:58 on 28 February in Bogotá
    assert "28/02/2026 23:59:58" in spanish and 'datetime="2026-03-01T04:59:58Z"' in spanish
