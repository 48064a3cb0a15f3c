"""Anonymised counts read from the protected publication: published counts equal a slow reference count; primary
and complementary suppression hold against recovery from totals and against the differencing attack (two queries,
one filter apart). A suppressed count is answered as null with "suppressed": true, never as "<k"."""
from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from caseapp.errors import Forbidden, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.services.indicators import stats
from tests.cases_factory import make_case

DIMS = ("entity", "sex", "age_group", "trafficking_scope", "exploitation_purpose")
PARTITION = set(DIMS) - {"exploitation_purpose"}  # a case may have several purposes: not a partition


def _users(factory, entities=("CTG", "BOG", "MED")):
    # Entities of Santa Marta (47001): no product of the catalogue counts its cases, so the tables here are the cases'
    # alone (Cartagena's product 3.5, an official figure, would be one more published relation; see
    # tests/test_publication_attacks.py).
    for code in entities:
        factory.entity(code, territory="47001")
    workers = {e: factory.user(f"sw.{e.lower()}", roles=("social_worker",), entity=e) for e in entities}
    coordinator = factory.user("coord", roles=("coordinator",), entity=entities[0])
    return workers, coordinator


def _coordinator(test_user):
    return db.session.get(User, test_user.id)


def _random_cases(workers, n, seed):
    rnd = random.Random(seed)
    for i in range(n):
        entity = rnd.choices(list(workers), weights=[6, 3, 1][: len(workers)])[0]
        make_case(workers[entity].id, document_number=f"9{seed}{i:05d}",
                  sex=rnd.choices(["female", "male", "intersex"], weights=[7, 3, 0.3])[0],
                  age_group=rnd.choice(["18-20", "21-23", "27-29", "9-17"]),
                  trafficking_scope=rnd.choices(["internal", "external"], weights=[2, 1])[0],
                  purposes=tuple(rnd.sample(["sexual_exploitation", "begging", "forced_labour"],
                                            rnd.choice([1, 1, 1, 2]))),
                  identified_on=date(2025, rnd.randint(1, 12), rnd.randint(1, 28)))


def _v(count, suppressed):
    return None if suppressed else count


def test_primary_suppression_and_the_setting(ctx, factory):
    workers, coord = _users(factory, ("CTG",))
    admin = factory.user("admin", roles=("admin",), entity="CTG")
    for i in range(6):
        make_case(workers["CTG"].id, document_number=f"1{i}", sex="female")
    for i in range(3):
        make_case(workers["CTG"].id, document_number=f"2{i}", sex="male")
    user = _coordinator(coord)
    table = stats.cases_table(user, "sex", period="2025").as_json()
    counts = {r["sex"]: r["count"] for r in table["rows"]}
    assert counts["male"] is None
    assert counts["female"] is None  # complementary: 9 - 6 would give the 3 away
    assert all(r["suppressed"] for r in table["rows"])
    assert table["total"] == 9
    stats.set_k(db.session.get(User, admin.id), 3, 0)
    table = stats.cases_table(user, "sex", period="2025").as_json()
    assert {r["sex"]: r["count"] for r in table["rows"]} == {"female": 6, "male": 3}
    assert table["k"] == 3
    with pytest.raises(Forbidden):
        stats.set_k(user, 10, 1)  # a coordinator cannot change it
    with pytest.raises(Invalid):
        stats.set_k(db.session.get(User, admin.id), 1, 1)


def test_complementary_suppression_protects_row_and_column_totals(ctx, factory):
    workers, coord = _users(factory, ("CTG", "BOG"))
    n = itertools.count()
    for entity, sex, count in (("CTG", "female", 11), ("CTG", "male", 1), ("BOG", "female", 10), ("BOG", "male", 10)):
        for _i in range(count):
            make_case(workers[entity].id, document_number=f"3{next(n)}", sex=sex)
    user = _coordinator(coord)
    table = stats.cases_table(user, "entity,sex", period="2025")
    cells = {(r.values["entity"], r.values["sex"]): r.suppressed for r in table.rows}
    assert cells[("CTG", "male")]  # primary
    # every row and column holding a suppressed cell holds at least two, so none is "total minus the rest"
    for dim_index, values in ((0, ("CTG", "BOG")), (1, ("female", "male"))):
        for value in values:
            line = [s for key, s in cells.items() if key[dim_index] == value]
            assert sum(line) != 1
    # row and column totals are published, and cannot give the male CTG case away
    margins = {key: (count, hidden) for key, (count, hidden) in table.margins.items()}
    assert margins[("entity", "CTG")] == (12, False)
    assert margins[("sex", "male")] == (11, False)
    published = {key: c for key, c in ((k, r.count) for k, r in
                                        ((tuple(r.values.values()), r) for r in table.rows)) if not cells[key]}
    assert ("CTG", "female") not in published and ("BOG", "male") not in published


def test_differencing_attack_with_two_queries(ctx, factory, client, login_as):
    """One man among twelve cases in CTG: asking for all men, then for the men outside CTG, must not tell him apart."""
    workers, coord = _users(factory, ("CTG", "BOG"))
    n = itertools.count()
    for entity, sex, count in (("CTG", "female", 11), ("CTG", "male", 1), ("BOG", "female", 10), ("BOG", "male", 10)):
        for _i in range(count):
            make_case(workers[entity].id, document_number=f"4{next(n)}", sex=sex)
    user = _coordinator(coord)
    everyone = stats.cases_table(user, "sex", period="2025").as_json()
    in_bog = stats.cases_table(user, "sex", filters={"entity": "BOG"}, period="2025").as_json()
    in_ctg = stats.cases_table(user, "sex", filters={"entity": "CTG"}, period="2025").as_json()
    men_all = {r["sex"]: r["count"] for r in everyone["rows"]}["male"]
    men_bog = {r["sex"]: r["count"] for r in in_bog["rows"]}["male"]
    men_ctg = {r["sex"]: r["count"] for r in in_ctg["rows"]}["male"]
    assert men_all == 11  # large enough to publish on its own
    assert men_ctg is None
    # the attack: men_all - men_bog would be 1. It is impossible because men_bog is hidden too.
    assert men_bog is None
    # one fewer filter: the CTG total (12) minus the CTG women (11) would also be 1
    women_ctg = {r["sex"]: r["count"] for r in in_ctg["rows"]}["female"]
    assert in_ctg["total"] == 12 and women_ctg is None
    # the same cell asked the other way round answers the same
    by_entity_men = stats.cases_table(user, "entity", filters={"sex": "male"}, period="2025").as_json()
    assert {r["entity"]: r["count"] for r in by_entity_men["rows"]} == {"BOG": None, "CTG": None}
    assert by_entity_men["total"] == 11


def _collect(user, k):
    """Every query of one or two dimensions with zero or one filter over DIMS; published cells by condition set."""
    published: dict[frozenset, object] = {}
    lines = []

    def put(conditions, value):
        key = frozenset(conditions.items())
        if key in published:
            assert published[key] == value, f"inconsistent answers for {dict(key)}"
        published[key] = value

    values = {d: sorted({r["" + d] for r in stats.cases_table(user, d, period="2025").as_json()["rows"]}) for d in DIMS}
    for d in DIMS:
        for f in [None] + [x for x in DIMS if x != d]:
            for fv in ([None] if f is None else values[f]):
                filters = {f: fv} if f else {}
                table = stats.cases_table(user, d, filters=filters, period="2025").as_json()
                put(filters, table["total"])
                line = []
                for row in table["rows"]:
                    put({**filters, d: row[d]}, row["count"])
                    line.append(row["count"])
                if d in PARTITION:
                    lines.append((table["total"], line))
    for d1, d2 in itertools.combinations(DIMS, 2):
        table = stats.cases_table(user, f"{d1},{d2}", period="2025")
        for row in table.rows:
            put(dict(row.values), _v(row.count, row.suppressed))
        for (dim, value), (count, hidden) in table.margins.items():
            put({dim: value}, _v(count, hidden))
        for dim, other in ((d1, d2), (d2, d1)):
            if other not in PARTITION:
                continue
            for value in {r.values[dim] for r in table.rows}:
                margin = _v(*table.margins[(dim, value)])
                lines.append((margin, [_v(r.count, r.suppressed) for r in table.rows
                                       if r.values[dim] == value]))
    return published, lines


@pytest.mark.parametrize("seed", [1, 2])
def test_no_query_pair_or_total_reveals_a_small_count(ctx, factory, seed):
    """Brute force over every one- and two-dimension query, with and without a filter."""
    workers, coord = _users(factory)
    _random_cases(workers, 70, seed)
    user = _coordinator(coord)
    k = stats.get_k()
    published, lines = _collect(user, k)
    small = None
    assert sum(1 for v in published.values() if v == small) >= 10  # the data does exercise suppression
    for value in published.values():
        assert value is None or value == 0 or value >= k
    # differencing: a cell and the same cell with one condition fewer never differ by 1..k-1
    for conditions, value in published.items():
        if value == small:
            continue
        for c in conditions:
            wider = published.get(conditions - {c})
            if wider is None or wider == small:
                continue
            assert not 0 < wider - value < k, f"{dict(conditions)} vs without {c}: {wider} - {value}"
    # totals: a line with a suppressed cell has two, and what the published cells leave is 0 or at least k
    for total, cells in lines:
        hidden = [c for c in cells if c == small]
        assert len(hidden) != 1 or total == small, (total, cells)
        if hidden and total != small:
            assert total - sum(c for c in cells if c != small) >= k


def test_counts_match_a_slow_reference_count(ctx, factory):
    workers, coord = _users(factory)
    _random_cases(workers, 60, 7)
    user = _coordinator(coord)
    reference_sex, reference_pairs, reference_purpose = Counter(), Counter(), Counter()
    for case in db.session.scalars(select(Case)):
        reference_sex[case.victim.sex] += 1
        reference_pairs[(case.owner_entity.code, case.trafficking_scope)] += 1
        for purpose in case.purposes:
            reference_purpose[purpose.code] += 1
    shown_sex = {r.values["sex"]: r.count for r in stats.cases_table(user, "sex", period="2025").rows}
    assert {s: n for s, n in shown_sex.items() if n is not None} == \
        {s: n for s, n in reference_sex.items() if s in shown_sex and shown_sex[s] is not None}
    # and what a coordinator sees: every published count is the reference count
    table = stats.cases_table(user, "entity,trafficking_scope", period="2025")
    for row in table.rows:
        if not row.suppressed:
            assert row.count == reference_pairs[(row.values["entity"], row.values["trafficking_scope"])]
    assert table.total in (None, sum(reference_pairs.values()))  # reserved or exact, never another number
    # a case with several purposes counts once under each
    purposes = stats.cases_table(user, "exploitation_purpose", period="2025")
    assert all(r.count == reference_purpose[r.values["exploitation_purpose"]] for r in purposes.rows if not r.suppressed)
    assert purposes.total is None or sum(reference_purpose.values()) >= purposes.total


def test_periods_and_their_hierarchy(ctx, factory):
    workers, coord = _users(factory, ("CTG",))
    n = itertools.count()
    for month, count in ((1, 6), (2, 1), (3, 7), (5, 9)):
        for _i in range(count):
            make_case(workers["CTG"].id, document_number=f"5{next(n)}", identified_on=date(2025, month, 10))
    user = _coordinator(coord)
    months = stats.cases_table(user, "month", period="2025").as_json()
    shown = {r["month"]: r["count"] for r in months["rows"]}
    assert shown["2025-02"] is None
    # February alone in Q1 with January and March: another month of the quarter is hidden with it
    assert sum(1 for m in ("2025-01", "2025-03") if shown[m] is None) >= 1
    assert shown["2025-05"] == 9 and months["total"] == 23
    quarters = stats.cases_table(user, "quarter", period="2025").as_json()
    assert {r["quarter"]: r["count"] for r in quarters["rows"]} == {"2025-Q1": 14, "2025-Q2": 9}
    # Q1 (14) minus the published months of Q1 must not give February
    q1_published = sum(v for m, v in shown.items() if m < "2025-04" and v is not None)
    assert not 0 < 14 - q1_published < 5
    assert stats.cases_table(user, "sex", period="2025-Q2").as_json()["total"] == 9
    assert stats.cases_table(user, "sex", period="2025-05").as_json()["total"] == 9
    assert stats.cases_table(user, "sex", period="2025-B3").as_json()["total"] == 9
    assert stats.cases_table(user, "sex", period="2025-S1").as_json()["total"] == 23


@pytest.mark.parametrize(("by", "period"), [("", None), ("name", None), ("sex,sex", None), ("sex,age_group,entity", None),
                                            ("year,month", None), ("sex", "2025-13"), ("sex", "last year"),
                                            ("year", "2025-03")])
def test_bad_queries_are_refused_with_a_message(ctx, factory, by, period):
    _workers, coord = _users(factory, ("CTG",))
    with pytest.raises(Invalid) as err:
        stats.cases_table(_coordinator(coord), by, period=period)
    assert err.value.message


def test_only_coordinators_read_counts(ctx, factory):
    workers, _coord = _users(factory, ("CTG",))
    with pytest.raises(Forbidden):
        stats.cases_table(db.session.get(User, workers["CTG"].id), "sex", period="2025")
