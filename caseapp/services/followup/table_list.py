"""The monthly list for the investigation and prosecution table (seed 003): case codes with the stage of the
criminal process and what is pending, never a name; on screen, in CSV and in XLSX (written by
`caseapp.spreadsheets`, like every file).
"""
from __future__ import annotations

import io
from datetime import date, timedelta

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import func, or_, select

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import label, stage_label
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.legal import LegalStageChange
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    OPEN_STEP_STATUSES,
    AssistanceStep,
    LegalEvent,
    LegalProceeding,
    ProtectionMeasure,
    StepKind,
)
from caseapp.services.followup.agenda import _lang_es
from caseapp.services.primitives import ListPage, commit_read, page_of
from caseapp.services.route import due
from caseapp.spreadsheets import csv_bytes, put
from caseapp.timeutil import today

# --- monthly list for the investigation and prosecution table -------------------------------------------------


TABLE_COLUMNS = ("case", "status", "stage", "complaint_on", "next_hearing", "pending_actions", "stage_changes",
                 "hearings_held", "measures_granted")


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"month": _("Choose a valid month.")})
    start = date(year, month, 1)
    return start, due.add_months(start, 1) - timedelta(days=1)


TABLE_PAGE = 200  # rows the screen shows at a time; the files carry the whole month


def table_list(actor, year: int, month: int, *, export: str | None = None) -> list[dict]:
    """Case codes with the stage of the criminal process and pending actions, no names (seed 003).

    The entity's cases open at some time during the month, all of them (the files, the API). Logged as a view, or as
    an export with its format.
    """
    authz.require(actor, "route.table_list")
    start, end = _month_bounds(year, month)
    month_cases = _month_cases(actor, start, end)
    rows = _rows(month_cases.add_columns(*_CASE_COLUMNS).order_by(Case.code), month_cases, start, end)
    period = f"{year:04d}-{month:02d}"
    if export:
        audit.record("export.table_list", actor=actor, object_type="export", object_ref=period,
                     detail={"format": export, "rows": len(rows)})
    else:
        audit.record("route.table_list.view", actor=actor, object_type="report", object_ref=period,
                     detail={"rows": len(rows)})
    commit_read()
    return rows


def table_page(actor, year: int, month: int, page=1) -> ListPage:
    """One screen of the monthly list, TABLE_PAGE cases in the order of their codes: an entity's month can be
    20,000 cases, which no one reads on a screen (the files carry them all). A page past the last shows the last."""
    authz.require(actor, "route.table_list")
    start, end = _month_bounds(year, month)
    month_cases = _month_cases(actor, start, end)
    total = db.session.scalar(select(func.count()).select_from(month_cases.subquery())) or 0
    page, pages = page_of(page, total, TABLE_PAGE)
    rows = _rows(month_cases.add_columns(*_CASE_COLUMNS).order_by(Case.code).offset((page - 1) * TABLE_PAGE)
                 .limit(TABLE_PAGE), None, start, end)
    audit.record("route.table_list.view", actor=actor, object_type="report", object_ref=f"{year:04d}-{month:02d}",
                 detail={"rows": len(rows), "page": page})
    commit_read()
    return ListPage(rows, total, page, pages, TABLE_PAGE)


def _month_cases(actor, start: date, end: date):
    """SQL: the ids of the actor's entity's cases open at some time between `start` and `end`."""
    return select(Case.id).where(Case.owner_entity_id == actor.entity_id, Case.identified_on <= end,
                                 or_(Case.closed_on.is_(None), Case.closed_on >= start))


_CASE_COLUMNS = (Case.code, Case.status, Case.intake_on, Case.immediate_closed_on)  # with Case.id first


def _rows(listed, month_cases, start: date, end: date) -> list[dict]:
    """The list's rows of the cases `listed` selects (their id and _CASE_COLUMNS, in the order of their codes).

    What the rows show of them is found by their ids for a page, and for the whole month by the subquery
    `month_cases`, and read as rows of the columns the list shows: an entity's month can be 20,000 cases with
    100,000 open steps, which loaded as objects (each case with its victim, entity and purposes) took 8.6 s, and as
    ids could exceed the database's limit of parameters (and, from some thousands, turn SQLite's plan to a scan)."""
    cases = db.session.execute(listed).all()
    among = [c.id for c in cases] if month_cases is None else month_cases
    proceedings, hearings, steps, refs, measures = {}, {}, {}, {}, {}
    changes, held, granted = {}, {}, {}  # the month's stage changes, hearings held, measures granted (issue 13)
    held_until = min(end, today())
    if cases:
        proceedings = {case_id: (stage, filed_on) for case_id, stage, filed_on in db.session.execute(
            select(LegalProceeding.case_id, LegalProceeding.stage, LegalProceeding.complaint_filed_on).where(
                LegalProceeding.case_id.in_(among), LegalProceeding.kind == "criminal")
            .order_by(LegalProceeding.id))}
        for case_id, on in db.session.execute(select(LegalEvent.case_id, LegalEvent.on).where(
                LegalEvent.case_id.in_(among), LegalEvent.on >= start, LegalEvent.kind == "hearing")
                .order_by(LegalEvent.on)):
            hearings.setdefault(case_id, on)
            if on <= held_until:
                held[case_id] = held.get(case_id, 0) + 1
        for case_id, changed_on, kind, stage in db.session.execute(
                select(LegalStageChange.case_id, LegalStageChange.changed_on, LegalProceeding.kind,
                       LegalStageChange.stage)
                .join(LegalProceeding, LegalProceeding.id == LegalStageChange.proceeding_id)
                .where(LegalStageChange.case_id.in_(among), LegalStageChange.changed_on >= start,
                       LegalStageChange.changed_on <= end)
                .order_by(LegalStageChange.changed_on, LegalStageChange.id)):
            changes.setdefault(case_id, []).append(f"{changed_on.isoformat()} {stage_label(kind, stage)}")
        kind_label = StepKind.label_es if _lang_es() else StepKind.label_en
        for case_id, what in db.session.execute(select(AssistanceStep.case_id, kind_label)
                                                .join(StepKind, StepKind.id == AssistanceStep.kind_id).where(
                AssistanceStep.case_id.in_(among), AssistanceStep.status.in_(OPEN_STEP_STATUSES))
                .order_by(AssistanceStep.case_id, AssistanceStep.phase, AssistanceStep.id)):  # the route's order
            steps.setdefault(case_id, []).append(what)
        for case_id, entity in db.session.execute(select(Referral.case_id, Entity.code)
                                                  .join(Entity, Entity.id == Referral.to_entity_id).where(
                Referral.case_id.in_(among), Referral.status == "sent").order_by(Referral.id)):
            refs.setdefault(case_id, []).append(entity)
        for case_id, status, decided_on in db.session.execute(select(
                ProtectionMeasure.case_id, ProtectionMeasure.status, ProtectionMeasure.decided_on).where(
                ProtectionMeasure.case_id.in_(among), or_(
                    ProtectionMeasure.status == "requested",
                    ProtectionMeasure.status.in_(("granted", "ended")) & ProtectionMeasure.decided_on.between(
                        start, end)))):
            if status == "requested":
                measures[case_id] = measures.get(case_id, 0) + 1
            if status in ("granted", "ended") and decided_on and start <= decided_on <= end:
                granted[case_id] = granted.get(case_id, 0) + 1
    rows = []
    dates_of = due.phase_dates_of(cases, among=among)
    for case in cases:
        stage, complaint_on = proceedings.get(case.id, (None, None))
        pending = list(steps.get(case.id, []))
        pending += [_("Referral to %(entity)s awaiting answer", entity=e) for e in refs.get(case.id, [])]
        if measures.get(case.id):
            pending.append(_("Protection measure awaiting decision"))
        if complaint_on is None:
            pending.append(_("Criminal complaint not recorded"))
        dates = dates_of[case.id]
        overdue_on = (dates.immediate_due_on if case.status == "in_immediate_assistance" else
                      dates.mediate_due_on if case.status == "in_mediate_assistance" else None)
        if overdue_on and overdue_on < today():
            pending.append(_("Phase past its due date"))
        rows.append({
            "case": case.code,
            "status": label("status", case.status),
            "stage": label("stage", stage) if stage else "",
            "complaint_on": complaint_on.isoformat() if complaint_on else "",
            "next_hearing": hearings[case.id].isoformat() if case.id in hearings else "",
            "pending_actions": "; ".join(pending),
            "stage_changes": "; ".join(changes.get(case.id, [])),
            "hearings_held": held.get(case.id, 0),
            "measures_granted": granted.get(case.id, 0),
        })
    return rows


def table_headers() -> list[str]:
    return [_("Case"), _("Status"), _("Stage of the criminal process"), _("Complaint filed on"),
            _("Next hearing"), _("Pending actions"), _("Stage changes in the month"), _("Hearings held in the month"),
            _("Protection measures granted in the month")]


def table_csv(rows: list[dict]) -> bytes:
    return csv_bytes([table_headers()] + [[row[c] for c in TABLE_COLUMNS] for row in rows])


def table_xlsx(rows: list[dict], period: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = period
    for r, line in enumerate([table_headers()] + [[row[c] for c in TABLE_COLUMNS] for row in rows], start=1):
        for c, value in enumerate(line, start=1):
            put(ws, r, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
