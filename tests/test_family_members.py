"""Family members (indirect victims): registered and corrected by the owner's social workers (web and API), identity
encrypted under the victim's key and shredded with hers, their own assistance counted apart: the victim's route,
phases and steps do not move."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, IndirectVictim
from caseapp.models.route import AssistanceStep
from caseapp.services import referrals, registry
from caseapp.services.registry import erasure
from tests.cases_factory import make_case
from tests.world import new_api_token, page_csrf

NAMES = "Rosa Elvira Pérez"
DOCUMENT = "1047123456"


def _token(app, user_id) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {new_api_token(user_id)}"}


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
        ref = referrals.send(ana, code, to_entity="OIM", service="psychological_assessment", reason="Valoración",
                             sections=["summary", "psychosocial"], due_on="2099-01-01")
        referrals.accept(beto, ref.id, version=ref.version)
    return {"code": code, "people": people, "tokens": {k: _token(app, u.id) for k, u in people.items()}}


MEMBER = {"names": NAMES, "relationship": "mother", "age_group": "48+", "document_type": "CC",
          "document_number": DOCUMENT}


def _add_by_api(client, world, who="sw", **fields):
    return client.post(f"/api/v1/cases/{world['code']}/family-members", json={**MEMBER, **fields},
                       headers=world["tokens"][who])


def _add_by_web(client, login_as, world, who="sw", **fields):
    c = login_as(world["people"][who])
    url = f"/cases/{world['code']}/family"
    token = page_csrf(c, url)
    return c.post(url, data={"csrf_token": token, **MEMBER, **fields})


ADDERS = {"api": lambda client, login_as, world, who="sw", **kw: _add_by_api(client, world, who, **kw),
          "web": _add_by_web}


@pytest.mark.parametrize("path", ADDERS)
def test_a_social_worker_registers_a_family_member_encrypted_and_logged(app, client, login_as, world, path):
    r = ADDERS[path](client, login_as, world)
    assert r.status_code in (201, 302), r.get_data(as_text=True)[:300]
    with app.app_context():
        member = db.session.scalar(select(IndirectVictim))
        assert member.relationship_kind == "mother" and member.age_group == "48+"
        assert member.names == NAMES and member.document_number == DOCUMENT
        assert NAMES.encode() not in member.names_enc and DOCUMENT.encode() not in member.document_number_enc
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.family.add")) is not None
    listed = client.get(f"/api/v1/cases/{world['code']}/family-members", headers=world["tokens"]["lawyer"]).json
    assert [(m["names"], m["relationship"], m["document_number"]) for m in listed["items"]] == [
        (NAMES, "mother", DOCUMENT)]
    page = login_as(world["people"]["sw"]).get(f"/cases/{world['code']}/family").get_data(as_text=True)
    assert NAMES in page and "Madre" in page


@pytest.mark.parametrize("path", ADDERS)
@pytest.mark.parametrize("bad", [{"names": "  "}, {"relationship": "neighbour"}, {"age_group": "old"},
                                 {"document_type": "NONE"}, {"document_type": "CC", "document_number": ""}])
def test_bad_input_saves_nothing(app, client, login_as, world, path, bad):
    r = ADDERS[path](client, login_as, world, **bad)
    assert r.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IndirectVictim)) == 0


def test_who_may_read_and_write_family_members(client, login_as, world):
    code, t = world["code"], world["tokens"]
    assert _add_by_api(client, world).status_code == 201
    # the owner's lawyer reads the identity section but does not edit the case
    assert _add_by_api(client, world, who="lawyer").status_code == 403
    # a receiving entity whose referral does not share her identity: neither reads nor writes them
    assert client.get(f"/api/v1/cases/{code}/family-members", headers=t["oim"]).status_code == 403
    assert _add_by_api(client, world, who="oim").status_code == 403
    oim_page = login_as(world["people"]["oim"]).get(f"/cases/{code}/family")
    assert oim_page.status_code == 403 and NAMES not in oim_page.get_data(as_text=True)
    # another entity: the case does not exist for it
    assert client.get(f"/api/v1/cases/{code}/family-members", headers=t["icbf"]).status_code == 404
    assert _add_by_api(client, world, who="icbf").status_code == 404
    # a coordinator acts on no case
    assert client.get(f"/api/v1/cases/{code}/family-members", headers=t["coord"]).status_code == 403


def test_a_correction_names_the_version_it_was_made_from(client, world):
    member = _add_by_api(client, world).json
    url = f"/api/v1/cases/{world['code']}/family-members/{member['id']}"
    h = world["tokens"]["sw"]
    assert client.patch(url, json={"relationship": "sibling"}, headers=h).status_code == 422
    assert client.patch(url, json={"relationship": "sibling", "version": member["version"] + 1},
                        headers=h).json["rule"] == "stale_version"
    r = client.patch(url, json={"relationship": "sibling", "age_group": "30-38", "version": member["version"]},
                     headers=h)
    assert r.status_code == 200 and r.json["relationship"] == "sibling" and r.json["names"] == NAMES
    # a member of another case cannot be reached through this one
    other = f"/api/v1/cases/{world['code']}/family-members/999999"
    assert client.patch(other, json={"version": 1}, headers=h).status_code == 404


def test_a_family_members_assistance_is_counted_apart_and_does_not_move_her_route(app, client, login_as, world):
    code, h = world["code"], world["tokens"]["sw"]
    member = _add_by_api(client, world).json
    url = f"/api/v1/cases/{code}/family-members/{member['id']}/steps"
    assert client.post(url, json={"kind": "reception", "status": "done", "on": "2099-01-01"},
                       headers=h).status_code == 422  # done in the future
    assert client.post(url, json={"kind": "reception", "status": "planned"}, headers=h).status_code == 422
    r = client.post(url, json={"kind": "reception", "status": "done", "on": "2025-03-12", "notes": "Acogida"},
                    headers=h)
    assert r.status_code == 201 and r.json["kind"] == "reception"
    # a lawyer does not record a psychosocial kind; the receiving entity records nothing here
    assert client.post(url, json={"kind": "reception", "status": "done"},
                       headers=world["tokens"]["lawyer"]).status_code == 403
    assert client.post(url, json={"kind": "reception", "status": "done"},
                       headers=world["tokens"]["oim"]).status_code == 403
    listed = client.get(f"/api/v1/cases/{code}/family-members", headers=h).json
    assert listed["assisted"] == 1 and listed["items"][0]["assisted"] is True
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        # her phase and her steps are hers alone: the family member's reception opened nothing
        assert case.status == "identified" and case.intake_on is None
        assert db.session.scalar(select(func.count()).select_from(AssistanceStep)) == 0
    page = login_as(world["people"]["sw"]).get(f"/cases/{code}/family").get_data(as_text=True)
    assert "1 atendidos" in page and "Recepción" in page


def test_the_web_records_a_step_for_a_family_member(app, client, login_as, world):
    member = _add_by_api(client, world).json
    c = login_as(world["people"]["sw"])
    url = f"/cases/{world['code']}/family"
    token = page_csrf(c, url)
    r = c.post(f"{url}/{member['id']}/steps", data={"csrf_token": token, "kind": "reception", "status": "done",
                                                     "on": "2025-03-12"})
    assert r.status_code == 302
    assert "Realizada" in c.get(url).get_data(as_text=True)


def test_a_shredded_victims_family_members_cannot_be_read(app, client, world):
    member = _add_by_api(client, world).json
    with app.test_request_context():
        erasure.erase_case(world["code"])
    with app.app_context():
        row = db.session.get(IndirectVictim, member["id"])
        assert row.names == "" and row.document_number == ""  # ERASED: the key that opened them is gone
        assert row.names_enc is not None and NAMES.encode() not in row.names_enc
    listed = client.get(f"/api/v1/cases/{world['code']}/family-members", headers=world["tokens"]["sw"]).json
    assert listed["items"][0]["names"] is None and listed["items"][0]["erased"] is True
    assert listed["items"][0]["relationship"] == "mother"  # the coarse fields stay, like hers


def test_the_web_corrects_a_family_member_and_refuses_a_stale_copy(app, client, login_as, world):
    member = _add_by_api(client, world).json
    c = login_as(world["people"]["sw"])
    url = f"/cases/{world['code']}/family/{member['id']}/edit"
    token = page_csrf(c, url)
    form = {**MEMBER, "csrf_token": token, "relationship": "sibling", "version": member["version"]}
    assert c.post(url, data=form).status_code == 302
    stale = c.post(url, data={**form, "relationship": "father"})  # the same, older copy again
    assert stale.status_code == 409
    listed = client.get(f"/api/v1/cases/{world['code']}/family-members", headers=world["tokens"]["sw"]).json
    assert listed["items"][0]["relationship"] == "sibling"
    # the lawyer reads them but does not correct them
    assert login_as(world["people"]["lawyer"]).get(url).status_code == 403


@pytest.mark.parametrize("path", ADDERS)
def test_once_her_identity_is_erased_nothing_new_names_her_family_or_the_flags(app, client, login_as, world, path):
    """Her key is destroyed: a new family member, a correction or a flag's reason cannot be encrypted under it.
    The answer is a clear refusal (409), never a server error, on the web and the API."""
    member = _add_by_api(client, world).json
    with app.test_request_context():
        erasure.erase_case(world["code"])
    assert ADDERS[path](client, login_as, world).status_code == 409
    code, t = world["code"], world["tokens"]["sw"]
    assert client.patch(f"/api/v1/cases/{code}/family-members/{member['id']}",
                        json={"relationship": "father", "version": member["version"]}, headers=t).status_code == 409
    r = client.post(f"/api/v1/cases/{code}/safety-flags", json={"kind": "high_risk", "reason": "Riesgo"}, headers=t)
    assert r.status_code == 409 and r.json["rule"] == "identity_erased"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IndirectVictim)) == 1


def test_a_web_correction_without_the_version_read_is_refused(app, client, login_as, world):
    """A form posted without its version field must not be taken as made from the current copy."""
    member = _add_by_api(client, world).json
    assert client.patch(f"/api/v1/cases/{world['code']}/family-members/{member['id']}",
                        json={"relationship": "sibling", "version": member["version"]},
                        headers=world["tokens"]["sw"]).status_code == 200
    c = login_as(world["people"]["sw"])
    url = f"/cases/{world['code']}/family/{member['id']}/edit"
    form = {**MEMBER, "csrf_token": page_csrf(c, url), "relationship": "father"}  # no version
    assert c.post(url, data=form).status_code in (409, 422)
    listed = client.get(f"/api/v1/cases/{world['code']}/family-members", headers=world["tokens"]["sw"]).json
    assert listed["items"][0]["relationship"] == "sibling"
