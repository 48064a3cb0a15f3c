"""Time-based notifications, from cron (`flask notifications due`): a phase of the route due within two days,
and a phase overdue, to the case's professionals. Idempotent: each (user, case, phase, due date, kind) is told
once, whatever the number of runs; an extension moves the due date and so is told again."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from caseapp.extensions import db
from caseapp.models.cases import Case
from caseapp.models.notifications import Notification
from caseapp.services.notifications.recipients import recipients_for_cases
from caseapp.services.notifications.triggers import add
from caseapp.services.route import due as route_due
from caseapp.timeutil import today

DUE_SOON_DAYS = 2
BATCH = 500
PHASE_OF_STATUS = {"in_immediate_assistance": "immediate", "in_mediate_assistance": "mediate"}


def _item(case: Case, dates, on: date) -> tuple[str, str, date] | None:
    """(kind, phase, due date) of the open phase of `case`, if it is due soon or overdue on `on`."""
    phase = PHASE_OF_STATUS.get(case.status)
    due_on = dates.immediate_due_on if phase == "immediate" else dates.mediate_due_on if phase else None
    if due_on is None:
        return None
    if due_on < on:
        return "overdue", phase, due_on
    if due_on <= on + timedelta(days=DUE_SOON_DAYS):
        return "due_soon", phase, due_on
    return None


def _batch(cases: list[Case], on: date) -> int:
    dates = route_due.phase_dates_of(cases)
    people = recipients_for_cases(cases)
    wanted = []
    for case in cases:
        found = _item(case, dates[case.id], on)
        if found is None:
            continue
        kind, phase, due_on = found
        key = f"{kind[0]}{phase[0]}:{case.id}:{due_on.isoformat()}"  # kind, phase, case, date: one item
        wanted += [(user, case, kind, phase, due_on, key) for user in people[case.id]]
    if not wanted:
        return 0
    told = set(db.session.execute(select(Notification.user_id, Notification.dedup_key).where(
        tuple_(Notification.user_id, Notification.dedup_key).in_([(w[0].id, w[5]) for w in wanted]))).all())
    made = 0
    for user, case, kind, phase, due_on, key in wanted:
        if (user.id, key) not in told:
            add([user], kind, case_id=case.id, item=phase, due_on=due_on, dedup_key=key)
            made += 1
    return made


def scan_due(on: date | None = None) -> int:
    """Write the due-soon and overdue notifications of every open phase; the number written."""
    on = on or today()
    made, last_id = 0, 0
    while True:
        cases = list(db.session.scalars(select(Case).where(
            Case.id > last_id, Case.status.in_(tuple(PHASE_OF_STATUS))).order_by(Case.id).limit(BATCH)))
        if not cases:
            return made
        last_id = cases[-1].id
        for attempt in (1, 2):
            try:
                made += _batch(cases, on)
                db.session.commit()
                break
            except IntegrityError:  # another run wrote some at the same time: read again what it wrote
                db.session.rollback()
                if attempt == 2:
                    raise
