"""The coordinator's counts by a case's places and recruitment method: published through the same protection as every
other dimension. A department where fewer than k women were exploited is reserved, and an attacker written here (a
linear programme over every published figure that involves it) cannot narrow it below k; the dashboard's ranked
chart of critical points shows it reserved, with no bar and no rank."""
from __future__ import annotations

import re
from datetime import date

import highspy
import numpy as np
import pytest

from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case

K = 5
DIM = "exploitation_department"
SCOPE = "trafficking_scope"


def _cases(app, sw, spec, months=6):
    """spec: [(municipality or None, scope, destination, how many)], identified in 2025 over the first `months`."""
    with app.app_context():
        n = 0
        for municipality, scope, destination, count in spec:
            for i in range(count):
                day = date(2025, 1 + (n % months), 10)
                make_case(sw.id, document_number=f"66{n:06d}", identified_on=day, linked_on=day,
                          trafficking_scope=scope, exploitation_municipality=municipality,
                          destination_country=destination, recruitment_method="job_offer" if i % 2 else "internet")
                n += 1


def _get(client, headers, by, extra=""):
    body = client.get(f"/api/v1/stats/cases?by={by}&period=2025{extra}", headers=headers).get_json()
    assert "rows" in body, body
    return body


@pytest.fixture
def santa_marta(app, factory):
    factory.entity("SMR", "Entidad de Santa Marta", territory="47001")
    sw = factory.user("sw.smr", roles=("social_worker",), entity="SMR")
    coord = factory.user("coord.smr", roles=("coordinator",), entity="SMR")
    return sw, token_for(app, coord), coord


SPEC = [("47001", "internal", None, 9), ("13001", "internal", None, 7), ("05001", "internal", None, 2),
        (None, "external", "ES", 6)]


def test_a_small_department_is_reserved_and_cannot_be_narrowed(app, client, santa_marta):
    sw, headers, _coord = santa_marta
    _cases(app, sw, SPEC)
    by_dept = _get(client, headers, DIM)
    rows = {r[DIM]: r for r in by_dept["rows"]}
    assert rows["05"]["count"] is None and rows["05"]["suppressed"]
    assert rows["47"]["count"] == 9 or rows["47"]["suppressed"]
    by_scope = {r[SCOPE]: r["count"] for r in _get(client, headers, SCOPE)["rows"]}
    depts = sorted(rows)
    scopes = ("internal", "external")
    col = {(d, s): i for i, (d, s) in enumerate((d, s) for d in depts for s in scopes)}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(len(col), np.zeros(len(col)), np.full(len(col), highspy.kHighsInf))

    def equation(cells, value):
        idx = np.array([col[c] for c in cells], dtype=np.int32)
        low, high = (value, value) if value is not None else (1.0, highspy.kHighsInf)  # a reserved row holds someone
        h.addRow(low, high, len(idx), idx, np.ones(len(idx)))

    for d in depts:  # every published figure that involves the department: alone, the scope's, the totals
        equation([(d, s) for s in scopes], rows[d]["count"])
    for s in scopes:
        equation([(d, s) for d in depts], by_scope.get(s, 0))
    equation(list(col), by_dept["total"] if not by_dept["total_suppressed"] else None)
    ranges = []
    target = [col[("05", s)] for s in scopes]
    for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
        for i in target:
            h.changeColCost(i, 1.0)
        h.changeObjectiveSense(sense)
        h.run()
        unbounded = h.getModelStatus() == highspy.HighsModelStatus.kUnbounded
        ranges.append(np.inf if unbounded else sum(h.getSolution().col_value[i] for i in target))
    assert ranges[0] <= 2 <= ranges[1]
    assert ranges[1] - ranges[0] >= K, ranges


@pytest.mark.parametrize(("query", "page"), [
    (f"by={DIM},{SCOPE}&period=2025", f"by={DIM}&by2={SCOPE}&period=2025"),  # paired with another dimension
    (f"by={SCOPE}&period=2025&{DIM}=05", f"by={SCOPE}&period=2025&f_{DIM}=05"),  # as a filter
    # by month: Antioquia's two women would be read month by month
    (f"by=month&period=2025&{DIM}=05", f"by=month&period=2025&f_{DIM}=05"),
    (f"by={DIM}&period=2025-Q1", f"by={DIM}&period=2025-Q1"),  # over a quarter
    ("by=recruitment_method,month&period=2025", "by=recruitment_method&by2=month&period=2025"),
    ("by=destination_country,age_group&period=2025", "by=destination_country&by2=age_group&period=2025"),
])
def test_places_are_published_over_a_year_and_alone(app, client, santa_marta, login_as, query, page):
    """The places and the recruitment method have one table, by year and by themselves: every other combination is
    refused with a message saying which one is published, on the API and on the counts page."""
    sw, headers, coord = santa_marta
    _cases(app, sw, SPEC)
    r = client.get(f"/api/v1/stats/cases?{query}", headers=headers)
    assert r.status_code == 422 and "rows" not in r.get_json()
    assert "por año y solos" in r.get_json()["message"]
    login_as(coord)
    html = client.get(f"/indicators/counts?{page}").get_data(as_text=True)
    assert "por año y solos" in html and "<tbody" not in html


def test_the_other_place_dimensions_are_published_protected(app, client, santa_marta):
    sw, headers, _coord = santa_marta
    _cases(app, sw, SPEC + [(None, "external", "MX", 2)])
    countries = {r["destination_country"]: r["count"] for r in _get(client, headers, "destination_country")["rows"]}
    assert countries["MX"] is None and countries["ES"] in (6, None) and countries["unknown"] in (18, None)
    assert None in (countries["ES"], countries["unknown"])  # the total less the rest would give Mexico's 2
    methods = {r["recruitment_method"]: r["count"] for r in _get(client, headers, "recruitment_method")["rows"]}
    assert set(methods) == {"job_offer", "internet"}
    assert all(v is None or v >= K for v in methods.values())
    # an address typed as a filter is refused and not echoed back
    r = client.get(f"/api/v1/stats/cases?by=sex&period=2025&{DIM}=Calle%205%20%23%2010", headers=headers)
    assert "Calle 5" not in r.get_data(as_text=True)


def test_the_dashboard_ranks_critical_points_and_reserves_small_ones(app, client, factory, login_as):
    sw = factory.user("sw.ctg", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord.ctg", roles=("coordinator",), entity="CTG")
    _cases(app, sw, [("47001", "internal", None, 14), ("13001", "internal", None, 30),
                     ("05001", "internal", None, 2)], months=1)
    login_as(coord)
    html = client.get("/indicators/?year=2025").get_data(as_text=True)
    assert 'id="critical-title"' in html, html[:3000]
    section = html[html.index('id="critical-title"'):]
    section = section[:section.index("</section>")]
    body = section[section.index("<tbody>"):section.index("</tbody>")]
    shown = []
    for row in re.findall(r"<tr><td>([^<]+)</td>\s*<td class=\"num\">(.*?)</td></tr>", body, re.S):
        shown.append((row[0], None if "reservado" in row[1] else int(row[1].replace(".", ""))))
    assert ("Antioquia", None) in shown and any(count for _name, count in shown), shown
    published = [count for _name, count in shown if count is not None]
    assert published == sorted(published, reverse=True)
    first_reserved = next(i for i, (_name, count) in enumerate(shown) if count is None)
    assert all(count is None for _name, count in shown[first_reserved:])  # a reserved count has no rank


def test_the_build_counts_places_in_one_table_each(app, client, santa_marta):
    """The build tabulates a place by itself over a year and nowhere else: what the readers refuse is not stored
    either (a stored cell no reader may ask for would still be a figure in the protection's programmes)."""
    from sqlalchemy import select

    from caseapp.extensions import db
    from caseapp.models.publication import PublishedCell
    from caseapp.services.indicators.dimensions import YEAR_ALONE_DIMS

    sw, headers, _coord = santa_marta
    _cases(app, sw, SPEC)
    assert _get(client, headers, DIM)["rows"]  # built
    with app.app_context():
        stored = set(db.session.execute(select(PublishedCell.base, PublishedCell.time, PublishedCell.dims)))
    with_places = {(base, time, dims) for base, time, dims in stored if set(dims.split(",")) & YEAR_ALONE_DIMS}
    assert {(time, dims) for _base, time, dims in with_places} == {("year", d) for d in YEAR_ALONE_DIMS}
    assert {base for base, _t, _d in with_places} >= {"identified", "linked", "identified:victims"}
    assert any(time == "month" for _b, time, _d in stored) and any("," in dims for _b, _t, dims in stored)
