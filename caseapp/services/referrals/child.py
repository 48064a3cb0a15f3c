"""The mandatory referral of a child victim to the child-protection authority (ICBF, Law 1098 of 2006).

Created by an explicit call in the same transaction that registers the case, or that makes it a child's case
(`ensure_child_referral`); sent by hand from the case page only when it is missing (no child-protection entity
existed then). It shares every section, cannot be withdrawn, no second referral to ICBF can be sent by hand while
it stands, and the case cannot close until it is answered (services.route.lifecycle). It gives ICBF access only
while the case is a child's: when a corrected birth date makes her an adult, it ends (end_child_referral).
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import Conflict
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.referrals import SHARED_SECTIONS, Referral
from caseapp.services import notifications
from caseapp.services.primitives import (
    commit,
    load_case_for,
)
from caseapp.services.referrals.sharing import end_referrals
from caseapp.services.route.lifecycle import child_protection_entity, require_open
from caseapp.timeutil import today, utcnow

CHILD_SECTIONS = SHARED_SECTIONS
REASON = "Remisión obligatoria de niña, niño o adolescente a la autoridad de protección (Ley 1098 de 2006)."


def mandatory_referral(case: Case) -> Referral | None:
    return db.session.scalar(select(Referral).where(Referral.case_id == case.id, Referral.mandatory.is_(True))
                             .order_by(Referral.id).limit(1))


def awaits_child_protection(case: Case) -> bool:
    """A child's case whose mandatory referral ICBF has not yet accepted (the case page shows a banner)."""
    if not (case.is_child or case.child_referral_required):
        return False
    referral = mandatory_referral(case)
    return referral is None or referral.status not in ("accepted", "done")


def _needs_child_referral(case: Case, icbf: Entity | None) -> bool:
    if not (case.is_child or case.child_referral_required) or icbf is None or case.owner_entity_id == icbf.id:
        return False
    return mandatory_referral(case) is None


def ensure_child_referral(actor, case: Case) -> Referral | None:
    """Send the mandatory ICBF referral of a child case if it is missing, in the caller's transaction."""
    icbf = child_protection_entity()
    if not _needs_child_referral(case, icbf):
        return None
    referral = Referral(case=case, from_entity_id=case.owner_entity_id, to_entity_id=icbf.id,
                        service="accompaniment", shared_sections=",".join(CHILD_SECTIONS), status="sent",
                        mandatory=True, sent_by_id=getattr(actor, "id", None), sent_at=utcnow(),
                        due_on=max(case.identified_on, today()) + timedelta(days=1))
    db.session.add(referral)
    referral.reason = REASON
    db.session.flush()
    audit.record("referral.send.mandatory", case, actor=actor, detail={"referral": referral.id, "to": icbf.code})
    notifications.notify("referral.sent", referral, actor=actor)
    return referral


def send_child_referral(actor, code: str) -> Referral:
    """The case page's button, for a child's case whose mandatory referral could not be sent at registration."""
    case = load_case_for(actor, code, "case.refer")
    require_open(case)
    referral = ensure_child_referral(actor, case)
    if referral is None:
        raise Conflict(_("The mandatory referral to the child-protection authority is already sent, or no "
                         "child-protection entity is active."), rule="child_referral_exists")
    commit()
    return referral


def end_child_referral(actor, case: Case) -> list[Referral]:
    """The case is not a child's after all (her birth date was corrected): the mandatory referral no longer gives
    ICBF a basis to see it. Its referrals end, in the caller's transaction, as a withdrawn consent ends them."""
    ended = end_referrals(actor, case, today(), Referral.mandatory.is_(True), detail={"mandatory": True})
    case.child_referral_required = False
    return ended
