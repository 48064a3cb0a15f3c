"""The case table's rows and the safety badges drawn in Python (caseapp/web/cases/table.py, web/safety/badges.py) are
what the Jinja loop and macro drew: same cells, same labels in each language, same escaping over hostile values, and
a name only where the reader may see her identity."""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from flask import render_template_string, session, url_for

from caseapp.web.cases.table import case_rows, detail_urls
from caseapp.web.safety.badges import safety_badges

# The loop and macro as they were (templates/cases/_table.html, templates/safety/_badges.html at commit 0030b25).
JINJA_LOOP = """{% macro old_badges(flags) %}{% for f in flags %} <span class="badge badge-safety">{{ label('safety_flag', f.kind) }}</span>{% endfor %}{% endmacro %}
  {% for c in rows %}
    <tr>
      <td><a href="{{ url_for('cases.detail', code=c.code) }}">{{ c.code }}</a>{% if c.is_child %} <span class="badge badge-child">{{ _('Child') }}</span>{% endif %}{{ old_badges(c.safety_flags) }}</td>
      <td>{% if c.id in identity_readable %}{% if c.victim.erased %}<em>{{ _('Erased') }}</em>{% else %}{{ c.victim.full_name or '—' }}{% endif %}{% else %}<span class="muted">{{ _('Not shown') }}</span>{% endif %}</td>
      <td>{{ label('status', c.status) }}</td>
      <td>{{ c.owner_entity.code }}</td>
      <td>{{ c.identified_on|local_date }}</td>
    </tr>
  {% endfor %}"""

HOSTILE = '"><script>alert(1)</script>&amp;\''
SECRET = "Marisol Secreta"


class _Victim(SimpleNamespace):
    read = 0

    @property
    def full_name(self):
        _Victim.read += 1
        return self.name


READABLE = {1, 2, 3, 4, 6}


def _case(id_, **values):
    """A case as the old loop read it, and its row (services.registry.listing) as case_rows reads it."""
    case = dict(id=id_, code=f"CTG-2026-{id_:05d}", is_child=False, safety_flags=[], status="identified",
                owner_entity=SimpleNamespace(code="CTG"), identified_on=date(2026, 2, 3),
                victim=_Victim(name=SECRET, erased=False))
    case.update(values)
    victim = case["victim"]
    row = dict(flags=tuple(f.kind for f in case["safety_flags"]), owner_code=case["owner_entity"].code,
               identity_readable=id_ in READABLE, erased=victim.erased)
    return _Row(**case, **row)


class _Row(SimpleNamespace):
    @property
    def full_name(self):
        return self.victim.full_name


CASES = [
    _case(1),
    _case(2, code=HOSTILE, is_child=True, status="in_immediate_assistance",
          safety_flags=[SimpleNamespace(kind="threats_received"), SimpleNamespace(kind=HOSTILE)],
          owner_entity=SimpleNamespace(code=HOSTILE), victim=_Victim(name=HOSTILE, erased=False)),
    _case(3, victim=_Victim(name="", erased=False), identified_on=None, status="closed"),
    _case(4, victim=_Victim(name=SECRET, erased=True), status=HOSTILE),
    _case(5),  # not readable: her name is not shown
    _case(6, is_child=True, safety_flags=[SimpleNamespace(kind="threats_received")]),
]


def _cells(html) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("locale", ["es_CO", "en"])
def test_python_rows_are_the_jinja_rows(app, locale):
    with app.test_request_context():
        session["locale"] = locale
        expected = render_template_string(JINJA_LOOP, rows=CASES, identity_readable=READABLE)
        _Victim.read = 0
        drawn = str(case_rows(CASES))
    assert _cells(drawn) == _cells(expected)
    assert "<script>" not in drawn and str(drawn).count("<tr>") == len(CASES)
    # her name only where her identity may be read, and not read at all elsewhere (nor for an erased identity)
    assert drawn.count(SECRET) == 2 and _Victim.read == 4


@pytest.mark.parametrize("root", ["", "/ruta"])
def test_detail_links_are_url_for(app, root):
    """The table builds each row's link from one url_for: the same URL as url_for's own for any code, under an
    application root too (a code with a slash, a query or fragment mark, a percent, quotes or accents stays one
    path segment, quoted the same way)."""
    codes = ["CTG-2026-00001", HOSTILE, "a/b", "x?y=1#z", "100%", "Ñandú ü", " sp ace ", "~-._", "<i>Q\"</i>"]
    with app.test_request_context(base_url=f"http://localhost{root}/"):
        detail_url = detail_urls()
        for code in codes:
            assert detail_url(code) == url_for("cases.detail", code=code), code
        assert detail_url("CTG-2026-00001") == f"{root}/cases/CTG-2026-00001"


def test_badges_alone_escape_and_label(app):
    with app.test_request_context():
        session["locale"] = "es_CO"
        drawn = str(safety_badges([SimpleNamespace(kind=HOSTILE), SimpleNamespace(kind="threats_received")]))
        expected = render_template_string(JINJA_LOOP.split("\n", 1)[0] + "{{ old_badges(flags) }}",
                                          flags=[SimpleNamespace(kind=HOSTILE), SimpleNamespace(kind="threats_received")])
    assert drawn == expected and "<script>" not in drawn
    assert safety_badges([]) == ""
