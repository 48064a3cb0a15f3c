"""Two monthly releases of the same year's publication are each protected on their own: a coordinator who kept the
first one subtracts it from the next and reads the one family member (and the one woman) of the new month.

KNOWN WEAKNESS, not fixed (found by an outside review on 2026-12-04): `build()` protects each release without the
figures earlier releases of the year already published, so consecutive releases differ by exactly the new month.
The fix is a protection that takes the previous release's published cells as known to the reader (each is a sum of
this release's cells of the months it covered) - see the closing note of stop 21. This test is a strict xfail: it
fails the suite the day the weakness is fixed, so that it becomes a plain test.
"""
from __future__ import annotations

from datetime import date

import pytest

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services import family
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case


@pytest.fixture
def smr(app, factory):
    factory.entity("SMR", "Entidad de Santa Marta", territory="47001")
    return factory.user("sw.smr", roles=("social_worker",), entity="SMR"), factory.user(
        "coord.smr", roles=("coordinator",), entity="SMR")


def _get(client, headers, url):
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def _rows(body, dim):
    return {r[dim]: r["count"] for r in body["rows"]}, body["total"]


@pytest.mark.xfail(strict=True, reason="releases are protected one by one: consecutive ones can be subtracted")
def test_the_new_months_family_member_and_woman_cannot_be_read_by_subtracting_releases(app, client, clock, smr):
    sw, coord = smr
    clock.set("2025-05-05 10:00")  # releases count to 30 April
    with app.test_request_context():
        codes = [make_case(sw.id, document_number=f"4700{i:04d}", identified_on=date(2025, 1 + i % 3, 5),
                           linked_on=date(2025, 1 + i % 3, 5), nationality="CO") for i in range(12)]
        user = db.session.get(User, sw.id)
        for i, code in enumerate(codes):
            rel = "mother" if i < 6 else "sibling"
            m = family.add_member(user, code, {"names": f"F{i}", "relationship": rel, "age_group": "48+",
                                               "document_type": "NONE"})
            family.add_member_step(user, code, m.id, kind="reception", status="done", on="2025-04-07")
    h = token_for(app, coord)
    april = {q: _get(client, h, f"/api/v1/stats/family?{q}") for q in ("by=relationship&period=2025",
                                                                      "by=month&period=2025")}
    april_cases = _get(client, h, "/api/v1/stats/cases?by=nationality&period=2025&unit=victims")

    # May: one father gets a service (lodging), and one Venezuelan woman is identified
    clock.set("2025-05-20 10:00")
    with app.test_request_context():
        user = db.session.get(User, sw.id)
        m = family.add_member(user, codes[0], {"names": "Padre", "relationship": "father", "age_group": "48+",
                                               "document_type": "NONE"})
        family.add_member_step(user, codes[0], m.id, kind="reception", status="done", on="2025-05-15")
        make_case(sw.id, document_number="99990001", identified_on=date(2025, 5, 15), linked_on=date(2025, 5, 15),
                  nationality="VE")
    clock.set("2025-06-03 10:00")  # the next release: counts to 31 May
    h = token_for(app, coord)
    june = {q: _get(client, h, f"/api/v1/stats/family?{q}") for q in ("by=relationship&period=2025",
                                                                     "by=month&period=2025")}
    june_cases = _get(client, h, "/api/v1/stats/cases?by=nationality&period=2025&unit=victims")

    ra, ta = _rows(april["by=relationship&period=2025"], "relationship")
    rb, tb = _rows(june["by=relationship&period=2025"], "relationship")
    ma, _ = _rows(april["by=month&period=2025"], "month")
    mb, _ = _rows(june["by=month&period=2025"], "month")
    na, nta = _rows(april_cases, "nationality")
    nb, ntb = _rows(june_cases, "nationality")
    # the protection's own rule: no count from 1 to k-1 may be read; here it is read exactly
    assert not (tb - ta == 1 and mb.get("2025-05") is None), "family: May's reserved cell recovered as 1"
    assert not (ntb - nta == 1 and nb.get("VE", 0) is None), "cases: the one Venezuelan woman recovered"
