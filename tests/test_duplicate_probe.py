"""Probing who is a victim: the duplicate hint names another entity only for a complete, valid registration, at
most DUPLICATE_HINTS_PER_DAY times a day to one user, and repeated hits raise an alert the auditors see.

Each test runs over every path that reaches the hint: the registration form, the JSON API and the service that
checks duplicates (registry.find_duplicates).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.services import registry
from tests.api.test_cases_api import token_for
from tests.cases_factory import make_case

DOC = "1045789321"
PATHS = ["web", "api", "service"]
LIMIT = 5  # the default of DUPLICATE_HINTS_PER_DAY
BODY = {
    "given_names": "Sandra Milena", "family_names": "Arboleda Cuesta", "document_type": "CC",
    "document_number": DOC, "identified_on": "2025-09-10", "identification_source": "policia",
    "exploitation_purposes": ["forced_labour"], "trafficking_scope": "internal",
    "consent_assistance": True, "consent_data_processing": True,
}
WEB_FORM = {
    "given_names": "Sandra Milena", "family_names": "Arboleda Cuesta", "document_type": "CC", "document_number": DOC,
    "birth_date": "", "phone": "", "address": "", "contact_person": "", "narrative": "", "sex": "female",
    "gender_identity": "woman", "age_group": "unknown", "nationality": "CO", "ethnic_group": "unknown",
    "disability": "unknown", "lgbtiq": "unknown", "migrant_status": "national", "identified_on": "2025-09-10",
    "identification_source": "policia", "exploitation_purposes": ["forced_labour"], "trafficking_scope": "internal",
    "victim_status": "victim", "consent_assistance": "yes", "consent_data_processing": "yes",
    "consent_method": "written", "declined_reasons": "", "representative": "",
}


@pytest.fixture
def world(app, factory):
    """A victim registered at CTG; a social worker at BOG who probes her document; an auditor."""
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    otra = factory.user("otra", roles=("social_worker",), entity="BOG")
    audi = factory.user("audi", roles=("auditor",), entity="CTG")
    with app.app_context():
        make_case(ana.id, document_number=DOC, given_names="Yuliana")
    return {"ana": ana, "otra": otra, "audi": audi}




class Prober:
    """One registration attempt by `user` through one path; answers whether CTG was named and if a case exists
    may have been said at all."""

    def __init__(self, app, path, user, login_as):
        self.app, self.path, self.user = app, path, user
        if path == "web":
            self.client = app.test_client()
            login_as(user, self.client)
        elif path == "api":
            self.client = app.test_client()
            self.headers = token_for(app, user)

    def probe(self, *, valid=True, confirm=False) -> tuple[bool, bool]:
        """(CTG named, a possible duplicate was reported)."""
        if self.path == "web":
            html = self.client.get("/cases/new").get_data(as_text=True)
            data = dict(WEB_FORM, csrf_token=re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1),
                        form_token=re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1))
            if not valid:
                data.update(given_names="", phone="llámame")
            if confirm:
                data["confirm_duplicate"] = "y"
            response = self.client.post("/cases/new", data=data)
            page = response.get_data(as_text=True)
            if response.status_code == 302:
                page = self.client.get(response.headers["Location"]).get_data(as_text=True)
            return "Entidad CTG" in page, response.status_code == 409
        if self.path == "api":
            body = dict(BODY, confirm_duplicate=confirm)
            if not valid:
                body.pop("given_names")
                body["phone"] = "llámame"
            response = self.client.post("/api/v1/cases", json=body, headers=self.headers)
            hints = (response.json or {}).get("possible_duplicates") or []
            return any(h["entity_code"] == "CTG" for h in hints), response.status_code == 409
        with self.app.test_request_context():
            user = db.session.get(User, self.user.id)
            data = dict(BODY)
            if not valid:
                data = {"document_type": "CC", "document_number": DOC}  # the probe: a document and nothing else
            hints = registry.find_duplicates(user, data)
            return any(h["entity_code"] == "CTG" for h in hints), bool(hints)


def _cross_entity_rows(app, username):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.duplicate_hint.other_entity", AuditEvent.actor == username)))


@pytest.mark.parametrize("path", PATHS)
def test_an_incomplete_or_invalid_registration_learns_nothing(app, world, login_as, path):
    prober = Prober(app, path, world["otra"], login_as)
    if path == "service":
        with pytest.raises(Invalid):
            prober.probe(valid=False)
    else:
        named, reported = prober.probe(valid=False)
        assert not named and not reported
    assert _cross_entity_rows(app, "otra") == []
    assert prober.probe() == (True, True)  # the same person, complete and valid: named


@pytest.mark.parametrize("path", PATHS)
def test_the_hint_beyond_the_daily_limit_does_not_name_the_entity(app, world, login_as, path, clock):
    clock.set("2026-03-02 10:00")
    prober = Prober(app, path, world["otra"], login_as)
    for _ in range(LIMIT):
        assert prober.probe()[0]
    named, reported = prober.probe()
    assert not named
    if path != "service":
        assert reported  # she is still told a case may exist, and can confirm and register
    rows = _cross_entity_rows(app, "otra")
    assert [r.outcome for r in rows] == ["allowed"] * LIMIT + ["denied"]
    assert all("CTG" in r.detail and DOC not in r.detail for r in rows)  # whom, never the document
    clock.advance(hours=25)
    if path == "web":
        login_as(world["otra"], prober.client)  # her session of yesterday has timed out
    assert prober.probe()[0]  # a new day


def test_beyond_the_limit_the_registration_still_proceeds_without_naming(app, world, login_as, clock):
    clock.set("2026-03-02 10:00")
    prober = Prober(app, "api", world["otra"], login_as)  # the web's case page names no duplicate anyway
    for _ in range(LIMIT):
        prober.probe()
    named, reported = prober.probe(confirm=True)
    assert not named and not reported
    with app.app_context():
        from caseapp.models.cases import Case

        assert any(c.startswith("BOG-") for c in db.session.scalars(select(Case.code)))


def test_the_web_notice_says_why_the_entity_is_not_named(app, world, login_as, clock):
    clock.set("2026-03-02 10:00")
    prober = Prober(app, "web", world["otra"], login_as)
    for _ in range(LIMIT):
        prober.probe()
    html = prober.client.get("/cases/new").get_data(as_text=True)
    data = dict(WEB_FORM, csrf_token=re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1),
                form_token=re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1))
    page = prober.client.post("/cases/new", data=data).get_data(as_text=True)
    assert "no se indica si otra entidad ya tiene un caso" in page and "Entidad CTG" not in page
    assert "coordinadora" in page  # what to do instead


@pytest.mark.parametrize("path", ["web", "api"])
def test_beyond_the_limit_a_match_and_no_match_get_the_same_answer(app, world, login_as, path, clock):
    """Past the limit, not naming the entity is not enough: "no case elsewhere" must not be said either, or the
    answer would still tell without limit whether a document belongs to a victim."""
    clock.set("2026-03-02 10:00")
    prober = Prober(app, path, world["otra"], login_as)
    for _ in range(LIMIT):
        prober.probe()
    matched = prober.probe()
    body_no_match = dict(BODY, document_number="1098765432")
    if path == "api":
        r = prober.client.post("/api/v1/cases", json=dict(body_no_match, confirm_duplicate=False),
                               headers=prober.headers)
        unmatched = (False, r.status_code == 409)
    else:
        html = prober.client.get("/cases/new").get_data(as_text=True)
        data = dict(WEB_FORM, document_number="1098765432",
                    csrf_token=re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1),
                    form_token=re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1))
        unmatched = (False, prober.client.post("/cases/new", data=data).status_code == 409)
    assert matched == unmatched == (False, True)


def test_her_own_entitys_cases_are_always_named(app, factory, ctx):
    ana = factory.user("ana", roles=("social_worker",), entity="CTG")
    make_case(ana.id, document_number=DOC)
    user = db.session.get(User, ana.id)
    for _ in range(LIMIT + 2):
        assert [h["entity_code"] for h in registry.find_duplicates(user, BODY)] == ["CTG"]
    assert _cross_entity_rows(ctx, "ana") == []


@pytest.mark.parametrize("path", PATHS)
def test_repeated_hits_raise_an_alert_the_auditors_see(app, world, login_as, path):
    prober = Prober(app, path, world["otra"], login_as)
    auditor = app.test_client()
    login_as(world["audi"], auditor)
    prober.probe()
    prober.probe()
    assert "Avisos repetidos de que otra entidad tiene un caso" not in auditor.get("/audit/alerts").get_data(
        as_text=True)
    prober.probe()
    html = auditor.get("/audit/alerts").get_data(as_text=True)
    assert "Avisos repetidos de que otra entidad tiene un caso" in html
    row = html[html.find('class="alert-duplicate_probe"'):]
    assert "otra" in row[:400] and DOC not in html and "Sandra" not in html and "Yuliana" not in html
