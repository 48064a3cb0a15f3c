"""Completeness of the access log: walk every registered route that touches case data, call it as an authorised
user with a real case and a VALID request, and fail when the call leaves no `allowed` row in the access log.

In scope: every endpoint of the `cases`, `route` and `referrals` blueprints and every API endpoint under
/api/v1/cases and /api/v1/referrals, minus NOT_CASE_DATA (an explicit, short list, with the reason for each).

GET routes are called with GET; several users are tried in turn (owner entity, receiving entity, coordinator,
admin) until one is let in. Every other method has an entry in VALID_REQUESTS that prepares the world the request
needs (a referral in the right state, a closed case to reopen, a pending erasure request, a shelter, ...) through
the services, and says who sends what: web forms are taken from the page that offers them, as a browser would (with
their CSRF token, hidden version and defaults), and filled with valid values; API calls send a valid JSON body.
The call must SUCCEED (a 2xx, or a redirect without an error message) and its success must be logged. Nothing is
skipped: a route with no valid request here, a valid request that is refused, and a success that writes no
access-log row are all failures, named with the endpoint.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

import config
from caseapp import create_app, crypto
from caseapp.extensions import db
from caseapp.models.accounts import ApiToken
from caseapp.models.audit import AuditEvent
from caseapp.timeutil import utcnow
from tests.cases_factory import make_case
from tests.conftest import csrf_token
from tests.world import form_payload, post_forms

CASE_BLUEPRINTS = ("cases", "route", "referrals", "legal", "attachments", "assignments", "family", "safety")
CASE_API_PREFIXES = ("/api/v1/cases", "/api/v1/referrals")

# Endpoints that never touch case data: not walked. Keep this short, and say why.
NOT_CASE_DATA = {
    "static": "stylesheets and icons",
    "main.healthz": "liveness probe",
    "main.home": "role-based menu, no case",
    "api.openapi": "the API description",
    "auth.login": "sign-in (logged by the accounts area)",
    "route.admin_catalogues": "catalogue administration (step kinds, due rules, shelters)",
    "route.add_rule": "catalogue administration",
    "route.closure_policy": "a deployment setting (what a closure does with an open shelter stay)",
    "route.add_shelter": "catalogue administration",
    "route.add_step_kind": "catalogue administration",
    "route.toggle_step_kind": "catalogue administration",
    "cases.purposes": "catalogue of purposes of exploitation",
    "cases.close_purpose": "catalogue of purposes of exploitation",
    "GET cases.new": "the blank registration form",
    "GET cases.search": "a bare redirect to the case list (searches are POSTs: identity never in a URL)",
    "GET referrals.override": "the blank consent-override form (a list of entities)",
    "attachments.limit": "a deployment setting (the largest attachment)",
}
# Dates of the fixture world: the case was identified and taken in on IDENTIFIED, everything else after it.
IDENTIFIED = date(2025, 3, 10)
NOTE_TEXT = "Seguimiento acordado con la persona víctima"


def _in_scope(rule) -> bool:
    if rule.endpoint.split(".")[0] in CASE_BLUEPRINTS:
        return True
    return rule.endpoint.startswith("api.") and rule.rule.startswith(CASE_API_PREFIXES)


def _allowed(endpoint: str, method: str) -> bool:
    return endpoint in NOT_CASE_DATA or f"{method} {endpoint}" in NOT_CASE_DATA


def _walked_rules():
    app = create_app(config.load("testing", SQLALCHEMY_DATABASE_URI="sqlite://"))
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not _in_scope(rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if not _allowed(rule.endpoint, method):
                out.append((rule.endpoint, rule.rule, method))
    return out


def pytest_generate_tests(metafunc):
    if "walked" in metafunc.fixturenames:
        rules = _walked_rules()
        metafunc.parametrize("walked", rules, ids=[f"{m} {e}" for e, _r, m in rules])


# --- a small world with one of everything ------------------------------------------------------------------


@pytest.fixture
def world(app, factory):
    users = {
        "owner": factory.user("walker", roles=("social_worker", "lawyer"), entity="SDIS"),
        "receiver": factory.user("receiver", roles=("social_worker", "lawyer"), entity="FISC"),
        "coordinator": factory.user("coord", roles=("coordinator",), entity="SDIS"),
        "admin": factory.user("root", roles=("admin",), entity="SDIS"),
    }
    with app.test_request_context():
        code = make_case(users["owner"].id, intake_on=IDENTIFIED, status="in_immediate_assistance")
        tokens = {}
        for name, user in users.items():
            token = crypto.new_token()
            db.session.add(ApiToken(user_id=user.id, token_hash=crypto.hash_token(token), created_at=utcnow()))
            tokens[name] = token
        db.session.commit()
    return {"users": users, "code": code, "tokens": tokens}


def _case(code):
    from caseapp.models.cases import Case

    return db.session.scalar(select(Case).where(Case.code == code))


def _user(world, who):
    from caseapp.models.accounts import User

    return db.session.get(User, world["users"][who].id)


def _step_kind(phase="immediate", section=None):
    """An active step kind of the phase (of the need-to-know section, when given), from the seeded catalogue."""
    from caseapp.models.route import StepKind

    query = select(StepKind).where(StepKind.phase == phase, StepKind.active.is_(True)).order_by(StepKind.id)
    if section is not None:
        query = query.where(StepKind.section == section)
    return db.session.scalars(query).first()


# Preparing the world through the services, as the users would have done it. Each needs a request context.


def _sharing_consent(world, entity="FISC"):
    from caseapp.services import registry as consents

    return consents.give_consent(_user(world, "owner"), world["code"], "sharing", method="written",
                                 given_on=IDENTIFIED.isoformat(), entity_code=entity).id


def _sent_referral(world):
    from caseapp.services import referrals

    _sharing_consent(world)
    return referrals.send(_user(world, "owner"), world["code"], to_entity="FISC", service="legal_orientation",
                          reason="Asesoría jurídica para la denuncia", sections=["summary", "legal"]).id


def _accepted_referral(world):
    from caseapp.services import referrals

    referral_id = _sent_referral(world)
    referrals.accept(_user(world, "receiver"), referral_id, version=_referral_version(referral_id), note="Recibida")
    return referral_id


def _referral_version(referral_id):
    from caseapp.models.referrals import Referral

    return db.session.get(Referral, referral_id).version


def _consent_version(consent_id):
    from caseapp.models.cases import Consent

    return db.session.get(Consent, consent_id).version


def _erasure_request(world):
    """An erasure request by the owner: an administrator (another person) decides it."""
    from caseapp.services.registry import erasure

    return erasure.request_erasure(_user(world, "owner"), world["code"], "victim_request").id


def _step(world):
    from caseapp.services import casework as steps

    return steps.add_step(_user(world, "owner"), world["code"], kind=_step_kind().code, status="planned",
                          planned_on="2025-03-12").id


def _goal(world):
    from caseapp.services import casework as steps

    return steps.add_goal(_user(world, "owner"), world["code"], area="education",
                          description="Terminar el bachillerato", agreed_on="2025-03-12").id


def _shelter(world):
    from caseapp.services import casework as shelters

    return shelters.save_shelter(_user(world, "admin"), code="CASA-1", name="Casa Violeta", city="Bogotá",
                                 operator_entity="SDIS", capacity=5).id


def _stay(world):
    from caseapp.services import casework as shelters

    return shelters.place(_user(world, "owner"), world["code"], shelter_id=_shelter(world),
                          admitted_on="2025-03-11").id


SCAN = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"


def _attachment(world):
    from caseapp.services import attachments

    return attachments.upload(_user(world, "owner"), world["code"], kind="consent", data=SCAN,
                              filename="consentimiento.pdf").id


def _closed_case(world):
    from caseapp.services import route

    case = _case(world["code"])
    route.close_case(_user(world, "owner"), world["code"], reason="goals_met", closed_on=date(2025, 6, 1),
                     note=None, version=case.version)


def _case_version(world):
    return _case(world["code"]).version


# --- the valid requests ------------------------------------------------------------------------------------


@dataclass
class Valid:
    """A valid request: who sends it; URL values the walk cannot guess; a JSON body (API) or, for the web, the
    page that offers the form, the values typed into it, and which of the page's forms to use (`pick`)."""

    who: str = "owner"
    values: dict = field(default_factory=dict)
    json: object = None
    page: str | None = None
    form: dict = field(default_factory=dict)
    pick: dict = field(default_factory=dict)
    data: dict | None = None  # API: a multipart body instead of JSON (an upload)


def _route_page(world):
    return f"/route/cases/{world['code']}"


def _case_page(world):
    return f"/cases/{world['code']}"


# API: JSON bodies as the OpenAPI document describes them.

def _api_create_case(world):
    return Valid(json={
        "given_names": "Lucía", "family_names": "Rojas Díaz", "document_type": "CC", "document_number": "1012345678",
        "birth_date": "1996-05-01", "phone": "3105550101", "sex": "female", "nationality": "CO",
        "identified_on": IDENTIFIED.isoformat(), "identification_source": "coat", "trafficking_scope": "internal",
        "exploitation_purposes": ["sexual_exploitation"], "victim_status": "victim",
        "consent_assistance": True, "consent_data_processing": True, "consent_method": "written",
        "consent_given_on": IDENTIFIED.isoformat(), "screening_acts": ["recruitment"],
        "screening_means": ["deception"], "screening_purpose": True})


def _api_update_case(world):
    return Valid(json={"version": _case_version(world), "phone": "3109876543"})


def _api_give_consent(world):
    return Valid(json={"kind": "sharing", "entity": "FISC", "method": "written", "given_on": "2025-03-11"})


def _api_withdraw_consent(world):
    consent_id = _sharing_consent(world)
    return Valid(values={"consent_id": consent_id}, json={"version": _consent_version(consent_id),
                                                          "on": "2025-03-20"})


def _api_legal_event(world):
    return Valid(json={"kind": "hearing", "on": "2025-03-12", "title": "Audiencia de imputación",
                       "outcome": "Aplazada"})


def _api_note(world):
    return Valid(values={"section": "psychosocial"}, json={"body": NOTE_TEXT, "written_on": "2025-03-12"})


def _api_screening(world):
    return Valid(json={"acts": ["recruitment", "transport"], "means": ["deception"], "purpose_present": True,
                       "screened_on": IDENTIFIED.isoformat(), "notes": "Entrevista inicial",
                       "version": 0})  # the case has no screening yet


def _api_change_status(world):
    return Valid(json={"status": "in_mediate_assistance", "version": _case_version(world), "on": "2025-03-20",
                       "complaint_on": "2025-03-12", "acta_on": "2025-03-19"})


def _api_add_step(world):
    return Valid(json={"kind": _step_kind().code, "status": "done", "done_on": "2025-03-11",
                       "notes": "Primera atención"})


def _api_search(world):
    return Valid(json={"document_type": "CC", "document_number": "52123456"})


def _api_send_referral(world):
    _sharing_consent(world)
    return Valid(json={"case": world["code"], "to_entity": "FISC", "service": "legal_orientation",
                       "reason": "Asesoría jurídica para la denuncia", "sections": ["summary", "legal"]})


def _api_accept(world):
    referral_id = _sent_referral(world)
    return Valid(who="receiver", values={"referral_id": referral_id},
                 json={"version": _referral_version(referral_id), "note": "La atendemos esta semana"})


def _api_reject(world):
    referral_id = _sent_referral(world)
    return Valid(who="receiver", values={"referral_id": referral_id},
                 json={"version": _referral_version(referral_id), "reason": "No tenemos cupo este mes"})


def _api_complete(world):
    referral_id = _accepted_referral(world)
    return Valid(who="receiver", values={"referral_id": referral_id},
                 json={"version": _referral_version(referral_id), "note": "Servicio prestado"})


def _api_record_service(world):
    referral_id = _accepted_referral(world)
    return Valid(who="receiver", values={"referral_id": referral_id},
                 json={"version": _referral_version(referral_id), "status": "done", "done_on": "2025-03-12",
                       "notes": "Orientada sobre sus derechos"})


def _api_withdraw(world):
    referral_id = _sent_referral(world)
    return Valid(values={"referral_id": referral_id},
                 json={"version": _referral_version(referral_id), "reason": "La víctima cambió de ciudad"})


def _row_version(model, row_id):
    return db.session.get(model, row_id).version


def _api_save_proceeding(world):
    return Valid(json={"complaint_filed_on": "2025-03-12", "receiving_office": "Fiscalía seccional Bogotá",
                       "criminal_case_number": "110016000050202500001", "stage": "inquiry",
                       "representation": "entity_lawyer", "version": 0})  # no proceeding yet


def _api_add_measure(world):
    return Valid(json={"kind": "police_measures", "requested_on": "2025-03-12", "notes": "Solicitada a la UNP"})


def _api_update_measure(world):
    from caseapp.models.route import ProtectionMeasure
    from caseapp.services import casework

    measure_id = casework.add_measure(_user(world, "owner"), world["code"], kind="police_measures",
                                      requested_on="2025-03-12").id
    return Valid(values={"measure_id": measure_id}, json={
        "status": "granted", "decided_on": "2025-03-20", "version": _row_version(ProtectionMeasure, measure_id)})


def _api_place(world):
    return Valid(json={"shelter_id": _shelter(world), "admitted_on": "2025-03-11"})


def _api_leave(world):
    from caseapp.models.route import ShelterStay

    stay_id = _stay(world)
    return Valid(values={"stay_id": stay_id}, json={"left_on": "2025-03-25",
                                                    "version": _row_version(ShelterStay, stay_id)})


def _api_add_goal(world):
    return Valid(json={"area": "education", "description": "Terminar el bachillerato", "agreed_on": "2025-03-12",
                       "target_on": "2025-12-01"})


def _api_review_goal(world):
    from caseapp.models.route import LifePlanGoal

    goal_id = _goal(world)
    return Valid(values={"goal_id": goal_id}, json={"status": "achieved", "review_note": "Se graduó",
                                                    "version": _row_version(LifePlanGoal, goal_id)})


def _api_update_step(world):
    from caseapp.models.route import AssistanceStep

    step_id = _step(world)
    return Valid(values={"step_id": step_id}, json={"status": "done", "done_on": "2025-03-13",
                                                    "version": _row_version(AssistanceStep, step_id)})


def _api_extend(world):
    return Valid(json={"phase": "immediate", "amount": 5, "reason": "Proceso de salud en curso",
                       "decided_by": "Comité departamental", "decided_on": "2025-03-15", "reported": True,
                       "version": _case_version(world)})


def _api_close_immediate(world):
    return Valid(json={"closed_on": "2025-03-20", "complaint_on": "2025-03-12", "acta_on": "2025-03-19",
                       "acta_summary": "Objetivos: vivienda, salud y empleo", "version": _case_version(world)})


def _api_close_case(world):
    return Valid(json={"reason": "goals_met", "closed_on": "2025-06-01", "note": "Plan de vida cumplido",
                       "version": _case_version(world)})


def _api_reopen(world):
    _closed_case(world)
    return Valid(json={"reason": "needs_assistance_again", "note": "Volvió a pedir apoyo",
                       "version": _case_version(world)})


def _api_request_erasure(world):
    return Valid(json={"reason": "victim_request"})


def _api_child_referral(world):
    valid = _web_child_referral(world)  # a child's case whose mandatory referral could not be sent
    return Valid(values=valid.values, json={})


def _api_upload_attachment(world):
    return Valid(data={"kind": "consent", "file": (io.BytesIO(SCAN), "consentimiento.pdf", "application/pdf")})


# Web: the forms of the pages, filled in.

def _web_upload_attachment(world):
    return Valid(page=_case_page(world), form={"att-kind": "consent",
                                                "att-file": (io.BytesIO(SCAN), "consentimiento.pdf")})


def _web_new_case(world):
    return Valid(page="/cases/new", form={
        "given_names": "Lucía", "family_names": "Rojas Díaz", "document_type": "CC", "document_number": "1012345678",
        "birth_date": "1996-05-01", "phone": "3105550101", "sex": "female", "nationality": "CO",
        "identified_on": IDENTIFIED.isoformat(), "identification_source": "coat", "trafficking_scope": "internal",
        "exploitation_purposes": ["sexual_exploitation"], "victim_status": "victim",
        "screening_acts": ["recruitment"], "screening_means": ["deception"], "screening_purpose": "y",
        "consent_assistance": "yes", "consent_data_processing": "yes", "consent_method": "written"})


def _web_search(world):
    return Valid(page="/cases/", form={"document_type": "CC", "document_number": "52123456"})


def _web_edit(world):
    return Valid(page=f"/cases/{world['code']}/edit", form={"phone": "3109876543"})


def _web_give_consent(world):
    return Valid(page=_case_page(world), form={"kind": "sharing", "entity_code": "FISC", "method": "written",
                                                "given_on": "2025-03-11"})


def _web_withdraw_consent(world):
    consent_id = _sharing_consent(world)
    return Valid(page=_case_page(world), pick={"consent_id": str(consent_id)})


def _web_request_erasure(world):
    return Valid(page=_case_page(world), form={"erasure-reason": "victim_request"})


def _web_change_status(world):
    return Valid(page=_case_page(world), form={"status": "in_mediate_assistance", "on": "2025-03-20",
                                               "complaint_on": "2025-03-12", "acta_on": "2025-03-19"})


def _web_child_referral(world):
    """A child's case registered before the deployment had a child-protection entity: its referral is sent by hand."""
    from caseapp.models.accounts import Entity

    db.session.add(Entity(code="ICBF", name="ICBF", kind="child_protection"))
    db.session.commit()
    code = make_case(world["users"]["owner"].id, is_child=True, age_group="9-17", document_number="1098000111",
                     given_names="Luna")
    return Valid(values={"code": code}, page=f"/cases/{code}")


def _web_approve_erasure(world):
    request_id = _erasure_request(world)
    return Valid(who="admin", values={"request_id": request_id}, page="/cases/admin/erasure-requests",
                 form={"confirm_code": world["code"]})


def _web_reject_erasure(world):
    request_id = _erasure_request(world)
    return Valid(who="admin", values={"request_id": request_id}, page="/cases/admin/erasure-requests")


def _web_answer(world):
    referral_id = _sent_referral(world)
    return Valid(who="receiver", values={"referral_id": referral_id, "action": "accept"},
                 page=f"/referrals/{referral_id}", form={"accept-note": "La atendemos esta semana"})


def _web_send_referral(world):
    _sharing_consent(world)
    return Valid(page=f"/referrals/cases/{world['code']}/new", form={
        "ref-to_entity": "FISC", "ref-service": "legal_orientation", "ref-reason": "Asesoría jurídica para la denuncia",
        "ref-sections": ["summary", "legal"]})


def _web_override(world):
    return Valid(who="coordinator", page="/referrals/override", form={
        "case": world["code"], "entity": "FISC", "reason": "Riesgo para su vida: la Fiscalía debe actuar ya"})


def _web_close_case(world):
    return Valid(page=_route_page(world), form={"close-reason": "goals_met", "close-closed_on": "2025-06-01",
                                                "close-note": "Plan de vida cumplido"})


def _web_extend(world):
    return Valid(page=_route_page(world), form={"ext-amount": "5", "ext-reason": "Proceso de salud en curso",
                                                "ext-decided_by": "Comité departamental", "ext-decided_on": "2025-03-15",
                                                "ext-reported": "y"})


def _web_close_immediate(world):
    return Valid(page=_route_page(world), form={
        "imm-closed_on": "2025-03-20", "imm-complaint_on": "2025-03-12", "imm-acta_on": "2025-03-19",
        "imm-acta_summary": "Objetivos: vivienda, salud y empleo"})


def _web_save_proceeding(world):
    return Valid(page=_route_page(world), form={
        "proc-complaint_filed_on": "2025-03-12", "proc-receiving_office": "Fiscalía seccional Bogotá",
        "proc-criminal_case_number": "110016000050202500001"})


def _web_add_event(world):
    return Valid(page=_route_page(world), form={"ev-kind": "hearing", "ev-on": "2025-03-12",
                                                "ev-title": "Audiencia de imputación", "ev-outcome": "Aplazada"})


def _web_add_measure(world):
    return Valid(page=_route_page(world), form={"pm-requested_on": "2025-03-12", "pm-notes": "Solicitada a la UNP"})


# --- the legal follow-up (issue 13): proceedings, stages, hearings' outcomes, measures' decisions and ends --------


def _criminal(world):
    from caseapp.services import casework

    return casework.open_proceeding(_user(world, "owner"), world["code"], kind="criminal", stage_on="2025-03-12")


def _hearing(world):
    from caseapp.services import casework

    _criminal(world)
    return casework.add_event(_user(world, "owner"), world["code"], kind="hearing", on="2025-03-20")


def _measure_requested(world):
    from caseapp.services import casework

    return casework.add_measure(_user(world, "owner"), world["code"], kind="police_measures",
                                requested_on="2025-03-12")


def _measure_granted(world):
    from caseapp.models.route import ProtectionMeasure
    from caseapp.services import casework

    m = _measure_requested(world)
    return casework.decide_measure(_user(world, "owner"), m.id, version=_row_version(ProtectionMeasure, m.id),
                                   decision="granted", decided_on="2025-03-20")


def _legal_page(world):
    return f"/legal/cases/{world['code']}"


def _api_open_proceeding(world):
    return Valid(json={"kind": "migratory", "stage_on": "2025-03-12", "receiving_office": "Migración Colombia"})


def _api_update_proceeding(world):
    proc = _criminal(world)
    return Valid(values={"proc_id": proc.id}, json={"stage": "inquiry", "stage_on": "2025-03-14",
                                                    "representation": "entity_lawyer", "version": proc.version})


def _api_record_stage(world):
    proc = _criminal(world)
    return Valid(values={"proc_id": proc.id}, json={"stage": "inquiry", "on": "2025-03-14", "version": proc.version})


def _api_update_event(world):
    event = _hearing(world)
    return Valid(values={"event_id": event.id}, json={"outcome": "Aplazada", "next_on": "2025-04-02",
                                                      "version": event.version})


def _api_decide_measure(world):
    m = _measure_requested(world)
    return Valid(values={"measure_id": m.id}, json={"decision": "granted", "decided_on": "2025-03-20",
                                                    "authority": "Juzgado", "version": m.version})


def _api_end_measure(world):
    m = _measure_granted(world)
    return Valid(values={"measure_id": m.id}, json={"ended_on": "2025-04-01", "version": m.version})


def _web_open_proceeding(world):
    return Valid(page=_legal_page(world), form={"lp-kind": "reparation", "lp-stage_on": "2025-03-12"})


def _web_record_stage(world):
    proc = _criminal(world)
    return Valid(values={"proc_id": proc.id}, page=_legal_page(world),
                 form={f"st{proc.id}-stage": "inquiry", f"st{proc.id}-on": "2025-03-14"})


def _web_add_hearing(world):
    _criminal(world)
    return Valid(page=_legal_page(world), form={"he-on": "2025-03-20", "he-title": "Audiencia"})


def _web_record_outcome(world):
    event = _hearing(world)
    return Valid(values={"event_id": event.id}, page=_legal_page(world),
                 form={f"ho{event.id}-outcome": "Aplazada", f"ho{event.id}-next_on": "2025-04-02"})


def _web_legal_add_measure(world):
    return Valid(page=_legal_page(world), form={"lm-requested_on": "2025-03-12"})


def _web_decide_measure(world):
    m = _measure_requested(world)
    return Valid(values={"measure_id": m.id}, page=_legal_page(world),
                 form={f"md{m.id}-decided_on": "2025-03-20", f"md{m.id}-authority": "Juzgado"})


def _web_end_measure(world):
    m = _measure_granted(world)
    return Valid(values={"measure_id": m.id}, page=_legal_page(world), form={f"me{m.id}-ended_on": "2025-04-01"})


def _web_add_goal(world):
    return Valid(page=_route_page(world), form={"goal-area": "education", "goal-description": "Terminar el bachillerato",
                                                "goal-agreed_on": "2025-03-12", "goal-target_on": "2025-12-01"})


def _web_add_note(world):
    return Valid(values={"section": "psychosocial"}, page=_route_page(world),
                 form={"psy-body": NOTE_TEXT, "psy-written_on": "2025-03-12"})


def _web_reopen(world):
    _closed_case(world)
    return Valid(page=_route_page(world), form={"reopen-reason": "needs_assistance_again",
                                                            "reopen-note": "Volvió a pedir apoyo"})


def _web_place(world):
    shelter_id = _shelter(world)
    return Valid(page=_route_page(world), form={"place-shelter_id": str(shelter_id),
                                                "place-admitted_on": "2025-03-11"})


def _web_add_step(world):
    return Valid(page=_route_page(world), form={"step-kind": _step_kind().code, "step-status": "done",
                                                "step-done_on": "2025-03-11", "step-notes": "Primera atención"})


def _web_review_goal(world):
    goal_id = _goal(world)
    return Valid(values={"goal_id": goal_id}, page=_route_page(world),
                 form={f"g{goal_id}-status": "achieved", f"g{goal_id}-review_note": "Se graduó"})


def _web_leave(world):
    stay_id = _stay(world)
    return Valid(values={"stay_id": stay_id}, page=_route_page(world), form={f"l{stay_id}-left_on": "2025-03-25"})


def _web_update_step(world):
    step_id = _step(world)
    return Valid(values={"step_id": step_id}, page=_route_page(world),
                 form={f"s{step_id}-status": "done", f"s{step_id}-done_on": "2025-03-13"})



# Assignments, family members and safety flags (issue 13).

def _lawyer_assignment(world):
    """The owner (social worker and lawyer) assigned to her case as its lawyer too: an assignment one may end."""
    from caseapp.services.casework import assignments

    return assignments.assign(_user(world, "owner"), world["code"], "walker", "lawyer").id


def _family_member(world):
    from caseapp.services import family

    return family.add_member(_user(world, "owner"), world["code"], {"names": "Familiar", "relationship": "mother"})


def _safety_flag(world):
    from caseapp.services import safety

    return safety.set_flag(_user(world, "owner"), world["code"], kind="high_risk", reason="Amenazas de la red")


def _second_social_worker(world) -> str:
    from caseapp.models.accounts import User

    user = User(username="walker2", display_name="Walker dos", entity_id=_user(world, "owner").entity_id,
                active=True)
    user.set_roles(("social_worker",))
    db.session.add(user)
    db.session.commit()
    return user.username


def _api_add_assignment(world):
    return Valid(json={"username": "walker", "role": "lawyer"})


def _api_end_assignment(world):
    _lawyer_assignment(world)
    return Valid(json={"username": "walker", "role": "lawyer"})


def _api_add_family_member(world):
    return Valid(json={"names": "Familiar", "relationship": "mother"})


def _api_update_family_member(world):
    member = _family_member(world)
    return Valid(values={"member_id": member.id}, json={"names": "Familiar dos", "version": member.version})


def _api_add_family_member_step(world):
    member = _family_member(world)
    return Valid(values={"member_id": member.id}, json={"kind": _step_kind().code, "status": "done",
                                                        "on": "2025-03-12"})


def _api_set_safety_flag(world):
    return Valid(json={"kind": "high_risk", "reason": "Amenazas de la red"})


def _api_clear_safety_flag(world):
    flag = _safety_flag(world)
    return Valid(values={"flag_id": flag.id}, json={"reason": "Ya no hay riesgo", "version": flag.version})


def _web_assign(world):
    return Valid(page=f"/cases/{world['code']}/assignments", form={"username": "walker", "role": "lawyer"})


def _web_end_assignment(world):
    row_id = _lawyer_assignment(world)
    return Valid(page=f"/cases/{world['code']}/assignments", pick={"row": str(row_id)})


def _web_reassign(world):
    to = _second_social_worker(world)
    return Valid(who="admin", page="/assignments/reassign",
                 form={"from_username": "walker", "to_username": to, "role": "social_worker"})


def _web_add_family_member(world):
    return Valid(page=f"/cases/{world['code']}/family", form={"names": "Familiar", "relationship": "mother"})


def _web_edit_family_member(world):
    member = _family_member(world)
    return Valid(values={"member_id": member.id}, page=f"/cases/{world['code']}/family/{member.id}/edit",
                 form={"names": "Familiar dos"})


def _web_add_family_step(world):
    member = _family_member(world)
    return Valid(values={"member_id": member.id}, page=f"/cases/{world['code']}/family",
                 form={"kind": _step_kind().code, "status": "done", "on": "2025-03-12"})


def _web_set_safety_flag(world):
    return Valid(page=f"/cases/{world['code']}/safety", form={"kind": "high_risk", "reason": "Amenazas de la red"})


def _web_clear_safety_flag(world):
    flag = _safety_flag(world)
    return Valid(page=f"/cases/{world['code']}/safety", pick={"flag_id": str(flag.id)},
                 form={"reason": "Ya no hay riesgo"})


VALID_REQUESTS = {
    "POST api.create_case": _api_create_case,
    "PATCH api.update_case": _api_update_case,
    "POST api.give_consent": _api_give_consent,
    "POST api.withdraw_consent": _api_withdraw_consent,
    "POST api.add_legal_event": _api_legal_event,
    "POST api.add_case_note": _api_note,
    "POST api.record_screening": _api_screening,
    "POST api.change_status": _api_change_status,
    "POST api.add_case_step": _api_add_step,
    "POST api.search_cases": _api_search,
    "POST api.send_referral": _api_send_referral,
    "POST api.accept_referral": _api_accept,
    "POST api.reject_referral": _api_reject,
    "POST api.complete_referral": _api_complete,
    "POST api.withdraw_referral": _api_withdraw,
    "POST api.record_referral_service": _api_record_service,
    "PUT api.save_proceeding": _api_save_proceeding,
    "POST api.add_protection_measure": _api_add_measure,
    "PATCH api.update_protection_measure": _api_update_measure,
    "POST api.open_proceeding": _api_open_proceeding,
    "PUT api.update_proceeding": _api_update_proceeding,
    "POST api.record_stage": _api_record_stage,
    "PATCH api.update_legal_event": _api_update_event,
    "POST api.decide_protection_measure": _api_decide_measure,
    "POST api.end_protection_measure": _api_end_measure,
    "POST legal.open_proceeding": _web_open_proceeding,
    "POST legal.record_stage": _web_record_stage,
    "POST legal.add_hearing": _web_add_hearing,
    "POST legal.record_outcome": _web_record_outcome,
    "POST legal.add_measure": _web_legal_add_measure,
    "POST legal.decide_measure": _web_decide_measure,
    "POST legal.end_measure": _web_end_measure,
    "POST api.place_in_shelter": _api_place,
    "POST api.leave_shelter": _api_leave,
    "POST api.add_life_plan_goal": _api_add_goal,
    "POST api.review_life_plan_goal": _api_review_goal,
    "PATCH api.update_case_step": _api_update_step,
    "POST api.extend_phase": _api_extend,
    "POST api.close_immediate": _api_close_immediate,
    "POST api.close_case": _api_close_case,
    "POST api.reopen_case": _api_reopen,
    "POST api.request_erasure": _api_request_erasure,
    "POST api.send_child_referral": _api_child_referral,
    "POST api.upload_attachment": _api_upload_attachment,
    "POST attachments.upload": _web_upload_attachment,
    "POST cases.send_child_referral": _web_child_referral,
    "POST cases.new": _web_new_case,
    "POST cases.search": _web_search,
    "POST cases.edit": _web_edit,
    "POST cases.give_consent": _web_give_consent,
    "POST cases.withdraw_consent": _web_withdraw_consent,
    "POST cases.request_erasure": _web_request_erasure,
    "POST cases.change_status": _web_change_status,
    "POST cases.approve_erasure": _web_approve_erasure,
    "POST cases.reject_erasure": _web_reject_erasure,
    "POST referrals.answer": _web_answer,
    "POST referrals.new": _web_send_referral,
    "POST referrals.override": _web_override,
    "POST route.close_case": _web_close_case,
    "POST route.extend": _web_extend,
    "POST route.close_immediate": _web_close_immediate,
    "POST route.save_proceeding": _web_save_proceeding,
    "POST route.add_event": _web_add_event,
    "POST route.add_measure": _web_add_measure,
    "POST route.add_goal": _web_add_goal,
    "POST route.add_note": _web_add_note,
    "POST route.reopen_case": _web_reopen,
    "POST route.place": _web_place,
    "POST route.add_step": _web_add_step,
    "POST route.review_goal": _web_review_goal,
    "POST route.leave": _web_leave,
    "POST route.update_step": _web_update_step,
    "POST api.add_assignment": _api_add_assignment,
    "DELETE api.end_assignment": _api_end_assignment,
    "POST api.add_family_member": _api_add_family_member,
    "PATCH api.update_family_member": _api_update_family_member,
    "POST api.add_family_member_step": _api_add_family_member_step,
    "POST api.set_safety_flag": _api_set_safety_flag,
    "POST api.clear_safety_flag": _api_clear_safety_flag,
    "POST assignments.case_assignments": _web_assign,
    "POST assignments.end_assignment": _web_end_assignment,
    "POST assignments.reassign": _web_reassign,
    "POST family.add": _web_add_family_member,
    "POST family.edit": _web_edit_family_member,
    "POST family.add_step": _web_add_family_step,
    "POST safety.set_flag": _web_set_safety_flag,
    "POST safety.clear_flag": _web_clear_safety_flag,
}

# URL arguments of GET routes (and defaults for the valid requests).
RESOLVERS = {
    "code": lambda w: w["code"],
    "section": lambda w: "psychosocial",
    "referral_id": _sent_referral,
    "attachment_id": _attachment,
    "member_id": lambda w: _family_member(w).id,
    "flag_id": lambda w: _safety_flag(w).id,
}


# --- calling -----------------------------------------------------------------------------------------------


def _build_url(app, world, endpoint, rule_text, given=None):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)
    values = dict(given or {})
    with app.test_request_context():
        for arg in sorted(rule.arguments - set(values)):
            if arg not in RESOLVERS:
                pytest.fail(f"route walk: no value for URL argument <{arg}> of {endpoint}: add one to RESOLVERS "
                            "or to its entry in VALID_REQUESTS")
            values[arg] = RESOLVERS[arg](world)
        from flask import url_for

        return url_for(endpoint, **values)


def _allowed_rows(app, username, after_seq):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.seq > after_seq, AuditEvent.actor == username, AuditEvent.outcome == "allowed"))


def _rows_after(app, after_seq):
    with app.app_context():
        return [f"{r.action}/{r.outcome}/{r.actor}" for r in db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq))]


def _head(app):
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _flashes(client):
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _clear_flashes(client):
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def _error_flashes(client):
    return [msg for category, msg in _flashes(client) if category in ("error", "danger", "warning")]


def _form_on_page(client, page, url, pick):
    """The payload of the form of `page` that posts to `url` (and has the `pick` values), as a browser sends it."""
    response = client.get(page)
    assert response.status_code == 200, f"the page {page} that offers the form answered {response.status_code}"
    forms = post_forms(response.get_data(as_text=True))
    target = urlsplit(url).path
    for form in forms:
        if urlsplit(form["action"] or page).path != target:
            continue
        payload = form_payload(form)
        if all(payload.get(k) == v for k, v in pick.items()):
            return payload
    actions = sorted({f["action"] for f in forms})
    pytest.fail(f"the page {page} offers no form posting to {target} with {pick}; its forms post to {actions}")


def _get_walk(app, client, login_as, world, endpoint, url):
    """GET: try the users in turn until one is let in; the page must be logged."""
    attempts = []
    for who in ("owner", "receiver", "coordinator", "admin"):
        user = world["users"][who]
        is_api = endpoint.startswith("api.")
        headers = {"Authorization": f"Bearer {world['tokens'][who]}"} if is_api else {}
        if not is_api:
            login_as(user)
        before = _head(app)
        response = client.get(url, headers=headers)
        status = response.status_code
        attempts.append(f"{who}: {status}")
        assert status < 500, f"GET {url} ({endpoint}) as {who}: server error {status}"
        if status in (401, 403, 404, 405):
            continue
        assert status < 300, f"GET {url} ({endpoint}) as {who} answered {status} without showing anything"
        assert _allowed_rows(app, user.username, before), (
            f"GET {url} ({endpoint}) answered {status} to {who} but wrote no access-log row")
        return
    pytest.fail(f"GET {url} ({endpoint}): no authorised user could call it ({', '.join(attempts)})")


def test_route_writes_an_access_log_row(app, client, login_as, world, walked):
    endpoint, rule_text, method = walked
    is_api = endpoint.startswith("api.")
    key = f"{method} {endpoint}"
    if key not in VALID_REQUESTS:
        if method == "GET":
            _get_walk(app, client, login_as, world, endpoint, _build_url(app, world, endpoint, rule_text))
            return
        pytest.fail(f"{key} touches case data and has no valid request in VALID_REQUESTS: add one (or, if it "
                    "really touches no case data, add it to NOT_CASE_DATA with the reason)")
    with app.test_request_context():
        valid = VALID_REQUESTS[key](world)
    url = _build_url(app, world, endpoint, rule_text, valid.values)
    user = world["users"][valid.who]
    if is_api:
        before = _head(app)
        body = {"json": valid.json} if valid.data is None else {"data": valid.data}
        response = client.open(url, method=method, **body,
                               headers={"Authorization": f"Bearer {world['tokens'][valid.who]}"})
        refused = response.status_code >= 300
        why = (response.get_json(silent=True) or {}) if refused else {}
    else:
        login_as(user)
        if valid.page:
            data = _form_on_page(client, valid.page, url, valid.pick)
            data.update(valid.form)
        else:
            data = {"csrf_token": csrf_token(client, "/"), **valid.form}
        _clear_flashes(client)
        before = _head(app)
        response = client.open(url, method=method, data=data)
        errors = _error_flashes(client)
        refused = response.status_code >= 400 or (300 <= response.status_code < 400 and bool(errors)) \
            or "/auth/login" in response.headers.get("Location", "")
        why = errors or response.get_data(as_text=True)[:3000]
    status = response.status_code
    assert status < 500, f"{method} {url} ({endpoint}) as {valid.who}: server error {status}"
    assert not refused, (f"{method} {url} ({endpoint}): the valid request as {valid.who} was refused ({status}): "
                         f"{why}")
    assert _allowed_rows(app, user.username, before), (
        f"{method} {url} ({endpoint}) succeeded ({status}) for {valid.who} but wrote no access-log row "
        f"(rows written: {_rows_after(app, before)})")


def test_every_non_get_route_has_a_valid_request_and_every_entry_a_route():
    walked = {f"{m} {e}" for e, _r, m in _walked_rules()}
    missing = sorted(k for k in walked if not k.startswith("GET ") and k not in VALID_REQUESTS)
    stale = sorted(k for k in VALID_REQUESTS if k not in walked)
    assert not missing, f"routes with no valid request in VALID_REQUESTS: {missing}"
    assert not stale, f"VALID_REQUESTS names routes that are not walked (gone, or allow-listed): {stale}"


def test_the_allow_list_names_real_endpoints(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(e for e in NOT_CASE_DATA if e.split(" ")[-1] not in endpoints)
    assert not missing, f"NOT_CASE_DATA names endpoints that no longer exist: {missing}"
