"""Safety flags: set and cleared with a reason by the owning entity's professionals, each change in the access log,
the history kept (a cleared flag stays, with who cleared it and why).

Which flags are in force is shown to every reader of the case, a receiving entity included whatever sections its
referral shares: a flag travels with any referral. Their reasons (encrypted under the victim's key) stay with the
owner's professionals. Lists load the flags of their rows with `flags_with_cases()` (one statement a page).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from caseapp import audit, authz
from caseapp.errors import Conflict, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import CASE_ROLES, User, UserRole
from caseapp.models.cases import Case
from caseapp.models.safety import SAFETY_FLAG_KINDS, SafetyFlag
from caseapp.services.primitives import (
    clean_text,
    commit,
    commit_read,
    invalid,
    load_case_for,
    require_identity_kept,
    require_version,
    whole_number,
)
from caseapp.timeutil import utcnow

MAX_REASON = 2000
NAMED = "contact_only_through"  # the kind that names the one professional who may contact her


def flags_with_cases():
    """Loader option for a query of cases (or `Referral.case` chains): their flags in force, one statement."""
    return selectinload(Case.safety_flags)


def flags_by_code(actor, codes) -> dict[str, list[SafetyFlag]]:
    """The flags in force of the cases named by `codes`, by case code, among the cases the actor may see: one
    statement, for a list built from case codes rather than cases (the agenda)."""
    codes = set(codes)
    if not codes:
        return {}
    # the visibility rule evaluated on the named cases only (over every case the actor may see it cost 90 ms at
    # an entity of 20,000 cases: the agenda page's slowest statement)
    visible = authz.visible_cases(actor).with_only_columns(Case.id).where(Case.code.in_(codes))
    found: dict[str, list[SafetyFlag]] = {}
    for code, flag in db.session.execute(
            select(Case.code, SafetyFlag).join(Case, Case.id == SafetyFlag.case_id)
            .where(Case.code.in_(codes), Case.id.in_(visible), SafetyFlag.cleared_at.is_(None))
            .order_by(SafetyFlag.id)):
        found.setdefault(code, []).append(flag)
    return found


def _nameable(case: Case) -> tuple:
    """SQL: the users a flag "contact only through" may name on `case`, active professionals of the entity that
    owns it. The one rule for the form's choices and for the name a request sends."""
    return (User.entity_id == case.owner_entity_id, User.active.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(CASE_ROLES))))


def professionals_for(case: Case) -> list:
    """Whom a flag "contact only through" may name, as (username, display_name) rows for the form's choices: an
    entity can have hundreds of professionals, and loading each as a user with her roles cost half the page."""
    return db.session.execute(select(User.username, User.display_name).where(*_nameable(case))
                              .order_by(User.display_name, User.username)).all()


def _professional(case: Case, username, errors: dict) -> User | None:
    if not isinstance(username, str) or not username.strip():
        errors["professional"] = _("Choose the professional through whom she may be contacted.")
        return None
    wanted = username.strip().lower()
    user = db.session.scalar(select(User).where(*_nameable(case), func.lower(User.username) == wanted))
    if user is None:
        errors["professional"] = _("Choose a professional of the entity that owns the case.")
    return user


def set_flag(actor, code: str, *, kind, reason, professional=None) -> SafetyFlag:
    """Set a flag on the case (`professional`: the username named by a flag "contact only through")."""
    case = load_case_for(actor, code, "case.safety.set")
    require_identity_kept(case)  # the reason is encrypted under her key
    errors: dict = {}
    if kind not in SAFETY_FLAG_KINDS:
        errors["kind"] = _("Choose from the list.")
    reason = clean_text(reason, MAX_REASON)
    if not reason:
        errors["reason"] = _("Say why the flag is set.")
    named = _professional(case, professional, errors) if kind == NAMED else None
    if kind != NAMED and professional not in (None, ""):
        errors["professional"] = _("A professional is named only on the flag “contact only through”.")
    if errors:
        raise invalid(errors)
    if any(f.kind == kind for f in case.safety_flags):
        raise Conflict(_("This flag is already set on the case: clear it first to change it."),
                       rule="flag_already_set")
    flag = SafetyFlag(case=case, kind=kind, in_force_key=f"{case.id}:{kind}", professional=named,
                      set_by_id=actor.id, set_at=utcnow())
    db.session.add(flag)
    flag.reason = reason
    db.session.flush()
    audit.record("case.safety.set", case, actor=actor, detail={"kind": kind, "flag": flag.id})
    # Two people setting the same flag at once: the second meets the unique in-force key.
    commit(_("This flag is already set on the case: clear it first to change it."))
    return flag


def clear_flag(actor, code: str, flag_id, *, reason, version) -> SafetyFlag:
    """Clear a flag in force, saying why; the row stays as history."""
    case = load_case_for(actor, code, "case.safety.set")
    number = whole_number(flag_id, 1)
    flag = db.session.get(SafetyFlag, number) if number is not None else None
    if flag is None or flag.case_id != case.id:
        raise NotFound()
    if flag.cleared_at is not None:
        raise Conflict(_("This flag was already cleared."), rule="flag_already_cleared")
    require_version(flag, version)
    require_identity_kept(case)
    reason = clean_text(reason, MAX_REASON)
    if not reason:
        raise invalid({"reason": _("Say why the flag is cleared.")})
    flag.cleared_at, flag.cleared_by_id, flag.in_force_key = utcnow(), actor.id, None
    flag.clear_reason = reason
    audit.record("case.safety.clear", case, actor=actor, detail={"kind": flag.kind, "flag": flag.id})
    commit()
    return flag


def flag_history(actor, code: str) -> tuple[Case, list[SafetyFlag]]:
    """Every flag the case ever had, newest first, with reasons: for the owner's professionals (logged)."""
    case = load_case_for(actor, code, "case.safety.reasons")
    rows = list(db.session.scalars(select(SafetyFlag).where(SafetyFlag.case_id == case.id)
                                   .order_by(SafetyFlag.id.desc())))
    audit.record("case.safety.view", case, actor=actor)
    commit_read()
    return case, rows
