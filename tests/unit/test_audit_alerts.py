"""Alerts on unusual access: each rule fires on a scripted scenario and stays quiet on ordinary use.

The clock is the suite's (time-machine), scripted so that scenarios happen at chosen Colombian times; tests
never depend on the real time of day. Colombia is UTC-5: 14:00 UTC on a weekday is 09:00 in Bogotá.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import Conflict, Forbidden, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import Setting, User
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services.audit import alerts
from tests.cases_factory import make_case

# Tuesday 11 March 2025, 09:00 in Bogotá.
WORKDAY_MORNING = datetime(2025, 3, 11, 14, 0)
SINCE, UNTIL = datetime(2025, 3, 1), datetime(2025, 4, 1)


class LogClock:
    """The suite's clock, set in naive UTC as the log stores its times."""

    def __init__(self, clock):
        self._clock = clock
        self.now = WORKDAY_MORNING

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value
        self._clock.set(value.replace(tzinfo=UTC))

    def advance(self, **delta) -> None:
        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock(clock, ctx):
    return LogClock(clock)


@pytest.fixture
def people(ctx, factory):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    leo = factory.user("leo", roles=("lawyer",), entity="FISC")
    aud = factory.user("aud", roles=("auditor",), entity="PROC")
    root = factory.user("root", roles=("admin",), entity="SDIS")
    return {name: db.session.get(User, u.id) for name, u in (("ana", ana), ("leo", leo), ("aud", aud), ("root", root))}


def _cases(owner: User, n: int) -> list[Case]:
    codes = [make_case(owner.id, document_number=f"5200{i:04d}") for i in range(n)]
    return list(db.session.scalars(select(Case).where(Case.code.in_(codes)).order_by(Case.code)))


def _read(user: User, case: Case, action: str = "case.view", outcome: str = "allowed") -> None:
    audit.record(action, case, actor=user, outcome=outcome)
    db.session.commit()


def _kinds(found, kind=None):
    return [a for a in found if kind is None or a.kind == kind]


def _ordinary_day(people, clock, cases) -> None:
    """A social worker's ordinary day: a handful of her own cases, read and edited during working hours."""
    ana = people["ana"]
    for i, case in enumerate(cases[:5]):
        _read(ana, case)
        clock.advance(minutes=20)
        _read(ana, case, "case.update")
        clock.advance(minutes=25 + i)
    audit.record("login.success", actor=ana, object_type="user", object_ref=ana.username)
    db.session.commit()


def test_ordinary_use_raises_no_alert(people, clock):
    cases = _cases(people["ana"], 6)
    _ordinary_day(people, clock, cases)
    # one denied request (a typo in a case code) is ordinary too
    audit.record("case.view", object_type="case", object_ref="SDIS-2025-99999", actor=people["ana"], outcome="denied")
    db.session.commit()
    assert alerts.compute(SINCE, UNTIL) == []


def test_many_distinct_cases_in_a_short_time(people, clock):
    cases = _cases(people["ana"], 25)
    for case in cases[:22]:  # 22 distinct cases in 22 minutes; threshold 20 in 60 minutes
        _read(people["ana"], case)
        clock.advance(minutes=1)
    found = _kinds(alerts.compute(SINCE, UNTIL), "many_cases")
    assert len(found) == 1
    alert = found[0]
    assert alert.actor == "ana" and alert.entity == "SDIS" and alert.count == 22
    assert alert.filters["user"] == "ana" and alert.filters["since"].startswith("2025-03-11T09:00")


def test_many_cases_spread_over_the_day_is_quiet(people, clock):
    cases = _cases(people["ana"], 22)
    for case in cases:  # 22 cases, one every 25 minutes: never 20 within an hour
        _read(people["ana"], case)
        clock.advance(minutes=25)
    clock.now = WORKDAY_MORNING  # keep all within working hours for this check
    assert _kinds(alerts.compute(SINCE, UNTIL), "many_cases") == []


def test_many_cases_threshold_is_admin_editable(people, clock):
    cases = _cases(people["ana"], 6)
    _ordinary_day(people, clock, cases)
    values = dict(alerts.DEFAULTS, many_cases_count=5, many_cases_minutes=240)
    found = _kinds(alerts.compute(SINCE, UNTIL, values), "many_cases")
    assert [a.actor for a in found] == ["ana"]


def test_reading_the_same_case_many_times_is_not_many_cases(people, clock):
    case = _cases(people["ana"], 1)[0]
    for _ in range(40):
        _read(people["ana"], case)
        clock.advance(seconds=30)
    assert _kinds(alerts.compute(SINCE, UNTIL), "many_cases") == []


@pytest.mark.parametrize("moment", [
    datetime(2025, 3, 11, 7, 30),   # Tuesday 02:30 in Bogotá
    datetime(2025, 3, 12, 1, 0),    # Tuesday 20:00 in Bogotá (Wednesday in UTC)
    datetime(2025, 3, 15, 15, 0),   # Saturday 10:00 in Bogotá
    datetime(2025, 3, 17, 3, 0),    # Sunday 22:00 in Bogotá (Monday in UTC)
])
def test_access_outside_working_hours(people, clock, moment):
    case = _cases(people["ana"], 1)[0]
    clock.now = moment
    _read(people["ana"], case)
    found = _kinds(alerts.compute(SINCE, UNTIL), "off_hours")
    assert [(a.actor, a.count) for a in found] == [("ana", 1)]


@pytest.mark.parametrize("moment, outside", [
    (datetime(2025, 3, 11, 12, 0), False),   # Tuesday 07:00 in Bogotá: the day starts
    (datetime(2025, 3, 11, 23, 59), False),  # Tuesday 18:59 in Bogotá
    (datetime(2025, 3, 12, 0, 0), True),     # Tuesday 19:00 in Bogotá: the day is over
    (datetime(2025, 3, 15, 4, 0), True),     # Friday 23:00 in Bogotá (Saturday in UTC)
    (datetime(2025, 3, 14, 21, 0), False),   # Friday 16:00 in Bogotá
])
def test_working_hours_edges(people, clock, moment, outside):
    case = _cases(people["ana"], 1)[0]
    clock.now = moment
    _read(people["ana"], case)
    found = _kinds(alerts.compute(SINCE, UNTIL), "off_hours")
    assert [a.actor for a in found] == (["ana"] if outside else [])


def test_weekend_rule_can_be_switched_off(people, clock):
    case = _cases(people["ana"], 1)[0]
    clock.now = datetime(2025, 3, 15, 15, 0)  # Saturday 10:00
    _read(people["ana"], case)
    values = dict(alerts.DEFAULTS, weekend_is_off_hours=0)
    assert _kinds(alerts.compute(SINCE, UNTIL, values), "off_hours") == []


def test_repeated_denied_requests(people, clock):
    for i in range(6):
        audit.record("case.view", object_type="case", object_ref=f"FISC-2025-{i:05d}", actor=people["ana"],
                     outcome="denied")
        db.session.commit()
        clock.advance(minutes=1)
    found = _kinds(alerts.compute(SINCE, UNTIL), "denied")
    assert [(a.actor, a.count) for a in found] == [("ana", 6)]
    assert found[0].filters["outcome"] == "denied" and found[0].filters["user"] == "ana"


def test_denied_requests_spread_out_are_quiet(people, clock):
    for _ in range(6):
        audit.record("request:cases.index", actor=people["ana"], outcome="denied")
        db.session.commit()
        clock.advance(hours=1)
    assert _kinds(alerts.compute(SINCE, UNTIL), "denied") == []


def test_repeated_anonymous_denials_are_grouped_by_address(ctx, clock):
    from flask import request

    request.remote_addr = "203.0.113.7"
    for _ in range(5):
        audit.record("api.auth", outcome="denied")
        db.session.commit()
        clock.advance(seconds=10)
    found = _kinds(alerts.compute(SINCE, UNTIL), "denied")
    assert len(found) == 1 and found[0].actor is None and found[0].ip == "203.0.113.7"


def test_case_of_another_entity_without_referral(people, clock):
    case = _cases(people["ana"], 1)[0]
    _read(people["leo"], case)  # FISC reads an SDIS case: no referral at all
    found = _kinds(alerts.compute(SINCE, UNTIL), "cross_entity")
    assert [(a.actor, a.entity, a.case) for a in found] == [("leo", "FISC", case.code)]
    assert found[0].filters == {"user": "leo", "case": case.code}


@pytest.mark.parametrize("status, fires", [("accepted", False), ("done", False), ("sent", True),
                                           ("rejected", True)])
def test_cross_entity_with_a_referral(people, clock, status, fires):
    case = _cases(people["ana"], 1)[0]
    db.session.add(Referral(case_id=case.id, from_entity_id=people["ana"].entity_id,
                            to_entity_id=people["leo"].entity_id, service="legal", status=status,
                            shared_sections="summary,legal"))
    db.session.commit()
    _read(people["leo"], case)
    found = _kinds(alerts.compute(SINCE, UNTIL), "cross_entity")
    assert bool(found) is fires


def test_denied_attempt_on_another_entity_case_is_not_cross_entity(people, clock):
    case = _cases(people["ana"], 1)[0]
    _read(people["leo"], case, outcome="denied")
    assert _kinds(alerts.compute(SINCE, UNTIL), "cross_entity") == []


def _login(user: User, ip: str, clock: LogClock) -> None:
    from flask import request

    request.remote_addr = ip
    audit.record("login.success", actor=user, object_type="user", object_ref=user.username)
    db.session.commit()
    clock.advance(hours=1)


def test_login_from_a_new_address(people, clock):
    ana = people["ana"]
    _login(ana, "10.0.0.5", clock)   # first ever sign-in: nothing to compare with
    _login(ana, "10.0.0.5", clock)
    _login(ana, "181.50.1.9", clock)  # new address
    _login(ana, "10.0.0.5", clock)
    found = _kinds(alerts.compute(SINCE, UNTIL), "new_address")
    assert [(a.actor, a.ip) for a in found] == [("ana", "181.50.1.9")]
    assert found[0].filters["action"] == "login.success"


def test_logins_from_the_usual_address_are_quiet(people, clock):
    for _ in range(5):
        _login(people["ana"], "10.0.0.5", clock)
    _login(people["leo"], "10.0.0.9", clock)  # leo's first login, from another office
    assert _kinds(alerts.compute(SINCE, UNTIL), "new_address") == []


def test_auditors_reading_the_log_raise_no_alert(people, clock):
    """Console views are about the log, not about cases: an auditor at work is not 'many cases'."""
    from caseapp.services.audit import console as audit_console

    aud = people["aud"]
    cases = _cases(people["ana"], 22)
    clock.now = datetime(2025, 3, 11, 3, 0)  # 22:00 in Bogotá
    for case in cases:
        audit_console.case_history(aud, case.code)
    assert alerts.compute(SINCE, UNTIL) == []


def test_alerts_only_for_auditors(people, clock):
    with pytest.raises(Forbidden):
        alerts.alerts_for(people["ana"])


def test_thresholds_are_versioned_and_validated(people):
    admin = people["root"]
    values, version = alerts.thresholds()
    assert version == 0 and values == alerts.DEFAULTS
    with pytest.raises(Forbidden):
        alerts.update_thresholds(people["ana"], values, 0)
    with pytest.raises(Invalid) as bad:
        alerts.update_thresholds(admin, dict(values, work_start_hour=20, work_end_hour=8), 0)
    assert "work_end_hour" in bad.value.field_errors
    with pytest.raises(Invalid):
        alerts.update_thresholds(admin, dict(values, many_cases_count=0), 0)
    alerts.update_thresholds(admin, dict(values, many_cases_count=8), 0)
    assert alerts.thresholds() == (dict(values, many_cases_count=8), 1)
    with pytest.raises(Conflict):  # a second admin still holding version 0
        alerts.update_thresholds(admin, dict(values, many_cases_count=9), 0)
    assert alerts.thresholds()[0]["many_cases_count"] == 8
    assert db.session.get(Setting, alerts.SETTING_KEY).version == 1


def test_cli_lists_alerts_for_a_period(people, clock, runner):
    case = _cases(people["ana"], 1)[0]
    _read(people["leo"], case)
    result = runner.invoke(args=["audit", "alerts", "--since", "2025-03-01", "--until", "2025-03-31"])
    assert result.exit_code == 0, result.output
    assert f"cross_entity\tleo\tFISC\t{case.code}\t1" in result.stdout
    assert "1 alert(s)" in result.output
    bad = runner.invoke(args=["audit", "alerts", "--since", "someday"])
    assert bad.exit_code != 0 and "--since" in bad.output
