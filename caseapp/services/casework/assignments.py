"""Who works a case: assigning, unassigning and reassigning its professionals (one case, or all of a user's open
cases at once). The one owner of these rules: the web, the API and registration all call it.

- An assignee is an active user holding the role she is assigned in, from the owning entity or from an entity
  with an accepted referral (sharing in force) for a service that role records.
- An open case keeps at least one social worker: removing the last one needs another named in her place.
- Ending an assignment closes its row (ended_at, ended_by); no row is deleted, so the history stays.
- Every change writes its access-log entry in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import column_property, joinedload, lazyload

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.models.assignments import ASSIGNMENT_ROLES, CaseAssignment
from caseapp.models.cases import Case, JsonRows
from caseapp.models.referrals import Referral
from caseapp.models.route import StepKind
from caseapp.services.primitives import commit, commit_read, insert_unique, keeping_loaded, load_case_for
from caseapp.timeutil import utcnow

MAX_USERNAME = 64


def _role(role) -> str:
    if role not in ASSIGNMENT_ROLES:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"role": _("Choose from the list.")}, rule="assignment_role")
    return role


def _user_named(username) -> User | None:
    """The user with that username, or None: the caller answers for a name nobody has as it answers for a user it
    may not name (check_assignee), so that no form tells who exists."""
    if isinstance(username, str) and username.strip() and len(username) <= MAX_USERNAME:
        return db.session.scalar(select(User).where(User.username == username.strip()))
    return None


def _typed(username) -> str:
    return username.strip()[:MAX_USERNAME] if isinstance(username, str) else ""


def open_assignments(case: Case) -> list[CaseAssignment]:
    """The case's open assignments, social workers first (each with its user and her entity: one statement; her
    roles only if a caller asks, which none of the lists does)."""
    return list(db.session.scalars(_OPEN_ASSIGNMENTS, {"case_id": case.id}))


# A case's open assignments, social workers first: one filter and one order for the objects and the columns below.
_OPEN_OF_CASE = (CaseAssignment.case_id == bindparam("case_id"), CaseAssignment.ended_at.is_(None))
_SOCIAL_WORKERS_FIRST = (CaseAssignment.role.desc(), CaseAssignment.id)
_OPEN_ASSIGNMENTS = (select(CaseAssignment).options(joinedload(CaseAssignment.user).options(lazyload(User.role_rows)))
                     .where(*_OPEN_OF_CASE).order_by(*_SOCIAL_WORKERS_FIRST))


@dataclass(frozen=True)
class Professional:
    name: str
    role: str
    active: bool  # she may still sign in (User.is_active: her account and her entity active)
    user_id: int
    staffs: bool  # she keeps the case staffed (authz.owner_staff): who may assign it is decided from these


def professionals(case: Case) -> list[Professional]:
    """The case's open assignments as the case page lists them, social workers first: who, in which role, and
    whether she is still active, as a column of the case (Case.professionals_shown below: the case page's own
    statement brings it; otherwise it is a statement of its own). Building each assignment, its user and
    her entity as objects took most of the panel's time. Each row also says who she is and whether she keeps the
    case staffed, by authz.owner_staff, so that the panel's "may she assign?" needs no statement of its own
    (authz.can_assign with these)."""
    shown = case.professionals_shown
    case.__dict__.pop("professionals_shown", None)  # read once: a later call reads the assignments as they are then
    rows = sorted(JsonRows.parse(shown), key=_social_workers_first)
    return [Professional(name or username, role, bool(active and entity_active), user_id, bool(staffs))
            for _id, name, username, role, active, entity_active, user_id, staffs in rows]


def _social_workers_first(row) -> tuple:
    assignment_id, _name, _username, role, *_rest = row
    return role != "social_worker", assignment_id  # _SOCIAL_WORKERS_FIRST's order (a JSON aggregate keeps none)


def panel(actor, case: Case) -> dict:
    """The case page's professionals panel: the rows, and whether `actor` may change them (authz.can_assign, decided
    from the rows' own staffing column: one statement for both)."""
    rows = professionals(case)
    return {"rows": rows, "may_assign": authz.can_assign(actor, case, staff=[p.user_id for p in rows if p.staffs])}


# The case's open assignments as [[assignment id, display name, username, role, active, her entity active, user id,
# staffs], ...]: a column of the case, read where a page asks for it (SHOWN_WITH_CASE); on their own they were a
# statement of the case page (a round trip on PostgreSQL). Defined here, beside the rule it reads (owner_staff).
Case.professionals_shown = column_property(
    select(JsonRows(CaseAssignment.id, User.display_name, User.username, CaseAssignment.role, User.active,
                    Entity.active, User.id, authz.owner_staff()))
    .select_from(CaseAssignment).join(User, CaseAssignment.user_id == User.id).join(Entity, User.entity_id == Entity.id)
    .where(CaseAssignment.case_id == Case.id, CaseAssignment.ended_at.is_(None))
    .correlate_except(CaseAssignment, User, Entity)
    .scalar_subquery(),
    deferred=True,
)
SHOWN_WITH_CASE = "professionals_shown"  # undeferred by the case page's read (registry.reading.CASE_PAGE)


def viewed(actor, case: Case) -> None:
    """Log that the case's professionals and their history were read (the page's GET)."""
    audit.record("case.assignments.view", case, actor=actor)
    commit_read()


def history(case: Case) -> list[CaseAssignment]:
    """Every assignment the case has had, newest first (ended ones included)."""
    return list(db.session.scalars(select(CaseAssignment).options(
        joinedload(CaseAssignment.assigned_by), joinedload(CaseAssignment.ended_by))
        .where(CaseAssignment.case_id == case.id).order_by(CaseAssignment.id.desc())))


def _entities_for(case: Case, role: str) -> set[int]:
    """The entities whose professionals may be assigned in `role`: the owner, and each entity with an accepted
    referral whose service that role records."""
    ids = {case.owner_entity_id}
    referrals = list(db.session.scalars(select(Referral).where(authz.live_referral(Referral.case_id == case.id))))
    if referrals:
        kinds = {k.code: k for k in db.session.scalars(select(StepKind).where(
            StepKind.code.in_({r.service for r in referrals})))}
        ids |= {r.to_entity_id for r in referrals if r.service in kinds and role in kinds[r.service].recorder_roles}
    return ids


def check_assignee(case: Case, user: User | None, role: str, *, named: str = "") -> None:
    """Raise Invalid unless `user` may be assigned to `case` in `role` (the rule of who may work a case).

    A name nobody has (`user` None; `named` is what was typed) and a user of an entity that does not work the case
    get one answer, so that a professional cannot learn who exists, in which role or whether active, across
    entities; the finer reasons (inactive, wrong role) are given only for users of the entities that work it."""
    if user is None or user.entity_id not in _entities_for(case, role):
        raise Invalid(_("%(user)s belongs to an entity that does not work this case: only the owning entity or "
                        "one that accepted a referral for this service.",
                        user=user.username if user is not None else named),
                      field_errors={"username": _("Belongs to an entity that does not work this case.")},
                      rule="assignee_entity")
    if not user.is_active:
        raise Invalid(_("%(user)s is not an active user: choose someone else.", user=user.username),
                      field_errors={"username": _("Not an active user.")}, rule="assignee_inactive")
    if not user.has_role(role):
        raise Invalid(_("%(user)s does not hold the role of this assignment.", user=user.username),
                      field_errors={"username": _("Does not hold the role of this assignment.")},
                      rule="assignee_role")


def candidates(case: Case) -> dict[str, list[User]]:
    """Who may be assigned in each role (for the pick lists): active users of the eligible entities."""
    out = {}
    for role in ASSIGNMENT_ROLES:
        entities = _entities_for(case, role)
        users = db.session.scalars(select(User).join(Entity, Entity.id == User.entity_id).where(
            User.entity_id.in_(entities), User.active.is_(True), Entity.active.is_(True)).order_by(User.username))
        out[role] = [u for u in users if u.has_role(role)]
    return out


def _open_row(case: Case, user: User, role: str) -> CaseAssignment | None:
    return db.session.scalar(select(CaseAssignment).where(
        CaseAssignment.case_id == case.id, CaseAssignment.user_id == user.id, CaseAssignment.role == role,
        CaseAssignment.ended_at.is_(None)))


def _add(actor, case: Case, user: User | None, role: str, *, action: str = "case.assign",
         named: str = "") -> CaseAssignment:
    check_assignee(case, user, role, named=named)
    if _open_row(case, user, role) is not None:
        raise _already_assigned(user)
    row = CaseAssignment(case=case, user_id=user.id, role=role, assigned_at=utcnow(),
                         assigned_by_id=actor.id if actor is not None else None)
    row.user = user
    # Two assigns at once both pass the check above: the database's unique index on open rows refuses the second,
    # with the same answer, on every path that assigns (assign, reassign, the bulk move).
    insert_unique(row, _already_assigned(user))
    audit.record(action, case, actor=actor, detail={"user": user.username, "role": role})
    return row


def _already_assigned(user: User) -> Conflict:
    return Conflict(_("%(user)s is already assigned to this case in that role.", user=user.username),
                    rule="already_assigned")


def _end(actor, case: Case, row: CaseAssignment, *, action: str = "case.unassign", reason: str | None = None) -> None:
    row.ended_at = utcnow()
    row.ended_by_id = actor.id if actor is not None else None
    audit.record(action, case, actor=actor, detail={"user": row.user.username, "role": row.role,
                                                    **({"reason": reason} if reason else {})})


def end_without_access(actor, case: Case) -> list[CaseAssignment]:
    """Close the open assignments of the professionals whose entity no longer works the case, in the caller's
    transaction: check_assignee's rule applied again when what it reads changed - a referral withdrawn, fulfilled or
    ended, the consent it rested on withdrawn. Every path that takes a referral out of "accepted" calls it
    (referrals.answers, referrals.sharing, casework.steps.settle_referral), so that no agenda, caseload or history
    keeps someone assigned to a case she can no longer open. The owning entity's professionals are never closed
    here, and neither is a last social worker: an owner's case keeps hers."""
    rows = [r for r in open_assignments(case) if r.user.entity_id != case.owner_entity_id]
    if not rows:
        return []
    db.session.flush()  # the referral's new status, which _entities_for reads
    working = {role: _entities_for(case, role) for role in {r.role for r in rows}}
    ended = [r for r in rows if r.user.entity_id not in working[r.role]]
    for row in ended:
        _end(actor, case, row, reason="access_ended")
    return ended


def _keeps_a_social_worker(case: Case, leaving: CaseAssignment) -> None:
    if leaving.role != "social_worker" or case.status == "closed":
        return
    others = [a for a in open_assignments(case) if a.role == "social_worker" and a.id != leaving.id]
    if not others:
        raise Conflict(_("An open case keeps at least one social worker: name another one in her place before "
                         "removing her."), rule="last_social_worker")


def assign(actor, code, username, role) -> CaseAssignment:
    """Assign the user named `username` to the case in `role`."""
    case = load_case_for(actor, code, "case.assign")
    role = _role(role)
    row = _add(actor, case, _user_named(username), role, named=_typed(username))
    with keeping_loaded():
        commit()
    return row


def unassign(actor, code, username, role, *, replacement=None, row_id=None) -> CaseAssignment:
    """End the user's assignment to the case in `role`; `replacement` (a username) takes her place in the same
    transaction — needed when she is the last social worker of an open case. `row_id`, the assignment the user saw
    (the web form's row): when she was unassigned and assigned again since, that newer one is not ended from a
    stale page."""
    case = load_case_for(actor, code, "case.assign")
    role = _role(role)
    user = _user_named(username)
    row = _open_row(case, user, role) if user is not None else None
    if row is not None and row_id is not None and str(row.id) != str(row_id):
        row = None  # the assignment she saw has ended: someone changed it already
    if row is None:  # a name nobody has gets the same answer
        raise Conflict(_("%(user)s is not assigned to this case in that role (someone may have changed it "
                         "already).", user=_typed(username)), rule="not_assigned")
    if replacement not in (None, ""):
        _add(actor, case, _user_named(replacement), role, action="case.reassign", named=_typed(replacement))
        db.session.flush()
    _keeps_a_social_worker(case, row)
    _end(actor, case, row, action="case.reassign" if replacement else "case.unassign")
    with keeping_loaded():
        commit()
    return row


def assign_at_registration(actor, case: Case, lawyer: User | None) -> list[CaseAssignment]:
    """The registering social worker, and the lawyer named on the form, if any: the assignments for the caller to
    write with the case (registration writes its rows itself), logged in one access-log entry that names both.
    Both were checked already (registration requires a social worker; lawyer_for_registration): a new case has no
    referral and no assignment yet, so the general checks would only cost statements."""
    now = utcnow()
    people = [(actor, "social_worker")] + ([(lawyer, "lawyer")] if lawyer is not None else [])
    audit.record("case.assign", case, actor=actor,
                 detail={"users": [u.username for u, _r in people], "roles": [r for _u, r in people]})
    return [CaseAssignment(case=case, user_id=user.id, role=role, assigned_at=now, assigned_by_id=actor.id)
            for user, role in people]


def lawyer_for_registration(actor, username) -> User | None:
    """The lawyer named on a registration form, checked before anything is written (None when none is named).
    The case does not exist yet: she must be an active lawyer of the registering entity."""
    if username in (None, ""):
        return None
    user = _user_named(username)
    if user is None or not user.is_active or not user.has_role("lawyer") or user.entity_id != actor.entity_id:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"lawyer": _("Choose an active lawyer of your entity.")},
                      rule="assignee_entity")
    return user


def entity_lawyers(actor) -> list[User]:
    """The active lawyers of the actor's entity (the registration form's pick list)."""
    users = db.session.scalars(select(User).where(User.entity_id == actor.entity_id, User.active.is_(True))
                               .order_by(User.username))
    return [u for u in users if u.has_role("lawyer")]


# --- moving a user's cases at once ------------------------------------------------------------------------


@dataclass
class Caseload:
    user: User
    open_cases: int


def caseloads(actor) -> list[Caseload]:
    """The professionals of the admin's entity with how many open cases each holds (no case is named)."""
    authz.require(actor, "case.reassign_bulk")
    counts = dict(db.session.execute(select(CaseAssignment.user_id, func.count(func.distinct(Case.id)))
                                     .join(Case, Case.id == CaseAssignment.case_id)
                                     .where(CaseAssignment.ended_at.is_(None), Case.status != "closed",
                                            Case.owner_entity_id == actor.entity_id)
                                     .group_by(CaseAssignment.user_id)).all())
    users = db.session.scalars(select(User).where(or_(
        User.entity_id == actor.entity_id, User.id.in_(counts))).order_by(User.username))
    loads = [Caseload(u, counts.get(u.id, 0)) for u in users if u.has_role(*ASSIGNMENT_ROLES) or u.id in counts]
    audit.record("case.caseloads.view", actor=actor, object_type="entity", object_ref=actor.entity.code,
                 detail={"professionals": len(loads)})
    commit_read()
    return loads


def reassign_all(actor, from_username, to_username, role) -> int:
    """Move every open case of the admin's entity where `from_username` is assigned in `role` to `to_username`:
    one transaction, one access-log entry per case. Returns how many cases moved."""
    authz.require(actor, "case.reassign_bulk")
    role = _role(role)
    source, target = _user_named(from_username), _user_named(to_username)
    if source is not None and source is target:
        raise Invalid(_("Choose two different people."), field_errors={"to_username": _("Choose two different "
                                                                                        "people.")},
                      rule="same_user")
    rows = [] if source is None else list(db.session.scalars(
        select(CaseAssignment).options(joinedload(CaseAssignment.case)).join(Case, Case.id == CaseAssignment.case_id)
        .where(and_(CaseAssignment.user_id == source.id, CaseAssignment.role == role,
                    CaseAssignment.ended_at.is_(None), Case.status != "closed",
                    Case.owner_entity_id == actor.entity_id))))
    if not rows:
        raise Conflict(_("%(user)s has no open case of your entity in that role.", user=_typed(from_username)),
                       rule="not_assigned")
    for row in rows:
        if target is None or _open_row(row.case, target, role) is None:
            _add(actor, row.case, target, role, action="case.reassign", named=_typed(to_username))
        _end(actor, row.case, row, action="case.reassign")
    commit()
    return len(rows)
