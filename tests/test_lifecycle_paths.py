"""The case lifecycle's rules hold on every path that can change a case's status.

Every path (the case page's status form, the route page's forms, the API's status endpoint, a first immediate
step on the web and through the API) is tried against every rule that applies to its move. A refusal must leave
the status unchanged and name its rule: the rule's code in the API's answer, its Spanish message on the web. A new
path added to PATHS without going through services.route.lifecycle fails here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.models.referrals import Referral
from caseapp.models.route import CaseClosure, CaseRoute, ShelterStay
from caseapp.services import accounts, casework, route
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import flashes, new_api_token

IDENTIFIED = date(2025, 3, 10)
MOVES = {  # a move and the fields that make it valid (a rule's setup removes what it tests)
    "to_immediate": {"on": "2025-03-11"},
    "to_mediate": {"on": "2025-03-20", "complaint_on": "2025-03-12", "acta_on": "2025-03-19"},
    "close": {"on": "2025-06-01", "reason": "goals_met"},
}
TARGET = {"to_immediate": "in_immediate_assistance", "to_mediate": "in_mediate_assistance", "close": "closed"}


@dataclass
class Outcome:
    done: bool
    text: str  # what the user read: the API's message and field errors, or the web page and its flashes
    rule: str | None = None


@pytest.fixture
def env(app, client, factory, login_as):
    owner = factory.user("ana", roles=("social_worker", "lawyer"), entity="SDIS")
    factory.user("beto", roles=("social_worker",), entity="OIM")
    factory.entity("ICBF", kind="child_protection")
    login_as(owner)
    with app.test_request_context():
        token = new_api_token(owner.id)
    return {"app": app, "client": client, "owner": owner, "api": {"Authorization": f"Bearer {token}"}}


def _case(code) -> Case:
    return db.session.scalar(select(Case).where(Case.code == code))


def _version(env, code) -> int:
    with env["app"].app_context():
        return _case(code).version


def _status(env, code) -> str:
    with env["app"].app_context():
        return _case(code).status


# --- the paths -----------------------------------------------------------------------------------------------


def api_status(env, move, code, fields):
    body = {"status": TARGET[move], "version": _version(env, code), **fields}
    r = env["client"].post(f"/api/v1/cases/{code}/status", json=body, headers=env["api"])
    data = r.get_json()
    if r.status_code == 200:
        return Outcome(True, "")
    text = " ".join([data.get("message", "")] + [m for ms in data.get("fields", {}).values() for m in ms])
    return Outcome(False, text, data.get("rule"))


def web_case_page(env, move, code, fields):
    client = env["client"]
    data = {"csrf_token": csrf_token(client, f"/cases/{code}"), "version": _version(env, code),
            "status": TARGET[move], **fields}
    r = client.post(f"/cases/{code}/status", data=data)
    assert r.status_code == 302
    shown = flashes(client)
    errors = " ".join(text for category, text in shown if category == "error")
    client.get(f"/cases/{code}")  # the page that shows them, which consumes them
    return Outcome(not errors, errors)


def _route_form(env, code, action, prefix, fields):
    client = env["client"]
    token = csrf_token(client, f"/route/cases/{code}")
    data = {"csrf_token": token, f"{prefix}-csrf_token": token, f"{prefix}-version": _version(env, code)}
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    r = client.post(f"/route/cases/{code}/{action}", data=data)
    if r.status_code == 302:
        client.get(r.headers["Location"])
        return Outcome(True, "")
    return Outcome(False, r.get_data(as_text=True))


def web_route_page(env, move, code, fields):
    if move == "to_mediate":
        fields = {("closed_on" if k == "on" else k): v for k, v in fields.items()}
        return _route_form(env, code, "immediate/close", "imm", fields)
    if move == "close":
        fields = {("closed_on" if k == "on" else k): v for k, v in fields.items()}
        return _route_form(env, code, "close", "close", fields)
    # The route page has no "start immediate assistance" button: its first immediate step starts it.
    return _route_form(env, code, "steps", "step", {"kind": "reception", "status": "done", "done_on": fields["on"]})


def api_first_step(env, move, code, fields):
    body = {"kind": "reception", "status": "done", "done_on": fields["on"]}
    r = env["client"].post(f"/api/v1/cases/{code}/steps", json=body, headers=env["api"])
    data = r.get_json()
    if r.status_code == 201:
        return Outcome(True, "")
    return Outcome(False, data.get("message", ""), data.get("rule"))


def _api(env, url, body, ok):
    r = env["client"].post(url, json=body, headers=env["api"])
    data = r.get_json()
    if r.status_code == ok:
        return Outcome(True, "")
    text = " ".join([data.get("message", "")] + [m for ms in data.get("fields", {}).values() for m in ms])
    return Outcome(False, text, data.get("rule"))


def api_move(env, move, code, fields):
    """The route's own API endpoints: closing the immediate phase, closing the case."""
    version = _version(env, code)
    if move == "to_mediate":
        body = {("closed_on" if k == "on" else k): v for k, v in fields.items()}
        return _api(env, f"/api/v1/cases/{code}/immediate/close", {**body, "version": version}, 200)
    body = {("closed_on" if k == "on" else k): v for k, v in fields.items()}
    return _api(env, f"/api/v1/cases/{code}/closure", {**body, "version": version}, 200)


PATHS = {
    "to_immediate": (api_status, web_case_page, web_route_page, api_first_step),
    "to_mediate": (api_status, api_move, web_case_page, web_route_page),
    "close": (api_status, api_move, web_case_page, web_route_page),
}


# --- the rules ------------------------------------------------------------------------------------------------


def _immediate_case(owner_id, **kw):
    return make_case(owner_id, identified_on=IDENTIFIED, status="in_immediate_assistance", intake_on=IDENTIFIED, **kw)


def _referral(code, to_code, *, mandatory=False, status="sent"):
    case = _case(code)
    to = db.session.scalar(select(Entity).where(Entity.code == to_code))
    if not mandatory:
        case.consents.append(Consent(kind="sharing", entity_id=to.id, given_on=IDENTIFIED, method="written",
                                     recorded_at=utcnow()))
    row = Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=to.id, status=status,
                   service="accompaniment", shared_sections="summary,identity", mandatory=mandatory,
                   sent_at=utcnow(), due_on=date(2025, 4, 1))
    db.session.add(row)
    db.session.commit()


def setup_complaint_required(env):
    return _immediate_case(env["owner"].id), {"complaint_on": None}


def setup_acta_required(env):
    return _immediate_case(env["owner"].id), {"acta_on": None}


def setup_referrals_pending(env):
    code = _immediate_case(env["owner"].id)
    _referral(code, "OIM")
    return code, {}


def setup_child_referral_pending(env):
    code = _immediate_case(env["owner"].id, is_child=True, age_group="9-17")
    _referral(code, "ICBF", mandatory=True)
    return code, {}


def setup_shelter_stay_open(env):
    code = _immediate_case(env["owner"].id)
    owner = db.session.get(User, env["owner"].id)
    shelter = casework.save_shelter(accounts.CLI, code="CASA-1", name="Casa Violeta", city="Bogotá",
                                    operator_entity="SDIS", capacity=3)
    casework.place(owner, code, shelter_id=shelter.id, admitted_on="2025-03-11")
    return code, {}


def setup_closure_reason_required(env):
    return _immediate_case(env["owner"].id), {"reason": None}


def setup_assistance_consent_required(env):
    from caseapp.services import registry

    code = make_case(env["owner"].id, identified_on=IDENTIFIED)
    consent = _case(code).consents[0]
    registry.withdraw_consent(db.session.get(User, env["owner"].id), code, consent.id, version=consent.version,
                              on="2025-03-10")
    return code, {}


def setup_transition_not_allowed(env):
    return make_case(env["owner"].id, identified_on=IDENTIFIED), {}


RULES = {  # rule: (the move it refuses, the world it needs, what the refusal says in Spanish)
    "complaint_required": ("to_mediate", setup_complaint_required, "parte de la denuncia penal"),
    "acta_required": ("to_mediate", setup_acta_required, "requiere el acta única"),
    "referrals_pending": ("close", setup_referrals_pending, "remisiones esperando respuesta"),
    "child_referral_pending": ("close", setup_child_referral_pending, "no ha sido respondida"),
    "shelter_stay_open": ("close", setup_shelter_stay_open, "casa de acogida"),
    "closure_reason_required": ("close", setup_closure_reason_required, "motivo"),
    "assistance_consent_required": ("to_immediate", setup_assistance_consent_required, "consentimiento"),
    "transition_not_allowed": ("to_mediate", setup_transition_not_allowed, "no puede pasar"),
}
CASES = [(rule, path.__name__) for rule, (move, _setup, _text) in RULES.items() for path in PATHS[move]]


@pytest.mark.parametrize("rule, path_name", CASES)
def test_each_rule_is_refused_on_each_path_and_named(env, rule, path_name):
    move, setup, spanish = RULES[rule]
    path = next(p for p in PATHS[move] if p.__name__ == path_name)
    with env["app"].test_request_context():
        code, change = setup(env)
    before = _status(env, code)
    fields = {k: v for k, v in {**MOVES[move], **change}.items() if v is not None}
    outcome = path(env, move, code, fields)
    assert not outcome.done, f"{path_name} let {move} through despite {rule}"
    assert _status(env, code) == before
    assert spanish in outcome.text.lower(), outcome.text[-2000:]
    if path_name.startswith("api"):
        assert outcome.rule == rule


@pytest.mark.parametrize("path", PATHS["close"], ids=lambda p: p.__name__)
def test_every_closure_writes_its_record_and_reopening_keeps_it(env, path):
    with env["app"].test_request_context():
        code = _immediate_case(env["owner"].id)
    assert path(env, "close", code, dict(MOVES["close"])).done
    with env["app"].app_context():
        case = _case(code)
        closure = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case.id))
        assert case.status == "closed" and closure.reason == "goals_met" and closure.status_before == \
            "in_immediate_assistance" and case.closed_on == date(2025, 6, 1)
        route.reopen_case(db.session.get(User, env["owner"].id), code, reason="needs_assistance_again",
                          version=case.version)
        assert case.status == "in_immediate_assistance"
        assert closure.reopened_on is not None and db.session.get(CaseClosure, closure.id) is not None


@pytest.mark.parametrize("path", PATHS["to_mediate"], ids=lambda p: p.__name__)
def test_mediate_assistance_records_its_complaint_and_acta(env, path):
    with env["app"].test_request_context():
        code = _immediate_case(env["owner"].id)
    assert path(env, "to_mediate", code, dict(MOVES["to_mediate"])).done
    with env["app"].app_context():
        case = _case(code)
        facts = db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id))
        assert case.status == "in_mediate_assistance" and case.immediate_closed_on == date(2025, 3, 20)
        assert (facts.complaint_on, facts.acta_on) == (date(2025, 3, 12), date(2025, 3, 19))
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.phase.mediate",
                                                          AuditEvent.object_ref == code)) is not None


@pytest.mark.parametrize("path", PATHS["close"], ids=lambda p: p.__name__)
def test_a_closure_ends_the_open_stay_when_the_deployment_says_so(env, path):
    with env["app"].test_request_context():
        code, _ = setup_shelter_stay_open(env)
        setting = route.open_stay_setting_version()
        route.set_open_stay_policy(accounts.CLI, "end", version=setting)
    outcome = path(env, "close", code, dict(MOVES["close"]))
    assert outcome.done
    with env["app"].app_context():
        stay = db.session.scalar(select(ShelterStay).where(ShelterStay.case_id == _case(code).id))
        assert stay.left_on == date(2025, 6, 1) and stay.step.status == "done"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "shelter.leave",
                                                          AuditEvent.object_ref == code)) is not None


def test_the_stay_policy_is_an_admins_choice_and_refuses_a_stale_form(env):
    from caseapp.errors import Conflict, Forbidden

    with env["app"].test_request_context():
        owner = db.session.get(User, env["owner"].id)
        with pytest.raises(Forbidden):
            route.set_open_stay_policy(owner, "end", version=0)
        db.session.rollback()
        route.set_open_stay_policy(accounts.CLI, "end", version=0)
        with pytest.raises(Conflict):
            route.set_open_stay_policy(accounts.CLI, "refuse", version=0)
        assert route.open_stay_policy() == "end"


def test_the_demo_data_obeys_the_rules(app, runner):
    """The demo loader goes through the same lifecycle: its cases are in states the rules allow."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        cases = list(db.session.scalars(select(Case)))
        assert len(cases) > 20
        for case in cases:
            facts = db.session.scalar(select(CaseRoute).where(CaseRoute.case_id == case.id))
            if case.status in ("in_mediate_assistance",) or case.immediate_closed_on:
                assert facts is not None and facts.complaint_on and facts.acta_on, case.code
            if case.status == "closed":
                assert db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == case.id)), case.code
                assert not db.session.scalar(select(Referral.id).where(Referral.case_id == case.id,
                                                                       Referral.status == "sent")), case.code
                assert not db.session.scalar(select(ShelterStay.id).where(ShelterStay.case_id == case.id,
                                                                          ShelterStay.left_on.is_(None)))
            if case.status != "identified":
                assert case.declined_assistance is False and case.intake_on is not None, case.code
        statuses = {c.status for c in cases}
        assert {"identified", "in_immediate_assistance", "in_mediate_assistance", "closed"} <= statuses


def _closed_without_consent(env):
    from caseapp.services import registry

    code = _immediate_case(env["owner"].id)
    owner = db.session.get(User, env["owner"].id)
    route.close_case(owner, code, reason="voluntary_withdrawal", closed_on="2025-04-01", version=_case(code).version)
    consent = _case(code).consents[0]
    registry.withdraw_consent(owner, code, consent.id, version=consent.version, on="2025-04-01")
    return code


REOPEN_PATHS = {
    "api_status": lambda env, code: _api(env, f"/api/v1/cases/{code}/status", {
        "status": "reopened", "reason": "new_risk", "version": _version(env, code)}, 200),
    "api_reopen": lambda env, code: _api(env, f"/api/v1/cases/{code}/reopen", {
        "reason": "new_risk", "version": _version(env, code)}, 200),
    "web_route_page": lambda env, code: _route_form(env, code, "reopen", "reopen", {"reason": "new_risk"}),
}


@pytest.mark.parametrize("path_name", REOPEN_PATHS)
def test_reopening_into_assistance_needs_her_consent_on_every_path(env, path_name):
    with env["app"].test_request_context():
        code = _closed_without_consent(env)
    outcome = REOPEN_PATHS[path_name](env, code)
    assert not outcome.done and _status(env, code) == "closed"
    assert "consentimiento" in outcome.text.lower()
    if path_name.startswith("api"):
        assert outcome.rule == "assistance_consent_required"


@pytest.mark.parametrize("path", PATHS["close"], ids=lambda p: p.__name__)
def test_a_case_does_not_close_before_its_phase_started(env, path):
    with env["app"].test_request_context():
        code = make_case(env["owner"].id, identified_on=IDENTIFIED, status="in_immediate_assistance",
                         intake_on=date(2025, 3, 20))
    outcome = path(env, "close", code, {"on": "2025-03-15", "reason": "goals_met"})
    assert not outcome.done and _status(env, code) == "in_immediate_assistance"
    assert "fase actual" in outcome.text


@pytest.mark.parametrize("path", PATHS["to_immediate"], ids=lambda p: p.__name__)
def test_assistance_does_not_start_before_her_consent(env, path):
    from caseapp.services import registry

    with env["app"].test_request_context():
        code = make_case(env["owner"].id, identified_on=IDENTIFIED, consent_assistance=False)
        registry.give_consent(db.session.get(User, env["owner"].id), code, "assistance", method="written",
                              given_on="2025-03-20")
    outcome = path(env, "to_immediate", code, {"on": "2025-03-15"})
    assert not outcome.done and _status(env, code) == "identified"
