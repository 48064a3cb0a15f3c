"""The case registry's services: registration, validation, duplicates, need-to-know, versions, statuses, consents."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from caseapp.errors import Conflict, Forbidden, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, Consent
from caseapp.models.victims import Victim
from caseapp.services import registry as cases
from caseapp.services import registry as consents
from caseapp.services import route
from caseapp.services.registry import add_purpose, purposes_in_force, retire_purpose
from caseapp.services.registry.fields import validate_case_data
from caseapp.timeutil import today


def data(**overrides) -> dict:
    base = {
        "given_names": "Luz Marina", "family_names": "Quintero Ríos", "document_type": "CC",
        "document_number": "1.020.304.050", "birth_date": "1994-06-15", "phone": "+57 310 555 0101",
        "address": "Calle 10 # 5-20, Cartagena", "narrative": "Relato de la captación.", "sex": "female",
        "nationality": "CO", "identified_on": "2025-05-02", "identification_source": "coat",
        "exploitation_purposes": ["sexual_exploitation"], "trafficking_scope": "internal",
        "control_methods": ["threats", "withholds_documents"], "victim_status": "victim",
        "consent_assistance": True, "consent_data_processing": True, "consent_method": "written",
        "screening_acts": ["recruitment", "transport"], "screening_means": ["deception"], "screening_purpose": True,
    }
    base.update(overrides)
    return base


def actor(test_user) -> User:
    return db.session.get(User, test_user.id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def last_events(n=1) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(n)))


@pytest.fixture
def ana(factory):
    return factory.user("ana", roles=("social_worker",), entity="SDIS")


def test_register_encrypts_codes_links_and_logs(ctx, ana):
    case = cases.register_case(actor(ana), data())
    assert case.code == "SDIS-2025-00001"
    assert case.status == "identified" and case.linked_on == date(2025, 5, 2)
    assert case.possible_duplicates == []
    assert case.victim.given_names == "Luz Marina" and b"Luz" not in case.victim.given_names_enc
    assert case.victim.age_group == "30-38"  # derived from birth date at identification
    assert {c.kind for c in case.consents} == {"assistance", "data_processing"}
    assert case.screening.acts == "recruitment,transport"
    second = cases.register_case(actor(ana), data(document_number="99887766", given_names="Otra", phone=None))
    assert second.code == "SDIS-2025-00002"
    event = last_events()[0]
    assert event.action == "case.create" and event.object_ref == second.code
    assert "Otra" not in (event.detail or "")


def test_declined_assistance_is_recorded_and_counts(ctx, ana):
    case = cases.register_case(actor(ana), data(consent_assistance=False, declined_reasons="Miedo a represalias"))
    assert case.linked_on is None and case.declined_assistance
    assert case.declined_reasons == "Miedo a represalias"
    assert b"represalias" not in case.declined_reasons_enc
    # Still counted in identification statistics (by identified_on, clear column).
    n = db.session.scalar(select(func.count()).select_from(Case).where(Case.identified_on >= date(2025, 1, 1)))
    assert n == 1


def test_child_needs_representative_and_flags_icbf_referral(ctx, ana):
    child = data(birth_date="2010-01-01", screening_means=[])
    with pytest.raises(Invalid) as err:
        cases.register_case(actor(ana), child)
    assert "representative" in err.value.field_errors
    assert "screening_means" not in err.value.field_errors  # means not required for a child
    assert count(Case) == 0 and count(Victim) == 0
    case = cases.register_case(actor(ana), {**child, "representative": "Defensora de familia ICBF",
                                            "consent_method": "child_protection_authority"})
    assert case.is_child and case.child_referral_required
    assert case.victim.age_group == "9-17"
    assert case.consents[0].representative == "Defensora de familia ICBF"


def test_adult_screening_needs_means(ctx, ana):
    with pytest.raises(Invalid) as err:
        cases.register_case(actor(ana), data(screening_means=[]))
    assert "screening_means" in err.value.field_errors


@pytest.mark.parametrize("field,value", [
    ("identified_on", "2025-02-30"),
    ("identified_on", "in three days"),  # resolved against the test clock below, not at collection
    ("birth_date", "1899-12-31"),
    ("birth_date", "15/06/1994"),
    ("document_type", "DNI"),
    ("sex", "f"),
    ("nationality", "XX"),
    ("nationality", "COL"),
    ("exploitation_purposes", ["sexual_exploitation", "not_a_purpose"]),
    ("exploitation_purposes", "sexual_exploitation"),
    ("exploitation_purposes", []),
    ("control_methods", ["mind_control"]),
    ("narrative", "x" * 4001),
    ("given_names", "x" * 201),
    ("given_names", 12345),
    ("consent_assistance", 7),
    ("phone", "call me"),
    ("trafficking_scope", None),
    ("colour_of_eyes", "brown"),
])
def test_malformed_input_is_refused_and_nothing_written(ctx, ana, field, value):
    if value == "in three days":
        value = (today() + timedelta(days=3)).isoformat()
    before = count(AuditEvent)
    with pytest.raises(Invalid) as err:
        cases.register_case(actor(ana), data(**{field: value}))
    assert field in err.value.field_errors and err.value.field_errors[field]
    db.session.rollback()
    assert count(Case) == 0 and count(Victim) == 0 and count(AuditEvent) == before


def test_errors_are_in_spanish_and_all_at_once(ctx, ana):
    with pytest.raises(Invalid) as err:
        cases.validate_case_data(data(identified_on="mañana", narrative="x" * 5000, sex="?"))
    assert set(err.value.field_errors) >= {"identified_on", "narrative", "sex"}
    assert "fecha" in err.value.field_errors["identified_on"][0].lower()


def test_the_purposes_a_read_shows_are_hers_and_follow_a_change_made_after_it(ctx, ana):
    """A case read for its page brings her purposes as a column of its own statement (Case.purposes_shown: JSON from
    json_group_array or json_agg), not as objects loaded by a statement of their own; they are hers, by id, with
    both labels, and a change of Case.purposes after that read is what is shown from then on."""
    code = cases.register_case(actor(ana), data(exploitation_purposes=["forced_labour", "sexual_exploitation"])).code
    other = cases.register_case(actor(ana), data(document_number="99.887.766", given_names="Rosa", family_names="Díaz",
                                                 exploitation_purposes=["begging"])).code
    db.session.commit()
    db.session.expunge_all()  # read afresh, as a request does
    read = cases.get_case(actor(ana), code)
    assert "purposes_shown" in read.__dict__ and "purposes" not in read.__dict__  # one statement, no objects
    shown = cases.shown_purposes(read)
    catalogue = sorted(read.purposes, key=lambda p: p.id)  # (loaded now, for the comparison)
    assert [(p.code, p.label_es, p.label_en) for p in shown] == [(p.code, p.label_es, p.label_en) for p in catalogue]
    assert {p.code for p in shown} == {"forced_labour", "sexual_exploitation"}
    assert [p["code"] for p in cases.case_summary(actor(ana), read)["exploitation_purposes"]] == [p.code for p in shown]
    assert [p.code for p in cases.shown_purposes(cases.get_case(actor(ana), other))] == ["begging"]
    read.purposes = [p for p in read.purposes if p.code == "forced_labour"]
    assert [p.code for p in cases.shown_purposes(read)] == ["forced_labour"]


def test_purpose_must_be_in_force_on_identification_date(ctx, ana):
    # The 2026 wording's additions are not in force for a 2025 identification.
    with pytest.raises(Invalid) as err:
        cases.register_case(actor(ana), data(exploitation_purposes=["forced_criminality"]))
    assert "exploitation_purposes" in err.value.field_errors
    codes_2025 = {p.code for p in purposes_in_force(date(2025, 6, 1))}
    assert "sexual_exploitation" in codes_2025 and "forced_criminality" not in codes_2025


def test_admin_extends_and_retires_the_catalogue(ctx, factory):
    w1, root = factory.user("w1"), factory.user("root", roles=("admin",))
    worker, admin = actor(w1), actor(root)
    add_purpose(admin, code="digital_exploitation", label_es="Explotación digital", label_en="Digital exploitation",
                valid_from=date(2026, 2, 1), legal_source="Ley de prueba")
    assert "digital_exploitation" in {p.code for p in purposes_in_force(date(2026, 3, 1))}
    retire_purpose(admin, "digital_exploitation", date(2026, 2, 28))
    assert "digital_exploitation" not in {p.code for p in purposes_in_force(date(2026, 3, 1))}
    with pytest.raises(Forbidden):
        add_purpose(worker, code="x_y", label_es="x", label_en="x", valid_from=date(2026, 1, 1), legal_source="x")


def test_duplicate_across_entities_names_only_the_other_entity(ctx, factory, ana):
    beto = factory.user("beto", entity="FISCAL")
    cases.register_case(actor(ana), data())
    # Same document written differently: normalised before indexing.
    again = data(document_number="1020304050", given_names="LUZ  MARINA", family_names="quintero rios")
    with pytest.raises(cases.PossibleDuplicate) as dup:
        cases.register_case(actor(beto), again)
    assert dup.value.hints == [{"entity_code": "SDIS", "entity_name": "Entidad SDIS"}]
    assert count(Case) == 1
    event = last_events()[0]
    assert event.action == "case.duplicate_hint" and event.actor == "beto" and "Luz" not in (event.detail or "")
    hints = cases.find_duplicates(actor(beto), again)
    assert hints == dup.value.hints
    case = cases.register_case(actor(beto), again, confirm_duplicate=True)
    assert case.code.startswith("FISCAL-2025-") and case.possible_duplicates == dup.value.hints
    # Name and birth date also match; a different person with the same name does not.
    assert cases.find_duplicates(actor(beto), data(document_type="NONE", document_number=None, phone=None))
    assert not cases.find_duplicates(actor(beto), data(document_type="NONE", document_number=None, phone=None,
                                                       birth_date="1990-01-01"))


def test_a_document_match_and_a_name_match_on_two_victims_are_both_hinted(ctx, factory, ana):
    # The document's candidates and the name's are read in one statement: a victim found by one of them is compared
    # on that one only, and both victims are named, each with what matched.
    beto, carla = factory.user("beto", entity="FISCAL"), factory.user("carla", entity="ICBF")
    cases.register_case(actor(ana), data(given_names="Rosa", family_names="Pérez"))  # SDIS: the same document
    cases.register_case(actor(beto), data(document_type="NONE", document_number=None))  # FISCAL: her name and birth
    carla = actor(carla)
    with pytest.raises(cases.PossibleDuplicate) as dup:
        cases.register_case(carla, data())
    assert sorted(h["entity_code"] for h in dup.value.hints) == ["FISCAL", "SDIS"]
    assert sorted(dup.value.matched_on) == ["document", "name_birth_date", "name_phone"]
    assert cases.find_duplicates(carla, data(document_number="99999999")) == [
        {"entity_code": "FISCAL", "entity_name": "Entidad FISCAL"}]  # her name alone: not the other document
    assert cases.find_duplicates(carla, data(given_names="Ana", family_names="Gómez")) == [
        {"entity_code": "SDIS", "entity_name": "Entidad SDIS"}]  # the document alone


def test_need_to_know_other_entity(ctx, factory, ana):
    other = factory.user("otro", entity="ICBF")
    code = cases.register_case(actor(ana), data()).code
    other = actor(other)
    with pytest.raises(NotFound):
        cases.get_case(other, code)
    assert cases.search_cases(other, document_type="CC", document_number="1020304050") == []
    assert cases.search_cases(other, name="Luz Marina Quintero Ríos") == []
    assert cases.search_cases(other, code=code) == []
    assert cases.list_cases(other)[0] == []
    with pytest.raises(NotFound):
        cases.update_case(other, code, {"address": "x"}, version=1)


@pytest.mark.parametrize("role", ["coordinator", "auditor", "admin"])
def test_coordinator_auditor_admin_never_get_identity(ctx, factory, ana, role):
    user = factory.user(f"u_{role}", roles=(role,), entity="SDIS")
    case = cases.register_case(actor(ana), data())
    user = actor(user)
    with pytest.raises((Forbidden, NotFound)):
        cases.get_case(user, case.code)
    with pytest.raises(Forbidden):
        cases.search_cases(user, document_type="CC", document_number="1020304050")
    with pytest.raises(Forbidden):
        cases.list_cases(user)
    summary = cases.case_summary(user, case)
    assert "identity" not in summary and "Luz" not in repr(summary)


def test_lawyer_sees_identity_social_worker_edits(ctx, factory, ana):
    lawyer = factory.user("lina", roles=("lawyer",))
    case = cases.register_case(actor(ana), data())
    lawyer = actor(lawyer)
    summary = cases.case_summary(lawyer, cases.get_case(lawyer, case.code))
    assert summary["identity"]["given_names"] == "Luz Marina"
    with pytest.raises(Forbidden):
        cases.update_case(lawyer, case.code, {"address": "Otra"}, version=case.version)


def test_search_exact_by_each_kind_and_logged_by_kind(ctx, ana):
    code = cases.register_case(actor(ana), data()).code
    cases.register_case(actor(ana), data(given_names="Ana", document_number="555", phone="3009998877"))
    user = actor(ana)
    assert [c.code for c in cases.search_cases(user, document_type="CC", document_number="1020304050")] == [code]
    assert cases.search_cases(user, document_type="TI", document_number="1020304050") == []
    assert [c.code for c in cases.search_cases(user, name="luz marina QUINTERO rios")] == [code]
    assert cases.search_cases(user, name="Luz Marina") == []  # exact, not partial
    assert [c.code for c in cases.search_cases(user, phone="3105550101")] == [code]
    assert [c.code for c in cases.search_cases(user, code=code.lower())] == [code]
    events = last_events(6)
    assert [e.action for e in events] == ["case.search"] * 6
    assert {e.detail.split('"by":"')[1].split('"')[0] for e in events} == {"document", "name", "phone", "code"}
    assert all("1020304050" not in e.detail and "Luz" not in e.detail for e in events)
    with pytest.raises(Invalid):
        cases.search_cases(user, name="Luz", phone="310")


def test_list_is_keyset_paginated_and_scoped(ctx, factory, ana):
    other = factory.user("zoe", entity="OIM")
    codes = [cases.register_case(actor(ana), data(document_number=str(1000 + i), given_names=f"N{i}")).code
             for i in range(5)]
    cases.register_case(actor(other), data(document_number="77", given_names="Z"))
    page, cursor = cases.list_cases(actor(ana), limit=2)
    seen = [c.code for c in page]
    while cursor:
        page, cursor = cases.list_cases(actor(ana), cursor=cursor, limit=2)
        seen += [c.code for c in page]
    assert seen == list(reversed(codes))
    assert last_events()[0].action == "case.list"


def test_update_reindexes_and_stale_version_changes_nothing(ctx, ana):
    case = cases.register_case(actor(ana), data())
    code, v1 = case.code, case.version
    updated = cases.update_case(actor(ana), code, {"document_number": "99.999", "address": "Nueva"}, version=v1)
    assert updated.version == v1 + 1
    assert [c.code for c in cases.search_cases(actor(ana), document_type="CC", document_number="99999")] == [code]
    assert cases.search_cases(actor(ana), document_type="CC", document_number="1020304050") == []
    with pytest.raises(Conflict):
        cases.update_case(actor(ana), code, {"address": "Sobrescrita"}, version=v1)
    db.session.rollback()
    db.session.expire_all()
    again = db.session.scalar(select(Case).where(Case.code == code))
    assert again.victim.address == "Nueva" and again.version == v1 + 1


def test_update_validates_partially(ctx, ana):
    case = cases.register_case(actor(ana), data())
    with pytest.raises(Invalid) as err:
        cases.update_case(actor(ana), case.code, {"birth_date": "2031-01-01", "status": "closed"}, version=case.version)
    assert {"birth_date", "status"} <= set(err.value.field_errors)
    updated = cases.update_case(actor(ana), case.code, {"birth_date": "2012-01-01"}, version=case.version)
    assert updated.is_child and updated.child_referral_required and updated.victim.age_group == "9-17"


def test_status_transitions_only_forward_and_closure_needs_reason(ctx, ana):
    case = cases.register_case(actor(ana), data())
    code = case.code
    with pytest.raises(Conflict):
        route.change_status(actor(ana), code, "in_mediate_assistance", version=case.version)
    case = route.change_status(actor(ana), code, "in_immediate_assistance", version=case.version, on="2025-05-03")
    assert case.intake_on == date(2025, 5, 3)
    with pytest.raises(Invalid) as err:  # Decree 1066 of 2015: the complaint and the acta única first
        route.change_status(actor(ana), code, "in_mediate_assistance", version=case.version, on="2025-05-08")
    assert err.value.rule == "complaint_required" and {"complaint_on", "acta_on"} == set(err.value.field_errors)
    case = route.change_status(actor(ana), code, "in_mediate_assistance", version=case.version, on="2025-05-08",
                               complaint_on="2025-05-04", acta_on="2025-05-08")
    with pytest.raises(Invalid) as err:
        route.change_status(actor(ana), code, "closed", version=case.version)
    assert "reason" in err.value.field_errors
    case = route.change_status(actor(ana), code, "closed", version=case.version, reason="goals_met", on="2025-10-01")
    assert case.status == "closed" and case.closed_on == date(2025, 10, 1)
    with pytest.raises(Conflict):
        route.change_status(actor(ana), code, "identified", version=case.version)


def test_assistance_needs_consent(ctx, ana):
    case = cases.register_case(actor(ana), data(consent_assistance=False))
    with pytest.raises(Conflict):
        route.change_status(actor(ana), case.code, "in_immediate_assistance", version=case.version)


def test_consents_give_withdraw_keep_history(ctx, factory, ana):
    factory.entity("ICBF")
    case = cases.register_case(actor(ana), data(consent_assistance=False, declined_reasons="No por ahora"))
    assert case.linked_on is None
    consent = consents.give_consent(actor(ana), case.code, "assistance", method="verbal_witnessed",
                                    given_on="2025-06-01")
    case = db.session.scalar(select(Case).where(Case.code == case.code))
    assert case.linked_on == date(2025, 6, 1)
    with pytest.raises(Conflict):
        consents.give_consent(actor(ana), case.code, "assistance", method="written", given_on="2025-06-02")
    consents.withdraw_consent(actor(ana), case.code, consent.id, version=consent.version, on="2025-07-01")
    case = db.session.scalar(select(Case).where(Case.code == case.code))
    assert case.linked_on == date(2025, 6, 1)  # withdrawal does not erase history
    assert db.session.get(Consent, consent.id).withdrawn_on == date(2025, 7, 1)
    with pytest.raises(Conflict):
        consents.withdraw_consent(actor(ana), case.code, consent.id, version=consent.version)
    sharing = consents.give_consent(actor(ana), case.code, "sharing", method="written", given_on="2025-06-01",
                                    entity_code="ICBF")
    assert sharing.entity.code == "ICBF"
    with pytest.raises(Invalid) as err:
        consents.give_consent(actor(ana), case.code, "sharing", method="written", given_on="2025-06-01")
    assert "entity" in err.value.field_errors
    with pytest.raises(Invalid) as err:
        consents.give_consent(actor(ana), case.code, "telepathy", method="written", given_on="1800-01-01")
    assert {"kind", "given_on"} <= set(err.value.field_errors)


def test_child_consent_needs_representative(ctx, ana):
    case = cases.register_case(actor(ana), data(birth_date="2012-01-01", consent_assistance=False,
                                                consent_data_processing=False, representative="Madre"))
    with pytest.raises(Invalid) as err:
        consents.give_consent(actor(ana), case.code, "assistance", method="legal_representative", given_on="2025-05-03")
    assert "representative" in err.value.field_errors


def test_record_screening(ctx, ana):
    case = cases.register_case(actor(ana), data(screening_acts=[], screening_means=[]))
    assert case.screening is None
    with pytest.raises(Invalid):
        cases.record_screening(actor(ana), case.code, {"acts": ["recruitment"], "means": []}, version=0)
    s = cases.record_screening(actor(ana), case.code, {"acts": ["recruitment"], "means": ["fraud"],
                                                         "purpose_present": True}, version=0)
    with pytest.raises(Invalid) as err:  # a correction names the version it was made from
        cases.record_screening(actor(ana), case.code, {"acts": ["receipt"], "means": ["fraud"]}, version=None)
    assert "version" in err.value.field_errors
    with pytest.raises(Conflict):
        cases.record_screening(actor(ana), case.code, {"acts": ["receipt"], "means": ["fraud"]}, version=s.version + 5)
    s2 = cases.record_screening(actor(ana), case.code, {"acts": ["receipt"], "means": ["fraud"]}, version=s.version)
    assert s2.acts == "receipt"


def test_view_is_logged_by_code(ctx, ana):
    code = cases.register_case(actor(ana), data()).code
    cases.get_case(actor(ana), code)
    event = last_events()[0]
    assert (event.action, event.object_ref, event.actor) == ("case.view", code, "ana")


def test_case_codes_are_unique_under_concurrent_registration(app, factory):
    import threading

    users = [factory.user(f"w{i}") for i in range(3)]
    codes, errors = [], []

    def work(test_user, offset):
        try:
            with app.test_request_context():
                for j in range(3):
                    case = cases.register_case(actor(test_user), data(document_number=f"{offset}{j}",
                                                                       given_names=f"P{offset}{j}", phone=None))
                    codes.append(case.code)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u, i)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(codes) == [f"SDIS-2025-{n:05d}" for n in range(1, 10)]


def test_double_submit_in_the_same_entity_is_flagged_with_the_code(ctx, ana):
    first = cases.register_case(actor(ana), data())
    with pytest.raises(cases.PossibleDuplicate) as dup:
        cases.register_case(actor(ana), data())
    assert dup.value.hints == [{"entity_code": "SDIS", "entity_name": "Entidad SDIS", "case_code": first.code}]
    db.session.rollback()
    assert count(Case) == 1


def test_whole_form_edit_logs_only_real_changes(ctx, ana):
    case = cases.register_case(actor(ana), data())
    summary = cases.case_summary(actor(ana), case)
    form = {**summary["identity"], **summary["account"], **summary["statistics"],
            "identified_on": summary["identified_on"],
            "identification_source": case.identification_source, "trafficking_scope": case.trafficking_scope,
            "victim_status": case.victim_status, "control_methods": case.control_method_list,
            "exploitation_purposes": [p["code"] for p in summary["exploitation_purposes"]]}
    del form["declined_reasons"]
    same = cases.update_case(actor(ana), case.code, form, version=case.version)
    assert same.version == summary["version"]  # nothing changed, nothing written
    updated = cases.update_case(actor(ana), case.code, {**form, "phone": "3001239876"}, version=case.version)
    assert updated.version == summary["version"] + 1
    assert last_events()[0].detail == '{"fields":["phone"]}'
    assert [c.code for c in cases.search_cases(actor(ana), phone="3001239876")] == [case.code]


def test_same_registration_key_registers_once(factory, ctx):
    """A form sent twice (double click, retry) with its one-time token creates one case, not two."""
    from caseapp.models.accounts import User as _User
    from caseapp.models.cases import Case as _Case
    from caseapp.services import registry as _cases

    u, o = factory.user("doble"), factory.user("otra")
    actor = db.session.get(_User, u.id)
    data = {"given_names": "Lucía", "family_names": "Rojas", "document_type": "CC", "document_number": "1098765432",
            "sex": "female", "nationality": "CO", "identified_on": "2025-06-01", "identification_source": "coat",
            "exploitation_purposes": ["begging"], "trafficking_scope": "internal", "consent_assistance": True,
            "consent_method": "written", "victim_status": "victim"}
    first = _cases.register_case(actor, dict(data), idempotency_key="form-token-1")
    first_code, first_replayed = first.code, first.replayed
    second = _cases.register_case(actor, dict(data), idempotency_key="form-token-1")
    assert second.code == first_code and second.replayed and not first_replayed
    assert db.session.query(_Case).count() == 1
    other = db.session.get(_User, o.id)
    # The key is the user's: another user's identical token registers her own case (after the duplicate notice).
    third = _cases.register_case(other, dict(data), idempotency_key="form-token-1", confirm_duplicate=True)
    assert third.code != first_code


def test_each_duplicate_read_keeps_its_own_limit(ctx, factory, ana, monkeypatch):
    # The document's and the name's candidates come from one statement, each read under its own limit: a case that
    # only the name's read reached is compared on her name, never on a document whose own read stopped before her.
    from caseapp.services.registry import identity

    beto = actor(factory.user("beto", entity="FISCAL"))
    luz = cases.register_case(actor(ana), data())  # the oldest: her document and her name
    others = [cases.register_case(beto, data(document_number=f"5566778{i}", given_names=f"Otra{i}",
                                             family_names="Persona", phone=None, birth_date="1980-01-01"))
              for i in range(2)]
    # every document collides on one index value (a narrow index), and only Luz has a name index
    db.session.execute(update(Victim).values(document_bidx=7))
    db.session.execute(update(Victim).where(Victim.id != luz.victim_id).values(name_bidx=None))
    db.session.commit()
    real = identity._bidx
    monkeypatch.setattr(identity, "_bidx", lambda purpose, norm, bits=None: 7 if purpose == "victims/document" and norm
                        else real(purpose, norm, bits))
    monkeypatch.setattr(identity, "CANDIDATES", 2)  # the two newest documents: Luz's read stops before her
    identity._duplicate_candidates_statement.cache_clear()
    try:
        found = identity._match_reasons(validate_case_data(data()))
    finally:
        identity._duplicate_candidates_statement.cache_clear()
    assert {case.code: sorted(reasons) for case, reasons in found.values()} == {
        luz.code: ["name_birth_date", "name_phone"]}, [o.code for o in others]
