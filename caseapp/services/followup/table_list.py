"""The monthly list for the investigation and prosecution table (seed 003): case codes with the stage of the
criminal process and what is pending, never a name; on screen, in CSV and in XLSX (written by
`caseapp.spreadsheets`, like every file).
"""
from __future__ import annotations

import io
from datetime import date, timedelta

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import label, stage_label
from caseapp.models.cases import Case
from caseapp.models.legal import LegalStageChange
from caseapp.models.referrals import Referral
from caseapp.models.route import (
    OPEN_STEP_STATUSES,
    AssistanceStep,
    LegalEvent,
    LegalProceeding,
    ProtectionMeasure,
)
from caseapp.services.followup.agenda import _lang_es
from caseapp.services.primitives import commit_read
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


def table_list(actor, year: int, month: int, *, export: str | None = None) -> list[dict]:
    """Case codes with the stage of the criminal process and pending actions, no names (seed 003).

    The entity's cases open at some time during the month. Logged as a view, or as an export with its format.
    """
    authz.require(actor, "route.table_list")
    start, end = _month_bounds(year, month)
    cases = list(db.session.scalars(
        select(Case).where(Case.owner_entity_id == actor.entity_id, Case.identified_on <= end,
                           or_(Case.closed_on.is_(None), Case.closed_on >= start)).order_by(Case.code)))
    ids = [c.id for c in cases]
    proceedings, hearings, steps, refs, measures = {}, {}, {}, {}, {}
    changes, held, granted = {}, {}, {}  # the month's stage changes, hearings held, measures granted (issue 13)
    held_until = min(end, today())
    if ids:
        proceedings = {p.case_id: p for p in db.session.scalars(
            select(LegalProceeding).where(LegalProceeding.case_id.in_(ids), LegalProceeding.kind == "criminal"))}
        for ev in db.session.scalars(select(LegalEvent).where(LegalEvent.case_id.in_(ids), LegalEvent.on >= start,
                                                              LegalEvent.kind == "hearing").order_by(LegalEvent.on)):
            hearings.setdefault(ev.case_id, ev.on)
            if ev.on <= held_until:
                held[ev.case_id] = held.get(ev.case_id, 0) + 1
        for ch in db.session.scalars(select(LegalStageChange).options(joinedload(LegalStageChange.proceeding))
                                     .where(LegalStageChange.case_id.in_(ids), LegalStageChange.changed_on >= start,
                                            LegalStageChange.changed_on <= end)
                                     .order_by(LegalStageChange.changed_on, LegalStageChange.id)):
            changes.setdefault(ch.case_id, []).append(
                f"{ch.changed_on.isoformat()} {stage_label(ch.proceeding.kind, ch.stage)}")
        for st in db.session.scalars(select(AssistanceStep).where(
                AssistanceStep.case_id.in_(ids), AssistanceStep.status.in_(OPEN_STEP_STATUSES))):
            steps.setdefault(st.case_id, []).append(st.kind.label_es if _lang_es() else st.kind.label_en)
        for ref in db.session.scalars(select(Referral).where(Referral.case_id.in_(ids), Referral.status == "sent")):
            refs.setdefault(ref.case_id, []).append(ref.to_entity.code)
        for m in db.session.scalars(select(ProtectionMeasure).where(
                ProtectionMeasure.case_id.in_(ids), or_(
                    ProtectionMeasure.status == "requested",
                    ProtectionMeasure.status.in_(("granted", "ended")) & ProtectionMeasure.decided_on.between(
                        start, end)))):
            if m.status == "requested":
                measures[m.case_id] = measures.get(m.case_id, 0) + 1
            if m.status in ("granted", "ended") and m.decided_on and start <= m.decided_on <= end:
                granted[m.case_id] = granted.get(m.case_id, 0) + 1
    rows = []
    dates_of = due.phase_dates_of(cases)
    for case in cases:
        proc = proceedings.get(case.id)
        pending = list(steps.get(case.id, []))
        pending += [_("Referral to %(entity)s awaiting answer", entity=e) for e in refs.get(case.id, [])]
        if measures.get(case.id):
            pending.append(_("Protection measure awaiting decision"))
        if proc is None or proc.complaint_filed_on is None:
            pending.append(_("Criminal complaint not recorded"))
        dates = dates_of[case.id]
        overdue_on = (dates.immediate_due_on if case.status == "in_immediate_assistance" else
                      dates.mediate_due_on if case.status == "in_mediate_assistance" else None)
        if overdue_on and overdue_on < today():
            pending.append(_("Phase past its due date"))
        rows.append({
            "case": case.code,
            "status": label("status", case.status),
            "stage": label("stage", proc.stage) if proc else "",
            "complaint_on": proc.complaint_filed_on.isoformat() if proc and proc.complaint_filed_on else "",
            "next_hearing": hearings[case.id].isoformat() if case.id in hearings else "",
            "pending_actions": "; ".join(pending),
            "stage_changes": "; ".join(changes.get(case.id, [])),
            "hearings_held": held.get(case.id, 0),
            "measures_granted": granted.get(case.id, 0),
        })
    period = f"{year:04d}-{month:02d}"
    if export:
        audit.record("export.table_list", actor=actor, object_type="export", object_ref=period,
                     detail={"format": export, "rows": len(rows)})
    else:
        audit.record("route.table_list.view", actor=actor, object_type="report", object_ref=period,
                     detail={"rows": len(rows)})
    commit_read()
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
