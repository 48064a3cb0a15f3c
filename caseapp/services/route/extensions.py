"""Extensions of a phase of the route: one per phase, within the rule in force on the case's intake date.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import Conflict
from caseapp.extensions import db
from caseapp.models.route import (
    PhaseExtension,
)
from caseapp.services.primitives import (
    clean_text,
    commit,
    invalid,
    load_case_for,
    not_future,
    parse_date,
    require_version,
    whole_number,
    yes,
)
from caseapp.services.route import due
from caseapp.services.route.lifecycle import require_open
from caseapp.timeutil import today, utcnow


def extend_phase(actor, code: str, *, version, phase: str, amount, reason: str | None, decided_by: str | None,
                 decided_on=None, reported: bool = False) -> PhaseExtension:
    """Record the one extension a phase allows (days for immediate, months for mediate), within the rule."""
    case = load_case_for(actor, code, "case.update")
    require_version(case, version)
    require_open(case)
    current = {"in_immediate_assistance": "immediate", "in_mediate_assistance": "mediate"}.get(case.status)
    if phase != current:
        raise Conflict(_("Only the phase the case is in can be extended."), rule="phase_not_current")
    rule = due.rule_in_force(case.intake_on)
    if rule is None:
        raise Conflict(_("No due-date rule is in force for this case's intake date; ask an administrator."),
                       rule="no_due_rule")
    errors: dict = {}
    limit = rule.immediate_extension_days if phase == "immediate" else rule.mediate_extension_months
    amount = whole_number(amount, 1, limit)
    if amount is None:
        errors["amount"] = (_("Between 1 and %(n)s days.", n=limit) if phase == "immediate"
                            else _("Between 1 and %(n)s months.", n=limit))
    if not clean_text(reason):
        errors["reason"] = _("Say why the phase is extended.")
    if not clean_text(decided_by, 200):
        errors["decided_by"] = _("Say who decided the extension.")
    decided_on = parse_date(decided_on, "decided_on", errors) or (today() if "decided_on" not in errors else None)
    not_future(decided_on, "decided_on", errors)
    if errors:
        raise invalid(errors)
    existing = db.session.scalar(select(PhaseExtension).where(PhaseExtension.case_id == case.id,
                                                              PhaseExtension.phase == phase))
    if existing is not None or rule.max_extensions < 1:
        raise Conflict(_("This phase has already been extended; the rule allows one extension."),
                       rule="phase_already_extended")
    ext = PhaseExtension(case=case, phase=phase, extra_days=amount if phase == "immediate" else 0,
                         extra_months=amount if phase == "mediate" else 0, decided_on=decided_on,
                         reported_to_secretariat=yes(reported), recorded_by_id=actor.id, recorded_at=utcnow())
    db.session.add(ext)
    ext.decided_by = clean_text(decided_by, 200)
    ext.reason = clean_text(reason)
    audit.record("case.phase.extend", case, actor=actor, detail={"phase": phase, "amount": amount})
    commit(_("This phase has already been extended; the rule allows one extension."))
    return ext
