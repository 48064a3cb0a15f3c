"""Releases protected against each other (publication/releases.py), from an outside review of the first version
(2026-12-04): a sum an earlier release gave away, an official figure that moved, and the two ways the first version
published nothing at all (a corrected record, a raised k). A reader who kept every release is played by a linear
programme (tests/publication_attacker.py)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case
from caseapp.models.indicators import Product, ProductTarget
from caseapp.models.publication import Publication, PublishedCell, ReleasedSum, ReleasedValue
from caseapp.services.indicators.dimensions import set_k, setting_version
from caseapp.services.indicators.publication import build
from caseapp.services.indicators.publication.tables import Record, from_stored, tabulate
from caseapp.services.registry.consents import withdraw_consent
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case
from tests.publication_attacker import exact_reads

STATS = "/api/v1/stats/cases?unit=victims&"


@pytest.fixture
def smr(app, factory):
    factory.entity("SMR", "Entidad de Santa Marta", territory="47001")
    return (factory.user("sw.smr", roles=("social_worker",), entity="SMR"),
            factory.user("coord.smr", roles=("coordinator",), entity="SMR"),
            factory.user("admin.smr", roles=("admin",), entity="SMR"))


def _get(client, app, user, query):
    r = client.get(STATS + query, headers=token_for(app, user))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    body = r.get_json()
    return {row.get("nationality", row.get("month")): row["count"] for row in body["rows"]}, body["total"]


def _stored(app, base="identified:victims", dims=("", "nationality")) -> dict:
    with app.app_context():
        rows = db.session.execute(
            select(PublishedCell.time, PublishedCell.period, PublishedCell.dims, PublishedCell.key, PublishedCell.value)
            .join(Publication, Publication.id == PublishedCell.publication_id)
            .where(Publication.territory == "47001", PublishedCell.base == base, PublishedCell.dims.in_(dims))).all()
    return {from_stored(t, p, d, k): v for t, p, d, k, v in rows}


def _published(app) -> tuple[int, int]:
    with app.app_context():
        p = db.session.scalar(select(Publication).where(Publication.territory == "47001"))
        return p.cells_published, p.cells_suppressed


def _register(sw, month, by_nationality, records, start=0):
    n = start
    codes = {}
    for nationality, count in by_nationality.items():
        for i in range(count):
            n += 1
            codes.setdefault(nationality, []).append(make_case(
                sw.id, document_number=f"5{month:02d}{n:05d}", identified_on=date(2025, month, 1 + i),
                linked_on=date(2025, month, 1 + i), nationality=nationality))
            records.append(Record(date(2025, month, 1 + i), {"nationality": nationality}))
    return n, codes


def test_a_sum_an_earlier_release_gave_away_cannot_be_read_moving_by_one(app, client, clock, smr):
    """May's release: total 48, CO 29, PE and VE reserved - so PE and VE together are 19. June's must not publish
    them so that they add up to 20: with June's month table that is the one Peruvian woman of June."""
    sw, coord, _admin = smr
    data = {1: {"CO": 6, "VE": 1}, 2: {"CO": 4, "PE": 2, "VE": 2}, 3: {"CO": 8, "PE": 1, "VE": 2},
            4: {"CO": 6, "PE": 4, "VE": 2}, 5: {"CO": 5, "PE": 2, "VE": 3}, 6: {"CO": 2, "EC": 1, "PE": 1}}
    records, releases, n = [], [], 0
    for month in range(1, 7):
        clock.set(f"2025-{month:02d}-20 10:00")
        with app.test_request_context():
            n, _codes = _register(sw, month, data[month], records, n)
        if month >= 3:
            clock.set(f"2025-{month + 1:02d}-03 10:00")
            _get(client, app, coord, "by=nationality&period=2025")
            truth = tabulate("x", [r for r in records if r.on.month <= month], ("nationality",), last_month=month)
            stored = _stored(app)
            assert set(stored) == set(truth.cells)
            releases.append((truth, stored))
    may, june = releases[2][1], releases[3][1]
    assert may[("year", "2025", (), ())] == 48 and may[("year", "2025", ("nationality",), ("CO",))] == 29
    assert None in (may[("year", "2025", ("nationality",), ("PE",))], may[("year", "2025", ("nationality",), ("VE",))])
    june_pe_ve = (june[("year", "2025", ("nationality",), ("PE",))], june[("year", "2025", ("nationality",), ("VE",))])
    assert None in june_pe_ve, "June publishes PE and VE both, after May gave away their sum"
    assert exact_reads(releases) == []
    with app.app_context():
        assert db.session.scalar(select(ReleasedSum.id).where(ReleasedSum.territory == "47001").limit(1))


def test_an_official_figure_that_moved_by_one_is_not_published_as_it_is(app, client, clock, factory):
    """Product 3.5 counted by quarter: Q2's official figure, 12, would read 11 in the next release after a consent
    withdrawn in July - one woman of Q2 withdrew. It is reserved in that release instead."""
    sw = factory.user("sw", roles=("social_worker",), entity="CTG")
    coord = factory.user("coord", roles=("coordinator",), entity="CTG")
    clock.set("2025-05-20 10:00")
    with app.test_request_context():
        product = db.session.scalar(select(Product).where(Product.code == "3.5"))
        product.periodicity = "quarterly"
        for target in list(product.targets):
            db.session.delete(target)
        db.session.flush()
        for q in range(1, 5):
            db.session.add(ProductTarget(product_id=product.id, period=f"2025-Q{q}", starts_on=date(2025, 3 * q - 2, 1),
                                         ends_on=date(2025, 3 * q, 28), target=10))
        db.session.commit()
        codes = [make_case(sw.id, document_number=f"8800{i:04d}", identified_on=date(2025, 5, 1 + i),
                           linked_on=date(2025, 5, 1 + i)) for i in range(12)]
    url = "/api/v1/products/3.5/progress?period=2025&as_of=2025-06-30"
    clock.set("2025-07-03 10:00")
    before = client.get(url, headers=token_for(app, coord)).get_json()
    clock.set("2025-07-12 10:00")
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == codes[3]))
        consent = next(c for c in case.consents if c.kind == "assistance")
        withdraw_consent(db.session.get(User, sw.id), codes[3], consent.id, version=consent.version, on="2025-07-10")
    clock.set("2025-08-03 10:00")
    after = client.get(url, headers=token_for(app, coord)).get_json()
    assert before["achieved"] == 12
    assert after["achieved"] is None


def test_a_corrected_record_hides_what_moved_and_not_the_whole_year(app, client, clock, smr):
    """One March woman's nationality corrected from CO to VE after March's release: the cells she moved between are
    held back, and the rest - already out, unchanged - stays published (the first version published nothing)."""
    sw, coord, _admin = smr
    data = {1: {"CO": 5, "VE": 5}, 2: {"VE": 5, "PE": 5}, 3: {"PE": 5, "CO": 6}, 4: {"CO": 7, "VE": 6, "PE": 8}}
    records, n, march_co = [], 0, None
    for month in (1, 2, 3):
        clock.set(f"2025-{month:02d}-20 10:00")
        with app.test_request_context():
            n, codes = _register(sw, month, data[month], records, n)
        march_co = codes.get("CO", [march_co])[-1]
    clock.set("2025-04-03 10:00")
    first = _get(client, app, coord, "by=nationality&period=2025")
    first_cells = _published(app)[0]
    clock.set("2025-04-10 10:00")
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == march_co))
        case.victim.nationality = "VE"
        db.session.commit()
        _n, _codes = _register(sw, 4, data[4], [], n)
    clock.set("2025-05-03 10:00")
    second = _get(client, app, coord, "by=nationality&period=2025")
    march = _get(client, app, coord, "by=nationality&period=2025-03")[0]
    assert first == ({"CO": 11, "VE": 10, "PE": 10}, 31)
    assert march.get("CO") is None and march.get("VE") is None  # 6 -> 5 and 0 -> 1: reserved
    assert march["PE"] == 5  # unchanged, already out
    assert _published(app)[0] >= first_cells // 2, (first_cells, _published(app))
    assert second[1] is not None  # the year's total grew by 21


def test_raising_k_hides_the_new_small_cells_and_not_everything(app, client, clock, smr):
    """k raised from 5 to 6 with the same data: the cells of 5 become reserved; what was out at 6 or more stays. The
    release publishes at least nine tenths of what the same data protected without any history would."""
    sw, coord, admin = smr
    data = {1: {"CO": 5, "VE": 5}, 2: {"VE": 5, "PE": 5}, 3: {"PE": 5, "CO": 6}}
    n = 0
    clock.set("2025-03-20 10:00")
    with app.test_request_context():
        for month, row in data.items():
            n, _codes = _register(sw, month, row, [], n)
    clock.set("2025-04-03 10:00")
    assert _get(client, app, coord, "by=nationality&period=2025") == ({"CO": 11, "VE": 10, "PE": 10}, 31)
    with app.test_request_context():
        set_k(db.session.get(User, admin.id), 6, setting_version())
    assert _get(client, app, coord, "by=nationality&period=2025-01") == ({"CO": None, "VE": None}, 10)
    with_history = _published(app)[0]
    with app.test_request_context():
        db.session.query(ReleasedValue).delete()
        db.session.query(ReleasedSum).delete()
        without_history = build("47001", 2025).cells_published
        db.session.rollback()
    assert with_history >= 0.9 * without_history > 0, (with_history, without_history)


def test_cells_that_go_reserved_after_being_out_cannot_be_read_from_the_total(app, client, clock, smr):
    """One late registration of each of five nationalities, dated in March, entered in April. A cell out before and
    reserved now has changed (one out at today's value stays out), so with the total published at +5 a reader would
    read each of the five as exactly one more: the one late Haitian woman."""
    sw, coord, _admin = smr
    records, releases, n = [], [], 0
    clock.set("2025-03-28 10:00")
    with app.test_request_context():
        for month in (1, 2, 3):
            n, _codes = _register(sw, month, {"CO": 20, "VE": 8, "PE": 7, "EC": 6, "HT": 6}, records, n)
    clock.set("2025-04-03 10:00")
    april = _get(client, app, coord, "by=nationality&period=2025")
    releases.append((tabulate("x", list(records), ("nationality",), last_month=3), _stored(app)))
    clock.set("2025-04-20 10:00")
    with app.test_request_context():
        for nationality in ("CO", "VE", "PE", "EC", "HT"):
            n += 1
            make_case(sw.id, document_number=f"5{n:07d}", identified_on=date(2025, 3, 25), linked_on=date(2025, 3, 25),
                      nationality=nationality)
            records.append(Record(date(2025, 3, 25), {"nationality": nationality}))
    clock.set("2025-05-03 10:00")
    may = _get(client, app, coord, "by=nationality&period=2025")
    releases.append((tabulate("x", list(records), ("nationality",), last_month=4), _stored(app)))
    assert april == ({"CO": 60, "VE": 24, "PE": 21, "EC": 18, "HT": 18}, 141)
    reserved = [nationality for nationality, count in may[0].items() if count is None]
    assert not (may[1] is not None and may[1] - april[1] == len(reserved)), "each reserved cell read as old + 1"
    assert exact_reads(releases) == []
