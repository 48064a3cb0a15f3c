"""The committee's reports (issue 11, "Committee reports with content"): each section against a hand-computed
fixture in a closed month (March 2025), small counts left empty (never "<5"), one CSV dialect for a Colombian
Excel, numbers as numbers in XLSX, one formula-injection guard, and a territory's report holding nothing of another.

The fixture, all in March 2025, k = 5 (every figure checked exactly is at least k; every small one is alone in its
base, so it is reserved whatever the complementary suppression chooses):
- Cartagena (CTG, 13001): 10 women identified on 3 March, linked on 5 March, immediate assistance from 3 March
  closed on 7 March (due on 8 March: within term). Five of them closed on 25 March (goals met), so their mediate
  phase ended within term; the other five are in mediate assistance, each with an extension granted on 20 March.
  Steps done: 10 receptions by CTG, 7 medical assessments by an entity whose name is a formula. Not provided: 2
  transports (barriers). Referrals to SALUD: 6 sent on 6 March, due on 10 March; 5 accepted on 8 March and done on
  20 March, 1 rejected on 12 March (late: overdue on 11 March). Complaints filed on 6 March for 6 cases. Protection
  measures: 2 requested on 10 March, none granted.
- Bogotá (SDIS, 11001): 6 women identified on 3 March with a reception each by SDIS.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case, status_writer
from caseapp.models.indicators import Product
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    AssistanceStep,
    CaseClosure,
    LegalProceeding,
    PhaseExtension,
    ProtectionMeasure,
    StepKind,
)
from caseapp.services.indicators import exports
from caseapp.services.indicators.committee import Section
from caseapp.services.indicators.publication.audit import audit
from caseapp.services.indicators.publication.events import EVENT_DIMS, event_bases
from caseapp.services.indicators.publication.protect import protect
from caseapp.spreadsheets import RESERVED, Pct
from tests.cases_factory import make_case

EVIL_NAME = "=cmd|' /C calc'!A0"
REPORT = "/indicators/export/report?kind={kind}&period={period}&format={fmt}"


def _step(case_id, kind, provider, status="done", on=date(2025, 3, 4)):
    return AssistanceStep(case_id=case_id, phase="immediate", kind_id=kind, status=status,
                          done_on=on if status == "done" else None, planned_on=on, provider_entity_id=provider)


@pytest.fixture
def march(app, factory, clock):
    clock.set("2026-02-10 10:00")  # 2025 has closed: its publication counts to 31 December
    factory.entity("CTG", "Secretaría del Interior de Cartagena", territory="13001")
    factory.entity("SALUD", "Departamento Administrativo Distrital de Salud", kind="health", territory="13001")
    factory.entity("EVIL", EVIL_NAME, kind="ngo", territory="13001")
    factory.entity("SDIS", "Secretaría Distrital de Integración Social", territory="11001")
    people = {
        "sw_ctg": factory.user("sw.ctg", roles=("social_worker",), entity="CTG"),
        "sw_bog": factory.user("sw.bog", roles=("social_worker",), entity="SDIS"),
        "coord_ctg": factory.user("coord.ctg", roles=("coordinator",), entity="CTG"),
        "coord_bog": factory.user("coord.bog", roles=("coordinator",), entity="SDIS"),
    }
    with app.test_request_context():
        ent = {e.code: e.id for e in db.session.scalars(select(Entity))}
        kinds = {k.code: k.id for k in db.session.scalars(select(StepKind))}
        codes = [make_case(people["sw_ctg"].id, document_number=str(71000000 + i), phone=f"31500000{i:02d}",
                           identified_on=date(2025, 3, 3), linked_on=date(2025, 3, 5), intake_on=date(2025, 3, 3),
                           immediate_closed_on=date(2025, 3, 7), status="in_mediate_assistance")
                 for i in range(10)]
        cases = [db.session.scalar(select(Case).where(Case.code == c)) for c in codes]
        for i, case in enumerate(cases):
            db.session.add(_step(case.id, kinds["reception"], ent["CTG"]))
            if i < 7:
                db.session.add(_step(case.id, kinds["medical_assessment"], ent["EVIL"], on=date(2025, 3, 5)))
            if i < 2:
                db.session.add(_step(case.id, kinds["transport"], ent["CTG"], status="not_provided",
                                     on=date(2025, 3, 10)))
            if i < 5:
                with status_writer():
                    case.status, case.closed_on, case.closure_reason = "closed", date(2025, 3, 25), "goals_met"
                db.session.add(CaseClosure(case_id=case.id, closed_on=date(2025, 3, 25), reason="goals_met",
                                           status_before="in_mediate_assistance"))
            else:
                db.session.add(PhaseExtension(case_id=case.id, phase="mediate", extra_months=3,
                                              decided_on=date(2025, 3, 20), recorded_at=datetime(2025, 3, 20, 15)))
            if i < 6:
                rejected = i == 5
                db.session.add(Referral(
                    case_id=case.id, from_entity_id=ent["CTG"], to_entity_id=ent["SALUD"], service="medical_assessment",
                    status="rejected" if rejected else "done", sent_at=datetime(2025, 3, 6, 15),
                    due_on=date(2025, 3, 10), responded_on=date(2025, 3, 12) if rejected else date(2025, 3, 8),
                    completed_on=None if rejected else date(2025, 3, 20)))
                db.session.add(LegalProceeding(case_id=case.id, complaint_filed_on=date(2025, 3, 6)))
            if i < 2:
                db.session.add(ProtectionMeasure(case_id=case.id, kind="witness_protection", status="requested",
                                                 requested_on=date(2025, 3, 10)))
        for i in range(6):
            code = make_case(people["sw_bog"].id, document_number=str(72000000 + i), phone=f"31600000{i:02d}",
                             identified_on=date(2025, 3, 3), linked_on=date(2025, 3, 5))
            case = db.session.scalar(select(Case).where(Case.code == code))
            db.session.add(_step(case.id, kinds["reception"], ent["SDIS"]))
        db.session.commit()
    return people


def _csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    """A report's CSV as {section title: rows after its header}: sections are separated by an empty line."""
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    found, current = {}, None
    for i, row in enumerate(rows):
        if not row:
            current = None
        elif current is None and i > 0:
            current = row[0]
            found[current] = []
        elif current is not None:
            found[current].append(row)
    return found


def _table(section_rows: list[list[str]]) -> dict[str, list[str]]:
    """Rows keyed by their first cell, skipping the note and the header (the first rows that are not data)."""
    return {row[0]: row[1:] for row in section_rows}


def _monthly_csv(client, login_as, user, period="2025-03", kind="monthly") -> dict:
    login_as(user)
    r = client.get(REPORT.format(kind=kind, period=period, fmt="csv"))
    assert r.status_code == 200
    return _csv_sections(r.data)


@pytest.mark.parametrize("kind,period", [("monthly", "2025-03"), ("bimonthly", "2025-B2"),
                                         ("half_yearly", "2025-S1")])
def test_each_section_of_the_committees_report_holds_the_hand_computed_figures(client, login_as, march, kind,
                                                                              period):
    # every event of the fixture is in March, so its month, two-month period and half-year read the same
    s = _monthly_csv(client, login_as, march["coord_ctg"], period, kind)
    cases = _table(s["Casos identificados en el periodo por fase y estado"])
    # by phase and status: exact or reserved (next to product 3.5's official figure, the audit may reserve them),
    # never another number
    assert cases["Asistencia mediata"][1] in ("5", "") and cases["Cerrado"][1] in ("5", "")
    assert cases["Total"][-1] in ("10", "")
    steps_kind = _table(s["Acciones de asistencia realizadas por tipo de acción"])
    assert steps_kind["Recepción"] == ["10"] and steps_kind["Valoración médica"] == ["7"]
    assert steps_kind["Total"] == ["17"]
    steps_provider = _table(s["Acciones de asistencia realizadas por entidad que presta el servicio"])
    assert steps_provider["CTG — Secretaría del Interior de Cartagena"] == ["10"]
    assert steps_provider["Total"] == ["17"]
    referrals = _table(s["Remisiones por entidad requerida"])
    # sent, accepted, rejected, done, not answered by its due date: one rejection and one late answer are reserved
    assert referrals["SALUD — Departamento Administrativo Distrital de Salud"] == ["6", "5", "", "5", ""]
    assert referrals["Total"] == ["6", "5", "", "5", ""]
    phases = _table(s["Asistencia inmediata y mediata: términos legales y prórrogas"])
    assert phases["Asistencia inmediata"] == ["10", "0", "0", "0"]
    assert phases["Asistencia mediata"] == ["5", "0", "0", "5"]
    closures = _table(s["Casos cerrados por motivo del cierre"])
    assert closures["Metas del proyecto de vida cumplidas"] == ["5"] and closures["Total"] == ["5"]
    complaints = _table(s["Denuncias penales presentadas por entidad"])
    assert complaints["CTG — Secretaría del Interior de Cartagena"] == ["6"] and complaints["Total"] == ["6"]
    protection = _table(s["Medidas de protección solicitadas y otorgadas"])
    assert protection["Protección a testigos"] == ["", "0"] and protection["Total"] == ["", "0"]
    barriers = _table(s["Barreras: acciones de asistencia no prestadas por tipo de acción"])
    assert barriers["Transporte"] == [""] and barriers["Total"] == [""]
    women = _table(s["Mujeres vinculadas frente a la meta del producto"])
    (row,) = [v for k, v in women.items() if "3.5" in k]
    assert row == ["10", "10", "100", "10,0 %"]


def test_a_small_count_is_an_empty_cell_with_the_legend_never_a_bound(client, login_as, march):
    login_as(march["coord_ctg"])
    text = client.get(REPORT.format(kind="monthly", period="2025-03", fmt="csv")).data.decode("utf-8-sig")
    assert "<5" not in text and "<" not in text.replace("<br>", "")
    sections = _csv_sections(text.encode("utf-8-sig"))
    barrier = sections["Barreras: acciones de asistencia no prestadas por tipo de acción"]
    assert "reservado" in barrier[0][0].lower(), "the legend stands above the section's header"


def test_the_xlsx_holds_numbers_and_a_reserved_cell_is_empty_with_a_comment(app, client, login_as, march):
    login_as(march["coord_ctg"])
    r = client.get(REPORT.format(kind="monthly", period="2025-03", fmt="xlsx"))
    book = load_workbook(io.BytesIO(r.data))
    counts = [c for s in book.worksheets for row in s.iter_rows() for c in row
              if isinstance(c.value, int | float) and not isinstance(c.value, bool)]
    assert 17 in [c.value for c in counts] and all(c.data_type == "n" for c in counts)
    texts = [c.value for s in book.worksheets for row in s.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(t.isdigit() for t in texts), "no number is written as text"
    assert not any("<5" in t for t in texts)
    barriers = next(s for s in book.worksheets if s["B2"].value is None and "Barreras" in (s["A2"].value or ""))
    reserved = [c for row in barriers.iter_rows() for c in row if c.comment is not None]
    assert reserved and all(c.value is None for c in reserved)
    assert "reservado" in reserved[0].comment.text.lower()
    share = [c for s in book.worksheets for row in s.iter_rows() for c in row if c.number_format == "0.0%"]
    assert [c.value for c in share] == [pytest.approx(0.1)]
    with app.app_context():
        refs = [e.object_ref for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stats.export"))]
    assert refs == ["monthly"], "every file is written to the access log"


def _formula(text: str) -> bool:
    """Text a spreadsheet would run: it starts with =, +, @ or a minus that is not a negative number."""
    text = text.lstrip()
    return text[:1] in ("=", "+", "@") or (text[:1] == "-" and not text[1:2].isdigit())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_name_that_is_a_formula_is_text_in_every_file(app, client, login_as, march, fmt):
    with app.app_context():  # a product named by a hostile plan import; an entity named like a formula
        db.session.scalar(select(Product).where(Product.code == "3.5")).name = EVIL_NAME
        db.session.commit()
    login_as(march["coord_ctg"])
    for url in (REPORT.format(kind="monthly", period="2025-03", fmt=fmt),
                f"/indicators/export/product?code=3.5&policy=CTG-PPIG&year=2025&format={fmt}"):
        r = client.get(url)
        if fmt == "csv":
            text = r.data.decode("utf-8-sig")
            assert EVIL_NAME in text
            fields = [f for row in csv.reader(io.StringIO(text), delimiter=";") for f in row]
            assert not any(_formula(f) for f in fields)
        else:
            book = load_workbook(io.BytesIO(r.data))
            cells = [c for s in book.worksheets for row in s.iter_rows() for c in row if c.value is not None]
            assert [c for c in cells if EVIL_NAME in str(c.value)]
            assert all(c.data_type in ("s", "n") for c in cells)
            assert not any(_formula(c.value) for c in cells if c.data_type == "s")
    assert "'" + EVIL_NAME in text if fmt == "csv" else True


def test_the_csv_dialect_opens_in_a_colombian_excel(ctx):
    report = exports.Report("prueba", "Prueba")
    report.sections = [Section("Cifras", ["Qué", "Valor"], rows=[
        ["Año", 2025], ["Conteo", 1234], ["Proporción", 0.75], ["Avance", Pct(0.5)], ["Reservado", RESERVED],
        ["Nada", None], ["Peligro", "+SUM(A1)"], ["Menos", "-1+1"]])]
    data = exports.to_csv(report)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[-8:] == ["Año;2025", "Conteo;1234", "Proporción;0,75", "Avance;50,0 %", "Reservado;", "Nada;",
                          "Peligro;'+SUM(A1)", "Menos;'-1+1"]


def test_a_product_sheet_writes_its_first_year_without_a_thousands_separator(client, login_as, march):
    login_as(march["coord_ctg"])
    text = client.get("/indicators/export/product?code=3.5&policy=CTG-PPIG&year=2025&format=csv").data.decode(
        "utf-8-sig")
    assert "Primer año;2025" in text and "2.025" not in text


def test_a_territorys_report_holds_nothing_of_another(client, login_as, march):
    login_as(march["coord_bog"])
    text = client.get(REPORT.format(kind="monthly", period="2025-03", fmt="csv")).data.decode("utf-8-sig")
    for other in ("CTG", "Cartagena", "SALUD", "Salud", "Valoración médica", "3.5", EVIL_NAME[1:]):
        assert other not in text, other
    steps = _table(_csv_sections(text.encode("utf-8-sig"))["Acciones de asistencia realizadas por entidad que presta el servicio"])
    assert steps["SDIS — Secretaría Distrital de Integración Social"] == ["6"]
    login_as(march["coord_ctg"])
    text = client.get(REPORT.format(kind="monthly", period="2025-03", fmt="csv")).data.decode("utf-8-sig")
    assert "SDIS" not in text and "Bogotá" not in text


def test_a_period_not_closed_yet_says_so_and_publishes_nothing(client, login_as, march):
    sections = _monthly_csv(client, login_as, march["coord_ctg"], "2026-02")
    assert list(sections) == ["Acerca de este informe"]
    assert "aún no ha cerrado" in sections["Acerca de este informe"][0][0]
    # a half-year with a closed month: its counts go up to that month's end, and it says so
    sections = _monthly_csv(client, login_as, march["coord_ctg"], "2026-S1", "half_yearly")
    assert "sus conteos llegan hasta el 31/01/2026" in sections["Acerca de este informe"][0][0]
    assert "Remisiones por entidad requerida" in sections


def test_the_event_bases_count_each_event_in_its_month_and_pass_the_audit(app, march):
    with app.test_request_context():
        made = {b.name: b for b in event_bases("13001", date(2025, 1, 1), date(2025, 12, 31))}
        assert set(made) == set(EVENT_DIMS)
        term = ("term",)
        # the five extended mediate phases (6 + 3 months from 7 March: due 7 December) fall overdue on 8 December
        assert made["phases:mediate"].cells[("month", "2025-12", term, ("open_overdue",))] == 5
        assert made["phases:mediate"].cells[("month", "2025-03", term, ("within_term",))] == 5
        assert made["referrals:overdue"].cells[("month", "2025-03", (), ())] == 1  # the one answered late
        assert ("month", "2025-03", ("to_entity",), ("SDIS",)) not in made["referrals:sent"].cells
        for base in made.values():
            hidden, _result = protect([base], 5)
            assert audit([base], hidden, 5).narrow == []
            assert all(cell in hidden[base.name] for cell, n in base.cells.items() if 0 < n < 5)


def test_the_reports_page_offers_the_last_closed_periods_and_says_what_the_files_hold(client, login_as, march):
    login_as(march["coord_ctg"])
    page = client.get("/indicators/reports").get_data(as_text=True)
    # on 10 February 2026 the last closed month is January: a committee discusses what is published
    assert 'value="2026-01"' in page and 'value="2026-B1"' in page and 'value="2026-S1"' in page
    assert "barreras" in page and "31/01/2026" in page  # the day the files count to


@pytest.mark.parametrize("query", ["kind=monthly&period=2025-S1&format=csv", "kind=bimonthly&period=2025-B7&format=csv",
                                   "kind=half_yearly&period==1%2B1&format=xlsx", "kind=weekly&period=2025-03",
                                   "kind=monthly&period=2025-03&format=pdf"])
def test_a_report_asked_for_wrongly_is_refused_and_gives_no_file(app, client, login_as, march, query):
    login_as(march["coord_ctg"])
    r = client.get("/indicators/export/report?" + query)
    assert r.status_code in (400, 422) and "attachment" not in r.headers.get("Content-Disposition", "")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stats.export")) is None


def test_a_social_worker_gets_no_report(client, login_as, march):
    login_as(march["sw_ctg"])
    r = client.get(REPORT.format(kind="monthly", period="2025-03", fmt="csv"))
    assert r.status_code in (403, 404) and "attachment" not in r.headers.get("Content-Disposition", "")


def test_the_yearly_report_carries_the_committees_sections_for_the_year(client, login_as, march):
    login_as(march["coord_ctg"])
    r = client.get("/indicators/export/report?kind=yearly&year=2025&format=csv")
    sections = _csv_sections(r.data)
    assert _table(sections["Acciones de asistencia realizadas por tipo de acción"])["Total"] == ["17"]
    assert _table(sections["Remisiones por entidad requerida"])["Total"] == ["6", "5", "", "5", ""]
    # the year has closed: the five extended mediate phases fell overdue in December, within the year
    phases = _table(sections["Asistencia inmediata y mediata: términos legales y prórrogas"])
    assert phases["Asistencia mediata"] == ["5", "0", "5", "5"]
    assert "SDIS" not in r.data.decode("utf-8-sig")


def test_every_file_of_ruta_writes_the_same_dialect_and_guard(ctx):
    """The investigation table's monthly list (seed 003) is written like the reports; the access-log export keeps
    its comma-separated form for tools but the same guard."""
    from caseapp.services import followup
    from caseapp.spreadsheets import safe_text

    rows = [{"case": "CTG-2025-00001", "status": "Cerrado", "stage": "Juicio", "complaint_on": "2025-03-06",
             "next_hearing": "", "pending_actions": "=HYPERLINK(\"http://x\")", "stage_changes": "@SUM(1)",
             "hearings_held": 1, "measures_granted": 0}]
    data = followup.table_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[1] == 'CTG-2025-00001;Cerrado;Juicio;2025-03-06;;"\'=HYPERLINK(""http://x"")";\'@SUM(1);1;0'
    book = load_workbook(io.BytesIO(followup.table_xlsx(rows, "2025-03")))
    assert book.active["F2"].value.startswith("'=") and book.active["F2"].data_type == "s"
    assert book.active["G2"].value == "'@SUM(1)" and book.active["H2"].value == 1
    assert safe_text(" -2+3") == "' -2+3"  # a leading space does not hide a formula
