"""The follow-up method of seed 001 on hand-computed worked examples (no case data: manual products)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from caseapp.models.indicators import AchievedValue, Objective, Policy, Product, ProductTarget
from caseapp.services import indicators as ind
from caseapp.services.indicators import evaluate, summarise_objective, summarise_policy, traffic_light


def product(code, periods, *, weight=1, accumulation="sum", final=None, periodicity="annual", objective=None):
    """periods: [(label, target, achieved or None)]"""
    p = Product(code=code, name=code, indicator=code, formula="manual", accumulation=accumulation,
                periodicity=periodicity, weight=Decimal(str(weight)), first_year=2022, periods_count=len(periods),
                active=True, official_total=False)
    for label, target, achieved in periods:
        period = ind.parse_period(label, periodicity)
        p.targets.append(ProductTarget(period=period.label, starts_on=period.starts_on, ends_on=period.ends_on,
                                       target=Decimal(str(target))))
        if achieved is not None:
            p.values.append(AchievedValue(period=period.label, value=Decimal(str(achieved)), source="informe",
                                          entered_at=None))
    if final is None:
        final = periods[-1][1] if accumulation == "latest" else sum(t for _l, t, _a in periods)
    p.final_target = Decimal(str(final))
    if objective is not None:
        objective.products.append(p)
    return p


def test_progress_is_capped_at_100_percent(ctx):
    s = evaluate(product("A", [("2022", 100, 150)]), date(2022, 12, 31))
    assert s.progress == 1 and s.progress_to_date == 1 and s.cumulative == 1
    assert s.achieved == 150  # the figure itself is not changed, only its progress


def test_cumulative_ideal_trajectory_and_gap_by_hand(ctx):
    # targets 100 a year over 3 years (final 300); achieved 80 then 130; cut-off at the end of 2023
    p = product("B", [("2022", 100, 80), ("2023", 100, 130), ("2024", 100, None)])
    s = evaluate(p, date(2023, 12, 31))
    assert s.cumulative_achieved == 210 and s.cumulative_target == 200
    assert s.cumulative == Fraction(210, 300)  # 70 %
    assert s.ideal_trajectory == Fraction(200, 300)  # 66.67 %
    assert s.gap == Fraction(10, 300)  # +3.33 points
    assert s.progress_to_date == 1  # 210 / 200 capped
    assert s.progress == 1  # 2023: 130 / 100 capped
    assert s.traffic_light == "green"
    # the year before: 80 / 100
    s22 = evaluate(p, date(2022, 12, 31))
    assert s22.progress == Fraction(4, 5) and s22.ideal_trajectory == Fraction(1, 3)
    assert s22.gap == Fraction(80, 300) - Fraction(1, 3)


def test_weighted_objective_and_policy_progress_by_hand(ctx):
    policy = Policy(code="P", name="P")
    o1 = Objective(code="1", name="uno")
    o2 = Objective(code="2", name="dos")
    policy.objectives.extend([o1, o2])
    product("1.1", [("2022", 100, 150)], weight=1, objective=o1)  # 1.5 -> capped 1
    product("1.2", [("2022", 200, 50)], weight=3, objective=o1)  # 0.25
    product("2.1", [("2022", 10, 8)], weight=1, objective=o2)  # 0.8
    as_of = date(2022, 12, 31)
    obj = summarise_objective(o1, as_of)
    # (1 * 1 + 3 * 0.25) / 4 = 0.4375 (without the cap it would be (1.5 + 0.75) / 4 = 0.5625)
    assert obj.progress == Fraction(7, 16)
    assert obj.ideal_trajectory == 1 and obj.gap == Fraction(7, 16) - 1
    assert obj.traffic_light == "red"
    pol = summarise_policy(policy, as_of)
    assert pol.progress == (Fraction(7, 16) + Fraction(4, 5)) / 2  # objectives weigh the same: 0.61875
    assert pol.traffic_light == "yellow"
    assert ind.light_counts(pol.products) == {"green": 2, "yellow": 0, "red": 1}
    summary = ind.summary_dict(pol, as_of)
    assert summary["progress"] == 0.6188 and summary["traffic_lights"] == {"green": 2, "yellow": 0, "red": 1}
    assert [o["progress"] for o in summary["objectives"]] == [0.4375, 0.8]


def test_objective_weights_apply_when_set(ctx):
    policy = Policy(code="P", name="P")
    o1, o2 = Objective(code="1", name="uno", weight=Decimal("0.75")), Objective(code="2", name="dos",
                                                                                 weight=Decimal("0.25"))
    policy.objectives.extend([o1, o2])
    product("1.1", [("2022", 100, 100)], objective=o1)
    product("2.1", [("2022", 100, 20)], objective=o2)
    assert summarise_policy(policy, date(2022, 12, 31)).progress == Fraction(3, 4) + Fraction(1, 4) * Fraction(1, 5)


@pytest.mark.parametrize(("achieved", "light"), [(50, "red"), (51, "yellow"), (75, "yellow"), (76, "green"),
                                                 (0, "red"), (100, "green")])
def test_traffic_light_edges(ctx, achieved, light):
    assert traffic_light(Fraction(achieved, 100)) == light
    s = evaluate(product("E", [("2022", 100, achieved)]), date(2022, 12, 31))
    assert s.traffic_light == light


def test_annual_product_without_value_inside_the_period_shows_no_percentage_and_counts_green(ctx):
    policy = Policy(code="P", name="P")
    o = Objective(code="1", name="uno")
    policy.objectives.append(o)
    annual = product("1.1", [("2022", 100, None)], objective=o)
    semi = product("1.2", [("2022-S1", 50, 30), ("2022-S2", 50, None)], periodicity="semiannual", objective=o)
    cut = date(2022, 6, 30)  # seed 001's cut-off
    s = evaluate(annual, cut)
    assert s.progress is None and s.progress_to_date is None and s.traffic_light == "green"
    assert s.ideal_trajectory == 0 and s.gap == 0
    t = evaluate(semi, cut)
    assert t.progress_to_date == Fraction(3, 5) and t.traffic_light == "yellow"  # S1 is due: 30 / 50
    summary = summarise_objective(o, cut)
    assert summary.progress_to_date == (1 + Fraction(3, 5)) / 2  # the annual one counts as on its trajectory
    assert ind.light_counts(summary.products) == {"green": 1, "yellow": 1, "red": 0}
    # after the period closes with no value, it counts as nothing achieved
    assert evaluate(annual, date(2023, 1, 1)).traffic_light == "red"


def test_latest_value_products_do_not_add_up_percentages(ctx):
    p = product("2.5", [("2022", 100, 40), ("2023", 100, 70)], accumulation="latest")
    s = evaluate(p, date(2023, 12, 31))
    assert s.cumulative_achieved == 70 and s.cumulative == Fraction(7, 10) and s.ideal_trajectory == 1
    assert s.traffic_light == "yellow"


@pytest.mark.parametrize(("text", "label"), [("2025", "2025"), ("2025-S1", "2025-S1"), ("2025-2S", "2025-S2"),
                                             ("2025-T3", "2025-Q3"), ("2025-q4", "2025-Q4")])
def test_period_labels(text, label):
    assert ind.parse_period(text).label == label


@pytest.mark.parametrize("text", ["", "25", "2025-S3", "2025-Q5", "abc", "2025-13"])
def test_bad_period_labels(text):
    with pytest.raises(ValueError):
        ind.parse_period(text)


@pytest.mark.parametrize(("text", "value"), [("1.234,5", Decimal("1234.5")), ("1234.5", Decimal("1234.5")),
                                              ("42", Decimal(42)), ("42,5", Decimal("42.5")), ("1.000", Decimal(1000)),
                                              ("75 %", Decimal(75))])
def test_numbers_in_colombian_or_plain_format(text, value):
    assert ind.parse_decimal(text) == value
