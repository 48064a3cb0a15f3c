"""Alerts on unusual access, computed from the access log with SQL (no per-row Python loop over the log).

Eight rules, most with admin-editable thresholds (Setting "alert_thresholds", JSON, versioned):
  many_cases   a user reads at least N distinct cases within M minutes
  off_hours    a user reads case data outside working hours (Colombian time) or on a weekend
  denied       at least N denied requests by one user (or one address) within M minutes
  cross_entity a user reads a case owned by another entity without an accepted referral to her entity
  new_address  a user signs in from an address she never signed in from before (after a first login)
  case_role_grant  someone gave an account a case role (always: every grant opens case data to someone)
  duplicate_probe  a user was told at least N times within 24 hours that another entity may hold a case for the
               person she was registering (shown or withheld over the daily limit): a way to probe who is a victim
  stats_burst  a user makes more than N statistics reads or exports within M minutes: overlapping questions (a
               cut-off date stepped a day at a time) can work out a count the suppression hides
Each alert carries the console filters that show its rows.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import DateTime, Integer, and_, case, cast, exists, extract, func, literal, or_, select
from sqlalchemy.orm import aliased

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.labels import LABELS
from caseapp.models.accounts import Entity, Setting
from caseapp.models.audit import AuditEvent
from caseapp.models.cases import Case
from caseapp.models.referrals import Referral
from caseapp.services.audit.console import AUDIT_VIEW_TYPE, seq_bounds
from caseapp.services.primitives import commit, require_current
from caseapp.timeutil import to_local, utcnow

SETTING_KEY = "alert_thresholds"
# Successful sign-ins, as the accounts area records them.
LOGIN_ACTIONS = ("login.success",)
BOGOTA_UTC_OFFSET_HOURS = 5  # Colombia keeps UTC-5 all year (no daylight saving)
ACCEPTED_REFERRAL = ("accepted", "done")
# Withdrawn by the sender or ended by a withdrawn consent after it was accepted (it has an answer date): the
# reads it allowed while it stood are not unusual.
ONCE_ACCEPTED = ("withdrawn", "ended")

DEFAULTS = {
    "lookback_days": 7,
    "many_cases_count": 20,
    "many_cases_minutes": 60,
    "work_start_hour": 7,
    "work_end_hour": 19,
    "weekend_is_off_hours": 1,
    "denied_count": 5,
    "denied_minutes": 15,
    "duplicate_hits_count": 3,
    "stats_burst_count": 30,
    "stats_burst_minutes": 10,
}
# (min, max) accepted for each threshold.
LIMITS = {
    "lookback_days": (1, 366),
    "many_cases_count": (2, 10000),
    "many_cases_minutes": (1, 7 * 24 * 60),
    "work_start_hour": (0, 23),
    "work_end_hour": (1, 24),
    "weekend_is_off_hours": (0, 1),
    "denied_count": (2, 10000),
    "denied_minutes": (1, 7 * 24 * 60),
    "duplicate_hits_count": (2, 1000),
    "stats_burst_count": (2, 10000),
    "stats_burst_minutes": (1, 7 * 24 * 60),
}
KINDS = LABELS["alert_kind"]  # the titles of the rules, from the one catalogue of labels
CASE_ROLE_GRANT = "admin.case_role.grant"  # written by accounts.administration.note_roles
CROSS_ENTITY_HINT = "case.duplicate_hint.other_entity"  # written by registry.identity.duplicate_hints
PROBE_WINDOW_SECONDS = 24 * 3600
# Written by indicators.reads (every statistics read, refused ones included) and by the file exports.
STATS_ACTIONS = ("stats.read", "stats.export")


@dataclass
class Alert:
    kind: str
    actor: str | None
    entity: str | None
    count: int
    first_at: datetime
    last_at: datetime
    case: str | None = None
    ip: str | None = None
    account: str | None = None  # the account a case role was given to (staff, never a victim)
    filters: dict = field(default_factory=dict)  # console query arguments that show the alert's rows

    @property
    def title(self) -> str:
        return str(KINDS[self.kind])


# --- thresholds ---------------------------------------------------------------------------------------------


def thresholds() -> tuple[dict, int]:
    """The thresholds in force (defaults overlaid with the stored setting) and the setting's version (0: none)."""
    row = db.session.get(Setting, SETTING_KEY)
    values = dict(DEFAULTS)
    if row is None:
        return values, 0
    try:
        stored = json.loads(row.value)
    except ValueError:
        stored = {}
    for key, value in stored.items():
        if key in DEFAULTS and isinstance(value, int):
            values[key] = value
    return values, row.version


def update_thresholds(user, values: dict, version: int) -> dict:
    """Admin: store new thresholds. A stale form (another admin saved first) is refused, nothing overwritten."""
    authz.require(user, "admin.manage")
    errors = {}
    clean = {}
    for key, (low, high) in LIMITS.items():
        value = values.get(key)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int):
            errors[key] = _("Enter a whole number.")
        elif not low <= value <= high:
            errors[key] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        else:
            clean[key] = int(value)
    if not errors and clean["work_start_hour"] >= clean["work_end_hour"]:
        errors["work_end_hour"] = _("Working hours must end after they start.")
    if errors:
        raise Invalid(field_errors=errors)
    row = db.session.get(Setting, SETTING_KEY)
    require_current(row.version if row is not None else 0, version)
    before = thresholds()[0]
    if row is None:
        row = Setting(key=SETTING_KEY, value="{}")
        db.session.add(row)
    row.value = json.dumps(clean, sort_keys=True)
    changed = sorted(k for k in clean if clean[k] != before.get(k))
    db.session.flush()
    audit.record("admin.alert_thresholds", object_type="setting", object_ref=SETTING_KEY,
                 detail={"changed": changed})
    commit()
    return clean


# --- rules --------------------------------------------------------------------------------------------------


def _epoch(column):
    return cast(extract("epoch", column), Integer)


def _range(lo, hi) -> list:
    conds = []
    if lo is not None:
        conds.append(AuditEvent.seq >= lo)
    if hi is not None:
        conds.append(AuditEvent.seq <= hi)
    return conds


def _case_reads(rng):
    """Allowed reads or changes of case data by a signed-in user (auditors' reads of the log are not case data)."""
    return [*rng, AuditEvent.object_type == "case", AuditEvent.outcome == "allowed", AuditEvent.actor.is_not(None),
            AuditEvent.object_ref.is_not(None)]


def _window(at_from: datetime, at_to: datetime) -> dict:
    """Console date-range arguments covering [at_from, at_to] (Colombian local minutes)."""
    start, end = to_local(at_from), to_local(at_to)
    return {"since": start.strftime("%Y-%m-%dT%H:%M"), "until": end.strftime("%Y-%m-%dT%H:%M")}


def _bursts(rows, size: int) -> list[tuple]:
    """Merge consecutive qualifying windows (rows: key, rn, start_at, end_at, extra) into bursts per key."""
    bursts: list[list] = []
    for key, rn, start_at, end_at, extra in rows:
        last = bursts[-1] if bursts else None
        if last and last[0] == key and rn == last[2] + 1:
            last[2], last[4] = rn, end_at
        else:
            bursts.append([key, rn, rn, start_at, end_at, extra])
    return [(key, last_rn - first_rn + size, start_at, end_at, extra)
            for key, first_rn, last_rn, start_at, end_at, extra in bursts]


def many_cases(rng, t) -> list[Alert]:
    n, seconds = t["many_cases_count"], t["many_cases_minutes"] * 60
    first = (
        select(AuditEvent.actor.label("actor"), func.max(AuditEvent.actor_entity).label("entity"),
               AuditEvent.object_ref.label("ref"), func.min(AuditEvent.at).label("first_at"))
        .where(*_case_reads(rng))
        .group_by(AuditEvent.actor, AuditEvent.object_ref)
        .subquery()
    )
    ordered = select(
        first.c.actor, first.c.entity, first.c.first_at,
        func.row_number().over(partition_by=first.c.actor, order_by=first.c.first_at).label("rn"),
        func.lag(first.c.first_at, n - 1, type_=DateTime).over(partition_by=first.c.actor, order_by=first.c.first_at).label("start_at"),
    ).subquery()
    rows = db.session.execute(
        select(ordered.c.actor, ordered.c.rn, ordered.c.start_at, ordered.c.first_at, ordered.c.entity)
        .where(ordered.c.start_at.is_not(None), _epoch(ordered.c.first_at) - _epoch(ordered.c.start_at) <= seconds)
        .order_by(ordered.c.actor, ordered.c.rn)
    ).all()
    return [
        Alert("many_cases", actor, entity, count, start_at, end_at, filters={"user": actor, **_window(start_at, end_at)})
        for actor, count, start_at, end_at, entity in _bursts(rows, n)
    ]


def off_hours(rng, t) -> list[Alert]:
    utc_hour = cast(extract("hour", AuditEvent.at), Integer)
    utc_dow = cast(extract("dow", AuditEvent.at), Integer)  # 0 = Sunday on both dialects
    offset = BOGOTA_UTC_OFFSET_HOURS
    local_hour = (utc_hour + (24 - offset)) % 24
    local_dow = case((utc_hour < offset, (utc_dow + 6) % 7), else_=utc_dow)
    outside = or_(local_hour < t["work_start_hour"], local_hour >= t["work_end_hour"])
    if t["weekend_is_off_hours"]:
        outside = or_(outside, local_dow.in_((0, 6)))
    rows = db.session.execute(
        select(AuditEvent.actor, func.max(AuditEvent.actor_entity), func.count(), func.min(AuditEvent.at),
               func.max(AuditEvent.at))
        .where(*_case_reads(rng), outside)
        .group_by(AuditEvent.actor)
        .order_by(AuditEvent.actor)
    ).all()
    return [Alert("off_hours", actor, entity, count, first_at, last_at,
                  filters={"user": actor, **_window(first_at, last_at)})
            for actor, entity, count, first_at, last_at in rows]


def denied(rng, t) -> list[Alert]:
    n, seconds = t["denied_count"], t["denied_minutes"] * 60
    key = func.coalesce(AuditEvent.actor, literal("ip:") + func.coalesce(AuditEvent.ip, literal("?")))
    base = select(
        key.label("who"), AuditEvent.actor_entity.label("entity"), AuditEvent.at.label("at"),
        func.row_number().over(partition_by=key, order_by=AuditEvent.seq).label("rn"),
        func.lag(AuditEvent.at, n - 1, type_=DateTime).over(partition_by=key, order_by=AuditEvent.seq).label("start_at"),
    ).where(*rng, AuditEvent.outcome == "denied").subquery()
    rows = db.session.execute(
        select(base.c.who, base.c.rn, base.c.start_at, base.c.at, base.c.entity)
        .where(base.c.start_at.is_not(None), _epoch(base.c.at) - _epoch(base.c.start_at) <= seconds)
        .order_by(base.c.who, base.c.rn)
    ).all()
    alerts = []
    for who, count, start_at, end_at, entity in _bursts(rows, n):
        by_ip = who.startswith("ip:")
        filters = {"outcome": "denied", **_window(start_at, end_at)}
        if not by_ip:
            filters["user"] = who
        alerts.append(Alert("denied", None if by_ip else who, entity, count, start_at, end_at,
                            ip=who[3:] if by_ip else None, filters=filters))
    return alerts


def cross_entity(rng, t) -> list[Alert]:
    owner = aliased(Entity)
    reader = aliased(Entity)
    referred = exists().where(
        Referral.case_id == Case.id, Referral.to_entity_id == reader.id,
        or_(Referral.status.in_(ACCEPTED_REFERRAL),
            and_(Referral.status.in_(ONCE_ACCEPTED), Referral.responded_on.is_not(None))),
    )
    rows = db.session.execute(
        select(AuditEvent.actor, AuditEvent.actor_entity, AuditEvent.object_ref, func.count(),
               func.min(AuditEvent.at), func.max(AuditEvent.at))
        .join(Case, Case.code == AuditEvent.object_ref)
        .join(owner, owner.id == Case.owner_entity_id)
        .outerjoin(reader, reader.code == AuditEvent.actor_entity)
        .where(*_case_reads(rng), AuditEvent.actor_entity.is_not(None), AuditEvent.actor_entity != owner.code,
               ~referred)
        .group_by(AuditEvent.actor, AuditEvent.actor_entity, AuditEvent.object_ref)
        .order_by(AuditEvent.actor, AuditEvent.object_ref)
    ).all()
    return [Alert("cross_entity", actor, entity, count, first_at, last_at, case=ref,
                  filters={"user": actor, "case": ref})
            for actor, entity, ref, count, first_at, last_at in rows]


def new_address(rng, t) -> list[Alert]:
    earlier = aliased(AuditEvent)
    login = and_(earlier.action == AuditEvent.action, earlier.actor == AuditEvent.actor,
                 earlier.outcome == "allowed", earlier.seq < AuditEvent.seq)
    rows = db.session.execute(
        select(AuditEvent.actor, AuditEvent.actor_entity, AuditEvent.ip, AuditEvent.at, AuditEvent.action)
        .where(*rng, AuditEvent.action.in_(LOGIN_ACTIONS), AuditEvent.outcome == "allowed",
               AuditEvent.actor.is_not(None), AuditEvent.ip.is_not(None),
               exists().where(login),  # she had signed in before...
               ~exists().where(login, earlier.ip == AuditEvent.ip))  # ...but never from this address
        .order_by(AuditEvent.seq)
    ).all()
    return [Alert("new_address", actor, entity, 1, at, at, ip=ip,
                  filters={"user": actor, "action": action, **_window(at, at)})
            for actor, entity, ip, at, action in rows]


def case_role_grant(rng, t) -> list[Alert]:
    rows = db.session.execute(
        select(AuditEvent.actor, AuditEvent.actor_entity, AuditEvent.object_ref, AuditEvent.at)
        .where(*rng, AuditEvent.action == CASE_ROLE_GRANT)
        .order_by(AuditEvent.seq)
    ).all()
    return [Alert("case_role_grant", actor, entity, 1, at, at, account=account,
                  filters={"action": CASE_ROLE_GRANT, **_window(at, at)})
            for actor, entity, account, at in rows]


def duplicate_probe(rng, t) -> list[Alert]:
    n = t["duplicate_hits_count"]
    base = select(
        AuditEvent.actor.label("who"), AuditEvent.actor_entity.label("entity"), AuditEvent.at.label("at"),
        func.row_number().over(partition_by=AuditEvent.actor, order_by=AuditEvent.seq).label("rn"),
        func.lag(AuditEvent.at, n - 1, type_=DateTime).over(partition_by=AuditEvent.actor,
                                                            order_by=AuditEvent.seq).label("start_at"),
    ).where(*rng, AuditEvent.action == CROSS_ENTITY_HINT, AuditEvent.actor.is_not(None)).subquery()
    rows = db.session.execute(
        select(base.c.who, base.c.rn, base.c.start_at, base.c.at, base.c.entity)
        .where(base.c.start_at.is_not(None), _epoch(base.c.at) - _epoch(base.c.start_at) <= PROBE_WINDOW_SECONDS)
        .order_by(base.c.who, base.c.rn)
    ).all()
    return [Alert("duplicate_probe", who, entity, count, start_at, end_at,
                  filters={"user": who, "action": CROSS_ENTITY_HINT, **_window(start_at, end_at)})
            for who, count, start_at, end_at, entity in _bursts(rows, n)]


def stats_burst(rng, t) -> list[Alert]:
    # "More than N": the window holds N + 1 rows.
    n, seconds = t["stats_burst_count"] + 1, t["stats_burst_minutes"] * 60
    base = select(
        AuditEvent.actor.label("who"), AuditEvent.actor_entity.label("entity"), AuditEvent.at.label("at"),
        func.row_number().over(partition_by=AuditEvent.actor, order_by=AuditEvent.seq).label("rn"),
        func.lag(AuditEvent.at, n - 1, type_=DateTime).over(partition_by=AuditEvent.actor,
                                                            order_by=AuditEvent.seq).label("start_at"),
    ).where(*rng, AuditEvent.action.in_(STATS_ACTIONS), AuditEvent.actor.is_not(None)).subquery()
    rows = db.session.execute(
        select(base.c.who, base.c.rn, base.c.start_at, base.c.at, base.c.entity)
        .where(base.c.start_at.is_not(None), _epoch(base.c.at) - _epoch(base.c.start_at) <= seconds)
        .order_by(base.c.who, base.c.rn)
    ).all()
    return [Alert("stats_burst", who, entity, count, start_at, end_at,
                  filters={"user": who, **_window(start_at, end_at)})
            for who, count, start_at, end_at, entity in _bursts(rows, n)]


RULES = (many_cases, off_hours, denied, cross_entity, new_address, case_role_grant, duplicate_probe, stats_burst)


def compute(since: datetime, until: datetime, values: dict | None = None) -> list[Alert]:
    """Every alert for log rows with since <= at < until (naive UTC). No permission check: see `alerts_for`."""
    t = values or thresholds()[0]
    audit.seal_all()  # queued rows count too
    lo, hi, empty = seq_bounds(since, until)
    if empty:
        return []
    rng = _range(lo, hi)
    found: list[Alert] = []
    for rule in RULES:
        found.extend(rule(rng, t))
    found.sort(key=lambda a: a.last_at, reverse=True)
    return found


def alerts_for(user, since: datetime | None = None, until: datetime | None = None) -> tuple[list[Alert], dict]:
    """Alerts for an auditor over a period (default: the configured look-back up to now); the view is logged."""
    authz.require(user, "audit.read")
    values = thresholds()[0]
    until = until or utcnow() + timedelta(seconds=1)
    since = since or until - timedelta(days=values["lookback_days"])
    found = compute(since, until, values)
    audit.record("audit.alerts", object_type=AUDIT_VIEW_TYPE, detail={"alerts": len(found)})
    db.session.commit()
    return found, values


__all__ = ["AUDIT_VIEW_TYPE", "Alert", "DEFAULTS", "KINDS", "alerts_for", "compute", "thresholds",
           "update_thresholds"]
