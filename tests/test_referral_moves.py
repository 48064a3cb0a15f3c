"""A referral's status changes in one function (services.casework.referral_moves.move), which ends the receiving
entity's assignments when a referral leaves "accepted". The behaviour on each path is tested in
tests/test_assignments_access_ends.py; this test fails when a new path sets a referral's status by itself.
"""
from __future__ import annotations

import re
from pathlib import Path

import caseapp

ROOT = Path(caseapp.__file__).parent
OWNER = ROOT / "services" / "casework" / "referral_moves.py"
# an attribute assignment (`referral.status = `, `r.status, r.x = `) or a bulk UPDATE of the referrals' status
SETS_STATUS = re.compile(r"^\s*(\w*referral\w*|r|ref)\.status\s*(=[^=]|,[^=]*=[^=])|update\(Referral\)[^\n]*status",
                         re.IGNORECASE)


def test_only_the_owner_sets_a_referrals_status():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path == OWNER or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SETS_STATUS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "set a referral's status through referral_moves.move:\n" + "\n".join(offenders)


def test_the_check_sees_the_old_ways():
    for line in ('referral.status = new_status', 'referral.status, referral.completed_on = "done", d',
                 'db.session.execute(update(Referral).values(status="ended"))'):
        assert SETS_STATUS.search(line), line
    assert not SETS_STATUS.search('if referral.status == "accepted":')
