"""The case timeline and the printable summary (PDF), over the web and the API: everything that happened to the case,
newest first, with only what the reader may see — a receiving entity sees the summary it was shared and nothing of
the legal or psychosocial sections, a social worker never the lawyers' notes — at a cost in SQL statements that does
not grow with the rows, every read in the access log, and the PDF a no-store download."""
from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.audit import AuditEvent
from caseapp.services import casework, registry
from tests.cases_factory import make_case
from tests.world import AUDIT_APPEND_STATEMENTS, _referral, new_api_token

IDENTIFIED = date(2025, 3, 10)
GIVEN, DOCUMENT = "Yolima", "52999111"
HEARING_TITLE = "Audiencia de imputacion Zeta"
PATHS = ("web", "api")


def _u(uid):
    return db.session.get(User, uid)


@pytest.fixture
def people(factory):
    factory.entity("OIM", kind="ngo")
    factory.entity("FUND", kind="ngo")
    return {"ana": factory.user("ana", roles=("social_worker",), entity="SDIS"),
            "lia": factory.user("lia", roles=("lawyer",), entity="SDIS"),
            "beto": factory.user("beto", roles=("social_worker",), entity="OIM"),
            "coord": factory.user("coord", roles=("coordinator",), entity="SDIS"),
            "aud": factory.user("aud", roles=("auditor",), entity="SDIS"),
            "eve": factory.user("eve", roles=("social_worker", "lawyer"), entity="FUND")}


def _build(app, people, n: int = 1, document: str = DOCUMENT) -> str:
    """A SDIS case with n of each record, referred to OIM (accepted, sharing the summary only) and sent to FUND."""
    with app.test_request_context():
        ana, lia = _u(people["ana"].id), _u(people["lia"].id)
        code = make_case(ana.id, given_names=GIVEN, document_number=document, identified_on=IDENTIFIED,
                         status="in_immediate_assistance", intake_on=IDENTIFIED)
        for i in range(n):
            casework.add_step(ana, code, kind="psychological_assessment", status="done", done_on="2025-03-11",
                              notes=f"Nota del paso {i}")
            casework.add_note(ana, code, "psychosocial", body="Nota psicosocial reservada", written_on="2025-03-12")
            casework.add_goal(ana, code, area="education", description="Terminar el bachillerato",
                              agreed_on="2025-03-12")
            casework.add_note(lia, code, "legal", body="Nota juridica reservada", written_on="2025-03-13")
            casework.add_event(lia, code, kind="hearing", on="2025-03-14", title=HEARING_TITLE, outcome="Aplazada")
            measure = casework.add_measure(lia, code, kind="police_measures", requested_on="2025-03-14")
            casework.update_measure(lia, measure.id, version=measure.version, status="granted",
                                    decided_on="2025-03-15")
        _referral(code, "SDIS", "OIM", "accepted", ana.id, sections="summary")
        _referral(code, "SDIS", "FUND", "sent", ana.id, sections="summary")
    return code


def _client(app, login_as, person):
    return login_as(person, app.test_client())


def _get(app, login_as, person, path: str, url: str):
    """(status, response) of a GET as `person`, on the web (a session) or the API (a bearer token)."""
    if path == "web":
        return _client(app, login_as, person).get(url)
    with app.app_context():
        token = new_api_token(person.id)
    return app.test_client().get("/api/v1" + url, headers={"Authorization": f"Bearer {token}"})


def _kinds(app, login_as, person, path: str, code: str) -> list[str]:
    """The kinds of the timeline's entries, in order, as `person` reads them on `path`."""
    response = _get(app, login_as, person, path, f"/cases/{code}/timeline")
    assert response.status_code == 200, response.status_code
    if path == "api":
        items = response.get_json()["items"]
        dates = [i["on"] for i in items]
        assert dates == sorted(dates, reverse=True)  # newest first
        return [i["kind"] for i in items]
    html = response.get_data(as_text=True)
    dates = re.findall(r'<time datetime="([0-9-]+)">', html)
    assert dates and dates == sorted(dates, reverse=True)  # newest first
    return re.findall(r'data-kind="([a-z_.]+)"', html)


def _case(code):
    from caseapp.models.cases import Case

    return db.session.scalar(select(Case).where(Case.code == code))


@pytest.mark.parametrize("path", PATHS)
def test_the_owners_social_worker_sees_the_whole_route_but_not_the_lawyers_notes(app, login_as, people, path):
    code = _build(app, people)
    kinds = _kinds(app, login_as, people["ana"], path, code)
    for kind in ("case.identified", "case.intake", "case.linked", "consent.given", "step.recorded", "step.done",
                 "referral.sent", "referral.accepted", "legal.event", "legal.measure.requested",
                 "legal.measure.granted", "note.psychosocial", "goal.agreed"):
        assert kind in kinds, kind
    assert "note.legal" not in kinds
    assert kinds[-1] == "case.identified"  # the oldest comes last


@pytest.mark.parametrize("path", PATHS)
def test_the_lawyer_sees_her_notes_and_no_psychosocial_record(app, login_as, people, path):
    code = _build(app, people)
    kinds = _kinds(app, login_as, people["lia"], path, code)
    assert {"note.legal", "legal.event", "legal.measure.granted", "step.done"} <= set(kinds)
    assert not {"note.psychosocial", "goal.agreed"} & set(kinds)


@pytest.mark.parametrize("path", PATHS)
def test_a_receiving_entity_sees_only_the_summary_it_was_shared_and_its_own_referral(app, login_as, people, path):
    code = _build(app, people)
    kinds = _kinds(app, login_as, people["beto"], path, code)
    assert {"case.identified", "step.done", "referral.accepted"} <= set(kinds)
    assert not [k for k in kinds if k.startswith(("legal.", "note.", "goal.", "stay."))], kinds
    # FUND's referral (sent, unanswered) is none of OIM's business: OIM sees one referral, its own
    assert kinds.count("referral.sent") == 1
    if path == "api":
        body = _get(app, login_as, people["beto"], path, f"/cases/{code}/timeline").get_data(as_text=True)
        assert "FUND" not in body and GIVEN not in body and DOCUMENT not in body


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("what", ["timeline", "summary.pdf"])
def test_withdrawn_sharing_consent_takes_the_timeline_and_summary_from_the_receiver(app, login_as, people, path,
                                                                                    what):
    code = _build(app, people)
    assert _get(app, login_as, people["beto"], path, f"/cases/{code}/{what}").status_code == 200
    with app.test_request_context():
        consent = next(c for c in _case(code).consents if c.kind == "sharing" and c.entity.code == "OIM")
        registry.withdraw_consent(_u(people["ana"].id), code, consent.id, version=consent.version)
    assert _get(app, login_as, people["beto"], path, f"/cases/{code}/{what}").status_code == 404


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("what", ["timeline", "summary.pdf"])
@pytest.mark.parametrize("who,expected", [("coord", 403), ("aud", 403), ("eve", 404)])
def test_no_case_role_or_another_entity_gets_nothing(app, login_as, people, path, what, who, expected):
    code = _build(app, people)
    response = _get(app, login_as, people[who], path, f"/cases/{code}/{what}")
    assert response.status_code == expected
    assert GIVEN not in response.get_data(as_text=True)
    assert _get(app, login_as, people["ana"], path, f"/cases/XX-2025-99999/{what}").status_code == 404


def test_the_timeline_page_is_spanish_with_one_date_format_and_linked_from_the_case(app, login_as, people):
    code = _build(app, people)
    client = _client(app, login_as, people["ana"])
    case_page = client.get(f"/cases/{code}").get_data(as_text=True)
    assert f"/cases/{code}/timeline" in case_page and f"/cases/{code}/summary.pdf" in case_page
    html = client.get(f"/cases/{code}/timeline").get_data(as_text=True)
    assert "Línea de tiempo del caso" in html
    assert "15/03/2025" in html and "2025-03-15</time>" not in html  # dd/mm/aaaa on screen
    assert "Medida de protección" in html
    assert "Nota psicosocial reservada" not in html and "Aplazada" not in html  # no free text, only what happened


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("path", PATHS)
def test_the_summary_shows_the_sections_the_reader_may_see_and_hides_the_others(app, login_as, people, path):
    code = _build(app, people)
    own = _get(app, login_as, people["ana"], path, f"/cases/{code}/summary.pdf")
    assert own.status_code == 200 and own.data.startswith(b"%PDF")
    assert own.mimetype == "application/pdf"
    assert own.headers["Content-Disposition"] == f'attachment; filename="resumen-{code}.pdf"'
    assert "no-store" in own.headers["Cache-Control"]
    text = _pdf_text(own.data)
    assert code in text and GIVEN in text and DOCUMENT in text and HEARING_TITLE in text
    assert "Resumen del caso" in text and "10/03/2025" in text  # Spanish labels, dd/mm/aaaa
    shared = _get(app, login_as, people["beto"], path, f"/cases/{code}/summary.pdf")
    assert shared.status_code == 200
    text = _pdf_text(shared.data)
    assert code in text and "10/03/2025" in text
    for hidden in (GIVEN, DOCUMENT, HEARING_TITLE, "Aplazada", "Nota", "Seguimiento jur"):
        assert hidden not in text, hidden


def _log_after(app, seq: int) -> list[tuple]:
    with app.app_context():
        return [(e.action, e.object_ref, e.detail or "")
                for e in db.session.scalars(select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq))]


def _head(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


@pytest.mark.parametrize("path", PATHS)
def test_every_read_is_in_the_access_log_by_case_code_and_nothing_of_its_content(app, login_as, people, path):
    code = _build(app, people)
    seq = _head(app)
    _get(app, login_as, people["beto"], path, f"/cases/{code}/timeline")
    _get(app, login_as, people["beto"], path, f"/cases/{code}/summary.pdf")
    rows = _log_after(app, seq)
    timeline = [r for r in rows if r[0] == "case.timeline.view"]
    printed = [r for r in rows if r[0] == "case.summary.pdf"]
    assert len(timeline) == 1 and len(printed) == 1
    assert timeline[0][1] == code and printed[0][1] == code
    assert json.loads(printed[0][2])["sections"] == ["summary"]
    logged = " ".join(f"{r[1]} {r[2]}" for r in rows)
    assert GIVEN not in logged and DOCUMENT not in logged and HEARING_TITLE not in logged


@pytest.mark.parametrize("url", ["/cases/{code}/timeline", "/api/v1/cases/{code}/timeline",
                                 "/cases/{code}/summary.pdf"])
def test_the_timeline_costs_the_same_with_one_row_or_six(app, login_as, people, count_queries, url):
    client = _client(app, login_as, people["ana"])
    with app.app_context():
        token = new_api_token(people["ana"].id)
    counts = []
    for n, document in ((1, "52999001"), (6, "52999006")):
        code = _build(app, people, n, document)
        target = url.format(code=code)
        client.get(target, headers={"Authorization": f"Bearer {token}"})  # warm the caches a first visit fills
        with count_queries() as count:
            assert client.get(target, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        counts.append(count())
    assert counts[0] == counts[1], counts
    assert counts[0] <= 30 + AUDIT_APPEND_STATEMENTS, counts


@pytest.mark.parametrize("path", PATHS)
def test_where_she_is_lodged_goes_only_to_readers_of_her_identity(app, login_as, people, path):
    from caseapp.services import accounts

    code = _build(app, people)
    with app.test_request_context():
        shelter = casework.save_shelter(accounts.CLI, code="CASA-T", name="Casa Violeta", city="Cartagena",
                                        operator_entity="SDIS", capacity=10)
        casework.place(_u(people["ana"].id), code, shelter_id=shelter.id, admitted_on="2025-03-16")
    own = _kinds(app, login_as, people["ana"], path, code)
    shared = _kinds(app, login_as, people["beto"], path, code)
    assert "stay.admitted" in own and "stay.admitted" not in shared
    # the lodging step the stay is, too: the receiver sees one step fewer recorded than the owner
    assert own.count("step.recorded") == shared.count("step.recorded") + 1


@pytest.mark.parametrize("path", PATHS)
def test_a_receiver_shared_the_legal_section_reads_it_but_never_the_lawyers_notes(app, login_as, people, path):
    code = _build(app, people)
    with app.test_request_context():
        from caseapp.models.referrals import Referral

        ref = db.session.scalar(select(Referral).where(Referral.status == "accepted"))
        ref.shared_sections = "summary,legal"
        db.session.commit()
    kinds = _kinds(app, login_as, people["beto"], path, code)  # a social worker of the receiving entity
    assert "legal.event" in kinds and "legal.measure.granted" in kinds
    assert "note.legal" not in kinds and "note.psychosocial" not in kinds


def test_an_erased_victim_and_a_name_beyond_latin1_still_print(app, login_as, people):
    with app.test_request_context():
        code = make_case(people["ana"].id, given_names="Łucja 😀 Ana", document_number="52999222",
                         identified_on=IDENTIFIED)
    client = _client(app, login_as, people["ana"])
    printed = client.get(f"/cases/{code}/summary.pdf")
    assert printed.status_code == 200 and "Ana" in _pdf_text(printed.data)
    with app.test_request_context():
        registry.erase_case(code)
    printed = client.get(f"/cases/{code}/summary.pdf")
    assert printed.status_code == 200
    text = _pdf_text(printed.data)
    assert "Ana" not in text and "52999222" not in text and "borrada" in text


@pytest.mark.parametrize("path", PATHS)
def test_nothing_of_the_summary_reaches_a_log_line(app, login_as, people, path, caplog):
    import logging

    code = _build(app, people)
    with caplog.at_level(logging.DEBUG):
        assert _get(app, login_as, people["ana"], path, f"/cases/{code}/summary.pdf").status_code == 200
        assert _get(app, login_as, people["ana"], path, f"/cases/{code}/timeline").status_code == 200
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for secret in (GIVEN, DOCUMENT, HEARING_TITLE, "Aplazada"):
        assert secret not in logged, secret


def test_the_case_page_shows_the_newest_entries_the_reader_may_see(app, login_as, people):
    code = _build(app, people)
    own = _client(app, login_as, people["ana"]).get(f"/cases/{code}").get_data(as_text=True)
    own_kinds = re.findall(r'data-kind="([a-z_.]+)"', own)
    assert 0 < len(own_kinds) <= 6 and "(completa)" in own  # the newest six, and a link to all of them
    assert any(k.startswith("legal.") for k in own_kinds)  # the lawyer's measure of 15/03 is among the newest
    shared = _client(app, login_as, people["beto"]).get(f"/cases/{code}").get_data(as_text=True)
    shared_kinds = re.findall(r'data-kind="([a-z_.]+)"', shared)
    assert shared_kinds and not [k for k in shared_kinds if k.startswith(("legal.", "note.", "goal."))]


@pytest.mark.parametrize("path", PATHS)
def test_every_stage_change_and_a_measure_ended_are_on_the_timeline(app, login_as, people, path):
    """The legal follow-up keeps each stage change: the timeline lists them all (criminal and other proceedings),
    and a measure granted then ended shows both, the decision still read as granted."""
    code = _build(app, people)
    with app.test_request_context():
        lia = _u(people["lia"].id)
        migratory = casework.open_proceeding(lia, code, kind="migratory", stage_on="2025-03-16")
        casework.record_stage(lia, migratory.id, version=migratory.version, stage="in_process", on="2025-03-20")
        measure = casework.add_measure(lia, code, kind="police_measures", requested_on="2025-03-17")
        measure = casework.decide_measure(lia, measure.id, version=measure.version, decision="granted",
                                          decided_on="2025-03-18", authority="Fiscalia")
        casework.end_measure(lia, measure.id, version=measure.version, ended_on="2025-03-25")
    kinds = _kinds(app, login_as, people["lia"], path, code)
    assert kinds.count("legal.stage") == 2  # requested, then in process
    assert kinds.count("legal.measure.granted") == 2 and kinds.count("legal.measure.ended") == 1
    assert "legal.stage" not in _kinds(app, login_as, people["beto"], path, code)  # shared the summary only


@pytest.mark.parametrize("path", PATHS)
def test_the_summary_carries_the_safety_flags_to_every_reader_and_every_proceeding_to_the_lawyer(
        app, login_as, people, path):
    """A flag travels with the case whatever a referral shares, so the printed file warns too (never its reason);
    the legal part lists every proceeding with its stage and a hearing's next date."""
    from caseapp.services import safety

    code = _build(app, people)
    with app.test_request_context():
        lia = _u(people["lia"].id)
        safety.set_flag(_u(people["ana"].id), code, kind="no_phone_contact", reason="Red vigila su celular")
        casework.open_proceeding(lia, code, kind="migratory", stage_on="2025-03-16")
        event = casework.add_event(lia, code, kind="hearing", on="2025-03-20", title="Audiencia dos")
        casework.update_event(lia, event.id, version=event.version, outcome="Aplazada de nuevo", next_on="2025-04-02")
    for who in ("ana", "lia", "beto"):
        data = _get(app, login_as, people[who], path, f"/cases/{code}/summary.pdf").data
        text = _pdf_text(data)
        assert "No contactar por" in text and "Red vigila" not in text, who
        pages = PdfReader(io.BytesIO(data)).pages
        assert all("Alertas de seguridad: No contactar por" in p.extract_text() for p in pages), who  # every page
    text = _pdf_text(_get(app, login_as, people["lia"], path, f"/cases/{code}/summary.pdf").data)
    assert "Regularizaci" in text and "02/04/2025" in text


@pytest.mark.parametrize("locale", ["es_CO", "en"])
@pytest.mark.parametrize("reader", ["ana", "lia", "beto"])
def test_the_case_pages_newest_entries_are_the_head_of_the_whole_timeline_text_and_all(app, people, reader, locale):
    """Only the entries returned have their text written: the case page's six are the whole timeline's first six,
    word for word, in the reader's language, and "is there more" still counts what was not written."""
    from flask import session

    from caseapp.services import followup

    code = _build(app, people, n=4)
    with app.test_request_context():
        session["locale"] = locale
        user = _u(people[reader].id)
        case = _case(code)
        whole = followup.entries_of(user, case)
        for newest in (1, 6, 7, len(whole), len(whole) + 5):
            head = followup.entries_of(user, case, newest=newest)
            assert head == whole[:newest]
            assert all(type(e.text) is str for e in head)
    assert len(whole) > 7
    recorded = "Acción registrada: " if locale == "es_CO" else "Step recorded: "
    assert reader == "lia" or any(e.text.startswith(recorded) for e in whole)  # each in the reader's language
