"""Safety flags: set and cleared with a reason by the owner's professionals (web and API), logged, history kept;
shown on every page of the case and in every list that shows it, to a receiving entity whatever its referral
shares; their reasons only to the owner's professionals."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from caseapp import crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken, User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.models.safety import SafetyFlag
from caseapp.services import referrals, registry
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.world import page_csrf

REASON = "Llamadas de un número desconocido preguntando por ella"


def _token(app, user_id) -> dict:
    token = crypto.new_token()
    with app.app_context():
        db.session.add(ApiToken(user_id=user_id, token_hash=crypto.hash_token(token), created_at=utcnow()))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(app, factory):
    people = {
        "sw": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "lawyer": factory.user("luz", roles=("lawyer",), entity="SDIS"),
        "coord": factory.user("carla", roles=("coordinator",), entity="SDIS"),
        "oim": factory.user("beto", roles=("social_worker",), entity="OIM"),
        "icbf": factory.user("ines", roles=("social_worker",), entity="ICBF"),
    }
    with app.test_request_context():
        ana, beto = db.session.get(User, people["sw"].id), db.session.get(User, people["oim"].id)
        code = make_case(ana.id, identified_on=date(2025, 3, 10))
        registry.give_consent(ana, code, "sharing", method="written", given_on="2025-03-10", entity_code="OIM")
        # the referral shares the summary and the one section its service needs (the health-like psychosocial
        # one): not her identity, and not the flags' section, which is none
        ref = referrals.send(ana, code, to_entity="OIM", service="psychological_assessment", reason="Valoración",
                             sections=["summary", "psychosocial"], due_on="2099-01-01")
        referrals.accept(beto, ref.id, version=ref.version)
    return {"code": code, "people": people, "tokens": {k: _token(app, u.id) for k, u in people.items()}}


def _set_by_api(client, world, who="sw", **body):
    return client.post(f"/api/v1/cases/{world['code']}/safety-flags",
                       json={"kind": "threats_received", "reason": REASON, **body}, headers=world["tokens"][who])


def _set_by_web(client, login_as, world, who="sw", **form):
    c = login_as(world["people"][who])
    url = f"/cases/{world['code']}/safety"
    token = page_csrf(c, url)
    return c.post(url, data={"csrf_token": token, "kind": "threats_received", "reason": REASON, **form})


SETTERS = {"api": lambda client, login_as, world, who="sw", **kw: _set_by_api(client, world, who, **kw),
           "web": _set_by_web}


@pytest.mark.parametrize("path", SETTERS)
@pytest.mark.parametrize("who", ["sw", "lawyer"])
def test_the_case_professionals_set_a_flag_with_its_reason_encrypted_and_logged(app, client, login_as, world, path,
                                                                                   who):
    r = SETTERS[path](client, login_as, world, who)
    assert r.status_code in (201, 302), r.get_data(as_text=True)[:500]
    with app.app_context():
        flag = db.session.scalar(select(SafetyFlag))
        assert flag.kind == "threats_received" and flag.cleared_at is None
        assert REASON.encode() not in flag.reason_enc and flag.reason == REASON
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.safety.set")) is not None
    api = client.get(f"/api/v1/cases/{world['code']}", headers=world["tokens"]["sw"])
    assert api.json["safety_flags"] == ["threats_received"]


@pytest.mark.parametrize("path", SETTERS)
def test_a_flag_already_set_is_refused_and_a_reason_is_required(app, client, login_as, world, path):
    assert _set_by_api(client, world).status_code == 201
    again = _set_by_api(client, world)
    assert again.status_code == 409 and again.json["rule"] == "flag_already_set"
    web = _set_by_web(client, login_as, world)
    assert web.status_code == 409 and "ya está" in web.get_data(as_text=True)
    blank = SETTERS[path](client, login_as, world, kind="high_risk", reason="   ")
    assert blank.status_code == 422
    with app.app_context():
        assert [f.kind for f in db.session.scalars(select(SafetyFlag))] == ["threats_received"]


def test_contact_only_through_names_a_professional_of_the_owning_entity(app, client, world, factory):
    missing = _set_by_api(client, world, kind="contact_only_through")
    assert missing.status_code == 422 and "professional" in missing.json["fields"]
    factory.user("lola", roles=("lawyer",), entity="SDIS", active=False)
    # OIM's professional, SDIS's coordinator (no case role), SDIS's deactivated lawyer: none may be named
    for name in ("beto", "carla", "lola"):
        refused = _set_by_api(client, world, kind="contact_only_through", professional=name)
        assert refused.status_code == 422 and "professional" in refused.json["fields"], name
    ok = _set_by_api(client, world, kind="contact_only_through", professional=" LUZ ")  # as typed
    assert ok.status_code == 201 and ok.json["professional"] == "luz"


def test_the_form_offers_only_the_owning_entitys_active_professionals(app, client, login_as, world, factory):
    factory.user("lola", roles=("lawyer",), entity="SDIS", active=False)
    login_as(world["people"]["sw"])
    page = client.get(f"/cases/{world['code']}/safety").get_data(as_text=True)
    offered = set(re.findall(r'<option value="([^"]+)"', page[page.index('name="professional"'):].split("</select>")[0]))
    assert offered == {"ana", "luz"}, offered


@pytest.mark.parametrize("path", ["api", "web"])
def test_clearing_needs_a_reason_and_keeps_the_history(app, client, login_as, world, path):
    flag = _set_by_api(client, world).json
    code, h = world["code"], world["tokens"]["lawyer"]
    if path == "api":
        def clear(reason):
            return client.post(f"/api/v1/cases/{code}/safety-flags/{flag['id']}/clear",
                               json={"reason": reason, "version": flag["version"]}, headers=h)
    else:
        c = login_as(world["people"]["lawyer"])

        def clear(reason):
            token = page_csrf(c, f"/cases/{code}/safety")
            return c.post(f"/cases/{code}/safety/clear", data={"csrf_token": token, "flag_id": flag["id"],
                                                               "version": flag["version"], "reason": reason})
    clear("")
    with app.app_context():
        assert db.session.get(SafetyFlag, flag["id"]).cleared_at is None  # no reason: still in force
    clear("Capturaron a la red; la fiscalía confirma")
    assert client.get(f"/api/v1/cases/{code}", headers=h).json["safety_flags"] == []
    history = client.get(f"/api/v1/cases/{code}/safety-flags", headers=h).json["items"]
    assert [(f["kind"], f["in_force"], f["clear_reason"]) for f in history] == [
        ("threats_received", False, "Capturaron a la red; la fiscalía confirma")]
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.safety.clear")) is not None
    # set again after clearing: a new row, the old one stays
    assert _set_by_api(client, world).status_code == 201
    assert len(client.get(f"/api/v1/cases/{code}/safety-flags", headers=h).json["items"]) == 2


def test_a_stale_clear_is_refused(client, world):
    flag = _set_by_api(client, world).json
    r = client.post(f"/api/v1/cases/{world['code']}/safety-flags/{flag['id']}/clear",
                    json={"reason": "ya no", "version": flag["version"] + 1}, headers=world["tokens"]["sw"])
    assert r.status_code == 409 and r.json["rule"] == "stale_version"
    r = client.post(f"/api/v1/cases/{world['code']}/safety-flags/{flag['id']}/clear", json={"reason": "ya no"},
                    headers=world["tokens"]["sw"])
    assert r.status_code == 422


def test_hostile_readers(client, login_as, world):
    flag = _set_by_api(client, world).json
    code, t = world["code"], world["tokens"]
    # another entity with no referral: the case does not exist for it
    assert _set_by_api(client, world, who="icbf", kind="high_risk").status_code == 404
    assert client.get(f"/api/v1/cases/{code}/safety-flags", headers=t["icbf"]).status_code == 404
    assert client.post(f"/api/v1/cases/{code}/safety-flags/{flag['id']}/clear",
                       json={"reason": "x", "version": 1}, headers=t["icbf"]).status_code == 404
    # the receiving entity sees the flag but neither its reason nor the power to change it
    assert _set_by_api(client, world, who="oim", kind="high_risk").status_code == 403
    assert client.get(f"/api/v1/cases/{code}/safety-flags", headers=t["oim"]).status_code == 403
    # a coordinator acts on no case: no flags, no reasons, on the API or the web
    assert client.get(f"/api/v1/cases/{code}/safety-flags", headers=t["coord"]).status_code == 403
    assert _set_by_api(client, world, who="coord", kind="high_risk").status_code == 403
    c = login_as(world["people"]["coord"])
    page = c.get(f"/cases/{code}/safety")
    assert page.status_code == 403 and REASON not in page.get_data(as_text=True)
    # a flag of another case cannot be cleared through this one
    assert client.post(f"/api/v1/cases/{code}/safety-flags/999999/clear", json={"reason": "x", "version": 1},
                       headers=t["sw"]).status_code == 404


def test_a_flag_travels_with_a_referral_that_does_not_share_her_identity(client, login_as, world):
    _set_by_api(client, world, kind="no_contact_relatives")
    code = world["code"]
    body = client.get(f"/api/v1/cases/{code}", headers=world["tokens"]["oim"]).json
    assert body["safety_flags"] == ["no_contact_relatives"] and "identity" not in body
    c = login_as(world["people"]["oim"])
    for url in (f"/cases/{code}", f"/route/cases/{code}", "/referrals/", f"/cases/{code}/timeline"):
        html = c.get(url).get_data(as_text=True)
        assert "No contactar a familiares" in html, url
        assert REASON not in html
    items = client.get("/api/v1/cases", headers=world["tokens"]["oim"]).json["items"]
    assert [i["safety_flags"] for i in items if i["code"] == code] == [["no_contact_relatives"]]


def test_every_page_and_list_of_the_owner_shows_the_flag(client, login_as, world):
    _set_by_api(client, world, kind="high_risk")
    code = world["code"]
    c = login_as(world["people"]["sw"])
    for url in (f"/cases/{code}", f"/cases/{code}/edit", f"/route/cases/{code}", f"/referrals/cases/{code}/new",
                f"/cases/{code}/family", "/cases/", f"/legal/cases/{code}", f"/cases/{code}/timeline",
                f"/cases/{code}/assignments", "/my-cases"):
        r = c.get(url)
        assert r.status_code == 200 and "Riesgo alto" in r.get_data(as_text=True), url
    token = page_csrf(c, "/cases/")
    found = c.post("/cases/search", data={"csrf_token": token, "code": code})
    assert "Riesgo alto" in found.get_data(as_text=True)


def test_lists_load_the_flags_with_one_statement_whatever_the_rows(app, client, login_as, world, count_queries):
    c = login_as(world["people"]["sw"])

    def cost():
        c.get("/cases/")
        with count_queries() as count:
            assert c.get("/cases/").status_code == 200
        return count()

    with app.test_request_context():
        codes = [make_case(world["people"]["sw"].id, document_number=f"7100{i:04d}") for i in range(2)]
    for code in codes:
        _set_by_api(client, {**world, "code": code}, kind="high_risk")
    few = cost()
    with app.test_request_context():
        codes = [make_case(world["people"]["sw"].id, document_number=f"7200{i:04d}") for i in range(4)]
    for code in codes:
        _set_by_api(client, {**world, "code": code}, kind="high_risk")
    assert cost() == few


def test_a_sent_referral_carries_the_flags_to_the_receiver_before_she_accepts(app, client, world):
    """GET /api/v1/referrals/<id> and the referral list: the receiving entity's client sees the flags in force of a
    referral still `sent`, and never their reasons; so does the sender."""
    with app.test_request_context():
        ana = db.session.get(User, world["people"]["sw"].id)
        code = make_case(ana.id, document_number="52000777")
        registry.give_consent(ana, code, "sharing", method="written", given_on="2025-03-10", entity_code="OIM")
        rid = referrals.send(ana, code, to_entity="OIM", service="psychological_assessment", reason="Valoración",
                             sections=["summary", "psychosocial"]).id
    _set_by_api(client, {**world, "code": code}, kind="threats_received")
    for who, url in (("oim", f"/api/v1/referrals/{rid}"), ("oim", "/api/v1/referrals?status=sent"),
                     ("sw", f"/api/v1/referrals/{rid}"), ("sw", "/api/v1/referrals?direction=outgoing")):
        r = client.get(url, headers=world["tokens"][who])
        assert r.status_code == 200 and REASON not in r.get_data(as_text=True), url
        found = [r.json] if isinstance(r.json, dict) else [i for i in r.json if i["id"] == rid]
        assert [i["status"] for i in found] == ["sent"] and found[0]["safety_flags"] == ["threats_received"], url
    # the accepted referral of the fixture, with no flag on its case: an empty list, not a missing field
    assert all(i["safety_flags"] == [] for i in client.get("/api/v1/referrals", headers=world["tokens"]["oim"]).json
               if i["id"] != rid)


def _flagged_cases(app, client, world, n: int, start: int, *, shelter=False) -> list[str]:
    """n more open cases of ana's with a flag "high risk" (placed in a shelter, with `shelter`)."""
    from caseapp.services import accounts, casework

    codes = []
    with app.test_request_context():
        ana = db.session.get(User, world["people"]["sw"].id)
        if shelter and not casework.list_shelters(ana):
            casework.save_shelter(accounts.CLI, code="CASA-1", name="Casa Violeta", city="Bogotá",
                                  operator_entity="SDIS", capacity=20)
        for i in range(start, start + n):
            code = make_case(ana.id, document_number=f"7300{i:04d}", status="in_immediate_assistance",
                             intake_on=date(2025, 3, 10))
            if shelter:
                casework.place(ana, code, shelter_id=casework.list_shelters(ana)[0].shelter.id,
                               admitted_on="2025-03-11")
            codes.append(code)
    for code in codes:
        _set_by_api(client, {**world, "code": code}, kind="high_risk")
    return codes


@pytest.mark.parametrize("url", ["/route/agenda", "/route/shelters"])
def test_the_agenda_and_the_shelters_page_show_the_flag_at_one_statement_whatever_the_rows(
        app, client, login_as, world, count_queries, url):
    c = login_as(world["people"]["sw"])

    def page(codes):
        c.get(url)
        with count_queries() as count:
            r = c.get(url)
        html = r.get_data(as_text=True)
        assert r.status_code == 200
        for code in codes:  # the badge follows the case's code in its row
            assert re.search(re.escape(code) + r"</a>\s*<span class=\"badge badge-safety\">Riesgo alto</span>",
                             html), code
        return [s for s in count.statements if "safety_flags" in s], count()

    shelter = url.endswith("shelters")
    few = _flagged_cases(app, client, world, 1, 0, shelter=shelter)
    flags_few, total_few = page(few)
    many = few + _flagged_cases(app, client, world, 3, 1, shelter=shelter)
    flags_many, total_many = page(many)
    assert len(flags_few) == len(flags_many) == 1, flags_many
    if not shelter:  # the shelters page writes one access-log row per case shown (tests/web/test_page_statements)
        assert total_many == total_few


def test_pages_of_flagged_cases_hold_each_case_once_with_its_flags(app, client, world):
    # The list joins the flags to its page: a case with two flags is two joined rows, which must still take one of
    # the page's places, or a page would hold fewer cases and the next one skip some.
    with app.test_request_context():
        codes = [make_case(world["people"]["sw"].id, document_number=f"7300{i:04d}") for i in range(5)]
    for code in codes[:4]:
        for kind in ("high_risk", "threats_received"):
            assert _set_by_api(client, {**world, "code": code}, kind=kind).status_code == 201
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/cases", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=world["tokens"]["sw"]).json
        assert len(page["items"]) == 2 or page["next_cursor"] is None
        seen += [(item["code"], sorted(item["safety_flags"])) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [code for code, _ in seen] == sorted([world["code"], *codes], reverse=True)
    assert dict(seen) == {world["code"]: [], codes[4]: [],
                          **{code: ["high_risk", "threats_received"] for code in codes[:4]}}


def test_a_case_with_two_flags_and_several_consents_shows_each_once(app, client, world):
    # The case is read with its consents and its flags joined: n consents × two flags are 2n joined rows, which must
    # still be n consents and two flags.
    ana = world["people"]["sw"]
    with app.test_request_context():
        registry.give_consent(db.session.get(User, ana.id), world["code"], "sharing", method="written",
                              given_on="2025-03-11", entity_code="ICBF")
        stored = sorted(db.session.scalars(select(Consent.id).join(Case).where(Case.code == world["code"])))
    for kind in ("high_risk", "threats_received"):
        assert _set_by_api(client, world, kind=kind).status_code == 201
    case = client.get(f"/api/v1/cases/{world['code']}", headers=world["tokens"]["sw"]).json
    assert sorted(case["safety_flags"]) == ["high_risk", "threats_received"]
    assert len(stored) >= 3 and sorted(c["id"] for c in case["consents"]) == stored
    assert sorted(c["entity"] for c in case["consents"] if c["kind"] == "sharing") == ["ICBF", "OIM"]
