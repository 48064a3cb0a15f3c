"""The clock seam: caseapp reads the time only through caseapp.timeutil, in Colombia's calendar whatever the
machine's time zone; tests move it with time-machine."""
from __future__ import annotations

import ast
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from caseapp import timeutil

ROOT = Path(__file__).resolve().parent.parent
CLOCK_CALLS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time"),
    ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"),
}


def _clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (name, node.func.attr) in CLOCK_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_only_timeutil_reads_the_clock():
    offenders = [hit for path in sorted((ROOT / "caseapp").rglob("*.py")) if path.name != "timeutil.py"
                 for hit in _clock_reads(path)]
    assert offenders == [], "read the time through caseapp.timeutil:\n" + "\n".join(offenders)


@pytest.mark.parametrize("machine_tz", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Bogota"])
def test_today_is_colombias_whatever_the_machine_time_zone(clock, machine_tz, monkeypatch):
    monkeypatch.setenv("TZ", machine_tz)
    time.tzset()
    try:
        clock.set(datetime.fromisoformat("2026-03-02T03:30:00+00:00"))  # Sunday 22:30 in Bogotá
        assert timeutil.today() == date(2026, 3, 1)
        assert timeutil.now_local().strftime("%A %H:%M") == "Sunday 22:30"
        assert timeutil.utcnow() == datetime(2026, 3, 2, 3, 30)
        assert timeutil.to_local(timeutil.utcnow()).date() == date(2026, 3, 1)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_clock_fixture_stands_still_and_advances(clock):
    clock.set("2026-12-06 03:00")
    assert timeutil.now_local().isoformat() == "2026-12-06T03:00:00-05:00"
    clock.advance(hours=8)
    assert timeutil.today() == date(2026, 12, 6) and timeutil.now_local().hour == 11
    assert timeutil.epoch() == datetime.fromisoformat("2026-12-06T11:00:00-05:00").timestamp()

