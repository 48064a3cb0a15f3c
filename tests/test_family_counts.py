"""The coordinator's counts of family members who received assistance (indirect victims) and of their steps: right,
apart from the direct victims (product 3.5 and the case counts do not move when family members are assisted),
protected like every other count - a small cell is reserved, and an attacker written here (a linear programme over
every published figure of the family's tables and the time hierarchy) cannot narrow it below k - and invisible to a
coordinator of another territory."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date
from itertools import product

import highspy
import numpy as np
import pytest

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import family
from caseapp.services.indicators.dimensions import FAMILY_MEMBERS, FAMILY_STEPS
from caseapp.services.indicators.publication.audit import audit
from caseapp.services.indicators.publication.family import family_tables
from caseapp.services.indicators.publication.protect import protect
from caseapp.services.indicators.publication.tables import parent_period
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case

K = 5
LEVELS = ("month", "bimester", "quarter", "semester", "year")
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def _cases(app, sw, n: int, start: int = 0) -> list[str]:
    """n women identified and linked in January to March 2025."""
    with app.app_context():
        return [make_case(sw.id, document_number=f"48{i:06d}", identified_on=date(2025, 1 + (i - start) % 3, 5),
                          linked_on=date(2025, 1 + (i - start) % 3, 5)) for i in range(start, start + n)]


def _family(app, sw, spec):
    """spec: [(case code, relationship, [(step kind, day done)])]: a family member each, with her steps done."""
    with app.test_request_context():
        user = db.session.get(User, sw.id)
        for i, (code, relationship, steps) in enumerate(spec):
            member = family.add_member(user, code, {"names": f"Familiar {i}", "relationship": relationship,
                                                    "age_group": "48+", "document_type": "CC",
                                                    "document_number": f"1047{i:06d}"})
            for kind, on in steps:
                family.add_member_step(user, code, member.id, kind=kind, status="done", on=on.isoformat())


def _family_json(client, headers, query: str) -> dict:
    r = client.get(f"/api/v1/stats/family?{query}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    body = r.get_json()
    for row in body["rows"]:  # a number from k up, or reserved (null): never a count from 1 to k-1
        assert row["count"] is None or row["count"] >= K, (query, row)
        assert (row["count"] is None) == row["suppressed"]
    assert body["total"] is None or body["total"] == 0 or body["total"] >= K
    return body


def _by(body: dict, dim: str) -> dict:
    return {r[dim]: r["count"] for r in body["rows"]}


@pytest.fixture
def cartagena(app, factory):
    sw = factory.user("sw.ctg", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord.ctg", roles=("coordinator",), entity="CTG")
    return sw, coord


def test_family_members_are_counted_right_and_apart_from_the_victims(app, client, login_as, cartagena):
    sw, coord = cartagena
    headers = token_for(app, coord)
    codes = _cases(app, sw, 10)
    direct = ["/api/v1/products/3.5/progress?period=2025&as_of=2025-12-31",
              "/api/v1/stats/cases?by=month&period=2025&basis=linked",
              "/api/v1/stats/cases?by=sex&period=2025&unit=victims",
              "/api/v1/stats/cases?by=age_group&period=2025"]
    before = [client.get(url, headers=headers).get_json() for url in direct]
    assert before[0]["achieved"] == 10
    assert _family_json(client, headers, "period=2025") | {"data_as_of": None} == {
        "rows": [], "total": 0, "total_suppressed": False, "k": K, "data_as_of": None}

    april, may = date(2025, 4, 7), date(2025, 5, 12)
    _family(app, sw, [(code, "mother", [("reception", april)]) for code in codes[:6]]
            + [(code, "sibling", [("reception", april), ("psychosocial_followup", may)]) for code in codes[:6]])

    # the women linked to the programme (product 3.5) and every count of the victims: not one figure moved
    assert [client.get(url, headers=headers).get_json() for url in direct] == before
    members = _family_json(client, headers, "by=relationship&period=2025")
    assert _by(members, "relationship") == {"mother": 6, "sibling": 6} and members["total"] == 12
    steps = _family_json(client, headers, "by=relationship&period=2025&unit=steps")
    assert _by(steps, "relationship") == {"mother": 6, "sibling": 12} and steps["total"] == 18
    assert _by(_family_json(client, headers, "by=step_kind&period=2025&unit=steps"), "step_kind") == {
        "reception": 12, "psychosocial_followup": 6}
    assert _by(_family_json(client, headers, "by=department&period=2025"), "department") == {"13": 12}
    # each member once, in the month of her first service; each step in its own month
    assert _by(_family_json(client, headers, "by=month&period=2025"), "month") == {"2025-04": 12}
    assert _by(_family_json(client, headers, "by=month&period=2025&unit=steps"), "month") == {
        "2025-04": 12, "2025-05": 6}

    login_as(coord)
    html = client.get("/indicators/?year=2025").get_data(as_text=True)
    assert re.search(r'class="big-figure"><strong>10</strong>', html), "the headline moved"
    section = html[html.index('id="family-title"'):]
    section = section[:section.index("</section>")]
    assert "Víctimas indirectas (familiares) atendidas" in section
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", section, re.S)]
    assert cells[cells.index("Madre"):cells.index("Madre") + 3] == ["Madre", "6", "6"]
    assert cells[cells.index("Hermano o hermana"):cells.index("Hermano o hermana") + 3] == [
        "Hermano o hermana", "6", "12"]
    assert cells[-3:] == ["Total", "12", "18"]


@pytest.fixture
def santa_marta(app, factory):
    """A territory with no product of the catalogue."""
    factory.entity("SMR", "Entidad de Santa Marta", territory="47001")
    sw = factory.user("sw.smr", roles=("social_worker",), entity="SMR")
    coord = factory.user("coord.smr", roles=("coordinator",), entity="SMR")
    return sw, token_for(app, coord)


RELATIONSHIPS = ("mother", "sibling", "father")
KINDS = ("reception", "psychosocial_followup")


def _small_world(app, sw):
    """Nine mothers (one service each, January to June), seven siblings (two services each), two fathers (one in
    March, one in April): the fathers are the small cell."""
    codes = _cases(app, sw, 9, start=500)
    spec = [(codes[i], "mother", [("reception", date(2025, 1 + i % 6, 20))]) for i in range(9)]
    spec += [(codes[i], "sibling", [("reception", date(2025, 4, 20)), ("psychosocial_followup", date(2025, 5, 20))])
             for i in range(7)]
    spec += [(codes[0], "father", [("reception", date(2025, 3, 25))]),
             (codes[1], "father", [("psychosocial_followup", date(2025, 4, 25))])]
    _family(app, sw, spec)


def _period_of(month: str, level: str) -> str:
    return month if level == "month" else month[:4] if level == "year" else parent_period(month, "month", level)


def test_a_small_family_cell_is_reserved_and_no_combination_of_tables_narrows_it(app, client, santa_marta):
    sw, headers = santa_marta
    _small_world(app, sw)
    by_relationship = _family_json(client, headers, "by=relationship&period=2025")
    assert _by(by_relationship, "relationship")["father"] is None  # two fathers: reserved

    # The attacker: the members m[r, month] and the steps s[r, kind, month] are unknowns; every figure of the
    # family's tables (members and steps, by relationship, kind, each period level, alone and filtered, the pairs,
    # the totals) is an equation; a member counted in a month had a step in it (m <= the steps of the month).
    m = {(r, mo): i for i, (r, mo) in enumerate(product(RELATIONSHIPS, MONTHS))}
    s = {(r, k, mo): len(m) + i for i, (r, k, mo) in enumerate(product(RELATIONSHIPS, KINDS, MONTHS))}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(len(m) + len(s), np.zeros(len(m) + len(s)), np.full(len(m) + len(s), highspy.kHighsInf))

    def equation(cols, value, coefs=None):
        low, high = (value, value) if value is not None else (1.0, highspy.kHighsInf)  # a reserved row holds someone
        h.addRow(low, high, len(cols), np.array(cols, dtype=np.int32),
                 np.array(coefs or [1.0] * len(cols), dtype=np.float64))

    def table(unit, query, dim, columns):
        """One published table: each listed row an equation over the unknowns it adds up; an unlisted one is 0."""
        body = _family_json(client, headers, f"{query}&unit={unit}")
        rows = _by(body, dim)
        for key, cols in columns.items():
            equation(cols, rows.get(key, 0))
        equation(sorted({c for cols in columns.values() for c in cols}), body["total"])
        return rows

    for unit, cells, names in (("members", m, ("r", "mo")), ("steps", s, ("r", "k", "mo"))):
        def where(cells=cells, names=names, **fixed):
            """The unknowns of the cells whose values are `fixed` (r: relationship, k: kind, mo: month)."""
            return [col for key, col in cells.items()
                    if all(dict(zip(names, key, strict=True))[n] == v for n, v in fixed.items())]

        table(unit, "by=relationship&period=2025", "relationship", {r: where(r=r) for r in RELATIONSHIPS})
        filters = [""] + [f"&relationship={r}" for r in RELATIONSHIPS]
        if unit == "steps":
            table(unit, "by=step_kind&period=2025", "step_kind", {k: where(k=k) for k in KINDS})
            for r in RELATIONSHIPS:
                table(unit, f"by=step_kind&period=2025&relationship={r}", "step_kind",
                      {k: where(r=r, k=k) for k in KINDS})
            filters += [f"&step_kind={k}" for k in KINDS]
        for level, extra in product(LEVELS, filters):
            fixed = dict(pair.split("=") for pair in extra.strip("&").split("&") if pair)
            fixed = {"r" if n == "relationship" else "k": v for n, v in fixed.items()}
            periods = {_period_of(mo, level) for mo in MONTHS}
            table(unit, f"by={level}&period=2025{extra}", level,
                  {p: [c for mo in MONTHS if _period_of(mo, level) == p for c in where(mo=mo, **fixed)]
                   for p in periods})
    for r, mo in m:  # a member counted in a month had a service in it
        equation([m[(r, mo)]] + [s[(r, k, mo)] for k in KINDS], None, [1.0] + [-1.0] * len(KINDS))
        h.changeRowBounds(h.getNumRow() - 1, -highspy.kHighsInf, 0.0)

    fathers = [m[("father", mo)] for mo in MONTHS]
    ranges = []
    for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
        for col in fathers:
            h.changeColCost(col, 1.0)
        h.changeObjectiveSense(sense)
        h.run()
        unbounded = h.getModelStatus() == highspy.HighsModelStatus.kUnbounded
        assert unbounded or h.getModelStatus() == highspy.HighsModelStatus.kOptimal, h.getModelStatus()
        ranges.append(np.inf if unbounded else sum(h.getSolution().col_value[c] for c in fathers))
    assert ranges[0] <= 2 <= ranges[1], ranges  # the truth is consistent with what was published
    assert ranges[1] - ranges[0] >= K, ranges


def test_the_protection_knows_each_member_is_among_her_steps():
    """Two fathers with five services between them, six mothers with six: protected as two unrelated tables, the
    fathers' reserved 2 would lie between 1 and the published 5 of their services - narrower than k. Protected as
    they are, one component whose members are among the steps, no small cell is narrower than k."""
    april = date(2025, 4, 1)
    members = Counter({(april, ("mother", "13")): 6, (april, ("father", "13")): 2})
    steps = Counter({(april, ("mother", "13", "reception")): 6, (april, ("father", "13", "reception")): 5})
    father = ("year", "2025", ("relationship",), ("father",))
    apart = family_tables(members, steps, 12)
    assert apart[0].name == FAMILY_MEMBERS and apart[0].subset_of == [(FAMILY_STEPS, True)]
    apart[0].subset_of = []
    hidden = {**protect([apart[0]], K)[0], **protect([apart[1]], K)[0]}
    assert father in hidden[FAMILY_MEMBERS] and father not in hidden[FAMILY_STEPS]
    apart[0].subset_of = [(FAMILY_STEPS, True)]  # what any reader knows
    assert (FAMILY_MEMBERS, father) in audit(apart, hidden, K).narrow_labels

    together = family_tables(members, steps, 12)
    hidden, _result = protect(together, K)
    assert father in hidden[FAMILY_MEMBERS] and audit(together, hidden, K).narrow == []


def test_a_coordinator_of_another_territory_sees_nothing_of_them(app, client, login_as, cartagena, santa_marta):
    sw, coord = cartagena
    codes = _cases(app, sw, 6)
    _family(app, sw, [(code, "mother", [("reception", date(2025, 4, 7))]) for code in codes])
    assert _by(_family_json(client, token_for(app, coord), "by=relationship&period=2025"), "relationship") == {
        "mother": 6}
    _sw, other = santa_marta
    for query in ("by=relationship&period=2025", "by=department&period=2025", "by=month&period=2025&unit=steps",
                  "by=step_kind&unit=steps&period=2025", "by=relationship&period=2025&department=13",
                  "by=month&relationship=mother"):
        body = _family_json(client, other, query)
        assert (body["rows"], body["total"]) == ([], 0), query


@pytest.mark.parametrize("query", [
    "by=names", "by=relationship,department,step_kind", "unit=personas", "by=relationship&unit=victims",
    "by=relationship&step_kind=reception",  # the members have no kind of step: not published
    "by=sex", "by=relationship&period=2025-13",
])
def test_questions_the_family_tables_do_not_answer_are_refused(app, client, cartagena, query):
    _sw, coord = cartagena
    r = client.get(f"/api/v1/stats/family?{query}", headers=token_for(app, coord))
    assert r.status_code == 422, (query, r.get_data(as_text=True)[:300])


def test_a_name_typed_as_a_value_finds_nothing_and_is_not_echoed(app, client, cartagena):
    sw, coord = cartagena
    codes = _cases(app, sw, 6)
    _family(app, sw, [(code, "mother", [("reception", date(2025, 4, 7))]) for code in codes])
    r = client.get("/api/v1/stats/family?by=month&relationship=Familiar%200", headers=token_for(app, coord))
    assert r.status_code == 200 and "Familiar" not in r.get_data(as_text=True)
    assert r.get_json()["rows"] == [] and r.get_json()["total"] == 0
