"""The catalogue of assistance step kinds (admin-editable): which kinds exist, who may record each, their
need-to-know section.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.accounts import CASE_ROLES
from caseapp.models.referrals import SHARED_SECTIONS
from caseapp.models.route import (
    PHASES,
    STEP_SECTIONS,
    AssistanceStep,
    StepKind,
)
from caseapp.services.primitives import (
    clean_text,
    commit,
    invalid,
    require_version,
)

# --- catalogue ---------------------------------------------------------------------------------------------


def step_kinds(active_only: bool = True) -> list[StepKind]:
    query = select(StepKind).order_by(StepKind.phase, StepKind.sort_order, StepKind.id)
    if active_only:
        query = query.where(StepKind.active.is_(True))
    return list(db.session.scalars(query))


def kind_by_code(code: str | None) -> StepKind | None:
    if not code:
        return None
    return db.session.scalar(select(StepKind).where(StepKind.code == str(code).strip()))


def kinds_for(actor, case=None) -> list[StepKind]:
    """The active kinds the actor may record (on `case`, when given): what a step form offers her."""
    kinds = step_kinds()
    if case is not None:
        return [k for k in kinds if authz.can_record_step(actor, case, k)]
    return [k for k in kinds if actor.has_role(*k.recorder_roles)]


def can_read_step_notes(actor, step: AssistanceStep) -> bool:
    return authz.can_read_step_notes(actor, step.case, step.kind)


# --- catalogue administration ------------------------------------------------------------------------------


def save_step_kind(actor, *, code: str, phase: str, section: str, label_es: str, label_en: str,
                   recorded_by=None, referral_sections=None) -> StepKind:
    """An admin adds a kind of step (codes are permanent: steps refer to them)."""

    authz.require(actor, "admin.manage")
    errors: dict = {}
    default_role = "lawyer" if section == "legal" else "social_worker"
    roles = sorted({r for r in (recorded_by or [default_role]) if r})
    if not roles or any(r not in CASE_ROLES for r in roles):
        errors["recorded_by"] = _("Choose who records it from the list.")
    needed = sorted({s for s in (referral_sections or []) if s})
    if any(s not in SHARED_SECTIONS or s == "summary" for s in needed):
        errors["referral_sections"] = _("Choose from the list.")
    code = (code or "").strip().lower()
    if not code or len(code) > 40 or not all(c.isalnum() or c == "_" for c in code):
        errors["code"] = _("Use up to 40 lowercase letters, digits or underscores.")
    elif kind_by_code(code) is not None:
        errors["code"] = _("A kind with this code already exists.")
    if phase not in PHASES:
        errors["phase"] = _("Choose a phase from the list.")
    if section not in STEP_SECTIONS:
        errors["section"] = _("Choose a section from the list.")
    if not clean_text(label_es, 200):
        errors["label_es"] = _("Write the label.")
    if not clean_text(label_en, 200):
        errors["label_en"] = _("Write the label.")
    if errors:
        raise invalid(errors)
    order = db.session.scalar(select(StepKind.sort_order).order_by(StepKind.sort_order.desc()).limit(1)) or 0
    kind = StepKind(code=code, phase=phase, section=section, label_es=clean_text(label_es, 200),
                    label_en=clean_text(label_en, 200), active=True, sort_order=order + 1,
                    recorded_by=",".join(roles), referral_sections=",".join(needed))
    db.session.add(kind)
    db.session.flush()
    audit.record("route.step_kind.create", kind, actor=actor, detail={"code": code})
    commit()
    return kind


def toggle_step_kind(actor, kind_id: int, *, version) -> StepKind:
    """Retire a kind from new steps (or bring it back); recorded steps keep it."""
    authz.require(actor, "admin.manage")
    kind = db.session.get(StepKind, kind_id)
    if kind is None:
        raise NotFound()
    require_version(kind, version)
    kind.active = not kind.active
    audit.record("route.step_kind.toggle", kind, actor=actor, detail={"code": kind.code, "active": kind.active})
    commit()
    return kind
