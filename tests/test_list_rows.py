"""The rows of the case list and of search (services.registry.listing, read as columns) against the rule they follow,
computed from authz's own primitives on loaded cases (what the list showed when it loaded cases): which cases, in
which order, paged without gap or repeat, which flags (in force only, in the order set), child, owning entity, and
her names only where authz.can(case.identity.read) and she is not erased. Five readers (owner social worker and
lawyer, receiving social worker and lawyer, the child-protection entity) over referrals of every status and basis:
summary only, consent withdrawn or given to another entity, a coordinator's override, a child's mandatory referral."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from caseapp import authz
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.models.safety import SafetyFlag
from caseapp.services import registry
from caseapp.services.registry.erasure import erase_case
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.world import new_api_token

ON = date(2025, 3, 10)


ID = "summary,identity"
# (case, whose, how it is made, its referrals, its flags (kind, cleared)), and who sees what: OIM receives them
WORLD = [
    (0, "ana", {}, [{}], []),  # summary only
    (1, "ana", {"status": "in_immediate_assistance"}, [{"sections": ID}],
     [("threats_received", False), ("high_risk", False), ("no_phone_contact", False), ("no_contact_relatives", True)]),
    (2, "ana", {}, [{"sections": ID, "withdrawn": True}], []),
    (3, "ana", {}, [{"sections": ID, "status": "sent"}], []),
    (4, "ana", {}, [{"sections": ID, "status": "rejected"}], []),
    (5, "ana", {}, [{"sections": ID, "status": "ended"}], []),
    (6, "ana", {}, [{"sections": "summary"}, {"sections": ID, "consent": False}],
     [("high_risk", False), ("threats_received", False)]),
    (7, "ana", {}, [{"sections": ID, "consent": False, "override": True}], []),
    (8, "ana", {"is_child": True}, [{"to": "ICBF", "sections": ID, "consent": False, "mandatory": True}], []),
    (9, "ana", {}, [{"sections": ID}], []),  # erased below
    (10, "beto", {}, [], [("high_risk", False), ("threats_received", True)]),
    (11, "beto", {}, [], []),  # erased below
    (12, "ana", {}, [{"sections": ID, "consent_to": "ICBF"}], []),
    (13, "ana", {}, [{"sections": ID, "status": "done"}], []),
    (14, "ana", {"is_child": True}, [{"sections": "identity,summary", "consent": False, "mandatory": True}], []),
    (15, "ana", {}, [{"sections": ID}], [("high_risk", True)]),
]


@pytest.fixture
def world(app, client, factory):
    users = {
        "ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
        "lia": factory.user("lia", roles=("lawyer",), entity="SDIS"),
        "beto": factory.user("beto", roles=("social_worker",), entity="OIM"),
        "luis": factory.user("luis", roles=("lawyer",), entity="OIM"),
        "carla": factory.user("carla", roles=("social_worker",), entity="ICBF"),
    }
    with app.test_request_context():
        ent = {e.code: e.id for e in db.session.scalars(select(Entity))}
        ana = db.session.get(User, users["ana"].id)

        def case(i, who="ana", **kw):
            return db.session.scalar(select(Case).where(Case.code == make_case(
                users[who].id, document_number=f"8800{i:04d}", given_names=f"Nombre{i}", family_names=f"Apellido{i}",
                **kw)))

        def refer(c, to="OIM", sections="summary", status="accepted", consent=True, withdrawn=False,
                  override=False, mandatory=False, consent_to=None):
            if consent:
                db.session.add(Consent(case_id=c.id, kind="sharing", entity_id=ent[consent_to or to], given_on=ON,
                                       method="written", recorded_at=utcnow(),
                                       withdrawn_on=ON + timedelta(days=1) if withdrawn else None))
            db.session.add(Referral(case_id=c.id, from_entity_id=c.owner_entity_id, to_entity_id=ent[to],
                                    service="psychological_assessment", shared_sections=sections, status=status,
                                    mandatory=mandatory, sent_at=utcnow(), due_on=ON,
                                    consent_override_by_id=ana.id if override else None))

        def flag(c, kind, cleared=False):
            db.session.add(SafetyFlag(case_id=c.id, kind=kind, in_force_key=None if cleared else f"{c.id}:{kind}",
                                      set_by_id=ana.id, set_at=utcnow(), cleared_at=utcnow() if cleared else None))

        cs = {}
        for i, who, made, referrals, flags in WORLD:
            cs[i] = case(i, who, **made)
            for referral in referrals:
                refer(cs[i], **referral)
            for kind, cleared in flags:
                flag(cs[i], kind, cleared)
        db.session.commit()
        codes = {i: c.code for i, c in cs.items()}
        erase_case(codes[9])
        erase_case(codes[11])
        tokens = {u: new_api_token(users[u].id) for u in users}
    return {"app": app, "client": client, "users": users, "codes": codes, "tokens": tokens}


def _oracle(world, who, status=None):
    with world["app"].test_request_context():
        user = db.session.get(User, world["users"][who].id)
        stmt = authz.visible_cases(user)
        if status:
            stmt = stmt.where(Case.status == status)
        out = []
        for c in db.session.scalars(stmt.order_by(Case.id.desc())).unique():
            readable = authz.can(user, "case.identity.read", c)
            names = (c.victim.given_names, c.victim.family_names) if readable and not c.victim.erased else (None, None)
            out.append((c.code, c.status, c.is_child, c.owner_entity.code, tuple(f.kind for f in c.safety_flags),
                        readable, c.victim.erased, names))
        return out


def _as_tuple(r):
    return (r.code, r.status, r.is_child, r.owner_code, tuple(r.flags), r.identity_readable, r.erased,
            (r.given_names, r.family_names))


WHO = ["ana", "lia", "beto", "luis", "carla"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("status", [None, "identified"])
@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_service_list_is_the_rule(world, who, status, size):
    expected = _oracle(world, who, status)
    got, cursor = [], None
    with world["app"].test_request_context():
        while True:
            page, cursor = registry.list_cases(db.session.get(User, world["users"][who].id), cursor=cursor,
                                               status=status, limit=size)
            got += [_as_tuple(r) for r in page]
            if cursor is None:
                break
    assert got == expected


@pytest.mark.parametrize("who", WHO)
def test_service_search_by_code_is_the_rule(world, who):
    expected = {row[0]: row for row in _oracle(world, who)}
    got = {}
    with world["app"].test_request_context():
        for code in world["codes"].values():
            for r in registry.search_cases(db.session.get(User, world["users"][who].id), code=code):
                got[r.code] = _as_tuple(r)
    assert got == expected


@pytest.mark.parametrize("who", WHO)
def test_api_list_and_search_name_only_readers(world, who):
    expected = {row[0]: row for row in _oracle(world, who)}
    client = world["client"]
    headers = {"Authorization": f"Bearer {world['tokens'][who]}"}
    items = client.get("/api/v1/cases?limit=200", headers=headers).get_json()["items"]
    for code in world["codes"].values():
        items += client.post("/api/v1/cases/search", json={"code": code}, headers=headers).get_json()["items"]
    for item in items:
        code, _s, child, owner, flags, readable, erased, names = expected[item["code"]]
        shown = (item.get("given_names"), item.get("family_names"))
        assert shown == names, item
        assert item["safety_flags"] == list(flags) and item["is_child"] == child and item["owner_entity"] == owner
    assert {i["code"] for i in items} == set(expected)


def test_the_world_is_what_the_rule_is_tested_on(world):
    c = world["codes"]
    rows = _oracle(world, "beto")
    assert [r[0] for r in rows] == [c[i] for i in (15, 14, 11, 10, 9, 7, 6, 1, 0)]
    assert {r[0] for r in rows if r[7][0]} == {c[i] for i in (15, 14, 10, 7, 6, 1)}
    assert dict((r[0], r[4]) for r in rows)[c[1]] == ("threats_received", "high_risk", "no_phone_contact")
    assert [r[0] for r in _oracle(world, "carla")] == [c[8]]
