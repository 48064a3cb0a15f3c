"""The case list, a page at a time, is exactly what authz.visible_cases allows, newest first, none skipped and none
twice: for a receiving entity whose visible cases are its own and some referred to it, read from two index ranges
(authz.newest_visible_cases). Walked through the service, the API (its cursor) and the web list, with a status
filter too; cases it may not see (a referral still pending, one to another entity, one whose consent was
withdrawn) never show, and a case referred to it twice shows once."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from caseapp import authz
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.cases import Case, Consent
from caseapp.services import referrals, registry
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import new_api_token

ON = date(2025, 3, 10)
SECTIONS = {"psychological_assessment": ["summary", "psychosocial"], "accompaniment": ["summary", "identity"]}


@pytest.fixture
def world(app, client, factory, login_as):
    ana = factory.user("ana", roles=("social_worker",), entity="SDIS")
    beto = factory.user("beto", roles=("social_worker",), entity="OIM")
    factory.user("carla", roles=("social_worker",), entity="ICBF")
    with app.test_request_context():
        owner = db.session.get(User, ana.id)
        made = {}
        # interleaved ids: SDIS's cases, some referred to OIM, and OIM's own
        for i, (who, status) in enumerate([("ana", "identified"), ("ana", "identified"), ("ana", "identified"),
                                           ("ana", "in_immediate_assistance"), ("beto", "in_immediate_assistance"),
                                           ("ana", "identified"), ("ana", "in_immediate_assistance"),
                                           ("ana", "identified"), ("ana", "identified"), ("beto", "identified")]):
            user = ana if who == "ana" else beto
            made[i] = make_case(user.id, document_number=f"7700{i:04d}", status=status, intake_on=ON)
        beto_user = db.session.get(User, beto.id)

        def refer(i, to="OIM", accept=True, service="psychological_assessment"):
            code = made[i]
            if not db.session.scalar(select(Consent.id).join(Case).where(
                    Case.code == code, Consent.kind == "sharing", Consent.entity_id.is_not(None),
                    Consent.withdrawn_on.is_(None), Consent.entity.has(code=to))):
                registry.give_consent(owner, code, "sharing", method="written", given_on="2025-03-10",
                                      entity_code=to)
            ref = referrals.send(owner, code, to_entity=to, service=service, reason="Valoración",
                                 sections=SECTIONS[service], due_on="2099-01-01")
            if accept and to == "OIM":
                referrals.accept(beto_user, ref.id, version=ref.version)
            return ref

        for i in (0, 3, 6, 8):
            refer(i)
        refer(3, service="accompaniment")  # referred twice to OIM, both accepted: listed once, and the case
        # below it (0, below all of OIM's own) still reached when a page ends on it
        refer(2, accept=False)  # still pending: not OIM's to see
        refer(5, to="ICBF", accept=False)  # another entity's
        refer(7)
        withdrawn = db.session.scalar(select(Consent).join(Case).where(Case.code == made[7], Consent.kind == "sharing"))
        registry.withdraw_consent(owner, made[7], withdrawn.id, version=withdrawn.version, on="2025-04-01")
        token = new_api_token(beto.id)
    login_as(beto)
    return {"app": app, "client": client, "beto": beto, "made": made, "api": {"Authorization": f"Bearer {token}"}}


def _rule(world, status=None) -> list[str]:
    """What visible_cases allows her, newest first: the rule the list must follow."""
    with world["app"].test_request_context():
        stmt = authz.visible_cases(db.session.get(User, world["beto"].id))
        if status:
            stmt = stmt.where(Case.status == status)
        return [c.code for c in db.session.scalars(stmt.order_by(Case.id.desc()))]


def _service_walk(world, status, size):
    codes, cursor = [], None
    with world["app"].test_request_context():
        while True:
            page, cursor = registry.list_cases(db.session.get(User, world["beto"].id), cursor=cursor, status=status,
                                               limit=size)
            codes += [c.code for c in page]
            if cursor is None:
                return codes


def _api_walk(world, status, size):
    codes, cursor, client = [], None, world["client"]
    while True:
        query = f"limit={size}" + (f"&status={status}" if status else "") + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/cases?{query}", headers=world["api"]).get_json()
        codes += [item["code"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return codes


def _web_page(world, status):
    html = world["client"].get("/cases/" + (f"?status={status}" if status else "")).get_data(as_text=True)
    return sorted((html.index(f'href="/cases/{code}"'), code) for code in world["made"].values()
                  if f'href="/cases/{code}"' in html)


@pytest.mark.parametrize("status", [None, "identified", "in_immediate_assistance"])
@pytest.mark.parametrize("path", ["service, 1 a page", "service, 2 a page", "api, 1 a page", "api, 2 a page", "web"])
def test_every_visible_case_once_newest_first_and_nothing_else(world, path, status):
    expected = _rule(world, status)
    made = world["made"]
    # the rule itself, as set up: her own cases and the live referrals to her, not the pending, ICBF's or withdrawn
    owned_or_live = [made[i] for i in (9, 8, 6, 4, 3, 0)]
    assert set(expected) <= set(owned_or_live) and not {made[1], made[2], made[5]} & set(expected)
    assert made[7] not in expected
    if status is None:
        assert expected == owned_or_live
    if path == "web":
        listed = [code for _at, code in _web_page(world, status)]
    else:
        walk = _service_walk if path.startswith("service") else _api_walk
        listed = walk(world, status, int(path.split(", ")[1][0]))
    assert listed == expected


NAMED = (3, 4, 9)  # her own cases (4, 9), and the one referred to her with the identity section (3)


def _names_listed(world, path) -> dict[str, bool]:
    """code -> whether the row names her, on one path."""
    client, made = world["client"], world["made"]
    if path == "service list":
        with world["app"].test_request_context():
            rows = registry.list_cases(db.session.get(User, world["beto"].id))[0]
        return {r.code: r.given_names is not None or r.family_names is not None for r in rows}
    if path == "api list":
        return {i["code"]: "given_names" in i or "family_names" in i
                for i in client.get("/api/v1/cases", headers=world["api"]).get_json()["items"]}
    if path == "api search":
        out = {}
        for code in made.values():
            for item in client.post("/api/v1/cases/search", json={"code": code}, headers=world["api"]).get_json()["items"]:
                out[item["code"]] = "given_names" in item or "family_names" in item
        return out
    pages = {"web list": [client.get("/cases/").get_data(as_text=True)]}.get(path) or [
        client.post("/cases/search", data={"code": code, "csrf_token": token}).get_data(as_text=True)
        for token in [csrf_token(client, "/cases/")] for code in made.values()]
    out = {}
    for html in pages:
        for code in made.values():
            at = html.find(f'href="/cases/{code}"')
            if at >= 0:
                row = html[at:html.index("</tr>", at)]
                out[code] = "Mariana" in row or "Pérez" in row
    return out


@pytest.mark.parametrize("path", ["service list", "api list", "api search", "web list", "web search"])
def test_a_row_names_her_only_to_a_reader_of_her_identity(world, path):
    made = world["made"]
    listed = _names_listed(world, path)
    assert set(listed) == {made[i] for i in (9, 8, 6, 4, 3, 0)}  # what she may see, by list or by code
    assert {code for code, named in listed.items() if named} == {made[i] for i in NAMED}


def test_a_list_decrypts_no_name_it_does_not_show(world, monkeypatch):
    from caseapp import crypto

    opened = []
    real = crypto.decrypt_value
    monkeypatch.setattr(crypto, "decrypt_value", lambda *a: opened.append(a[2]) or real(*a))
    with world["app"].test_request_context():
        registry.list_cases(db.session.get(User, world["beto"].id))
    # two names (given, family) of the three women she may know, and nothing of the other three
    assert len(opened) == 2 * len(NAMED) and all(aad.startswith(b"victims/") for aad in opened)
