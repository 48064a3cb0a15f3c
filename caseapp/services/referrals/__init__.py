"""Referrals (remisiones) between entities: the only way another entity sees a case.

States: sent → accepted | rejected (with reason) → done (the service was recorded), withdrawn by the sender, or
ended when the victim withdraws her consent to share with the receiver. What a receiver may see is computed from
the live state in authz: an accepted referral and a basis for sharing still in force (the victim's sharing
consent, or the mandatory ICBF referral, or a coordinator's recorded override).
"""
from caseapp.services.referrals.answers import accept, complete, record_service, reject, withdraw
from caseapp.services.referrals.child import (
    awaits_child_protection,
    ensure_child_referral,
    mandatory_referral,
    send_child_referral,
)
from caseapp.services.referrals.inbox import InboxRow, inbox
from caseapp.services.referrals.lookup import fulfillable_referrals, get_referral, view_referral
from caseapp.services.referrals.sending import open_send_form, record_override, send
from caseapp.services.referrals.sharing import end_access

__all__ = [
    "InboxRow", "accept", "awaits_child_protection", "complete", "end_access", "ensure_child_referral",
    "fulfillable_referrals", "mandatory_referral",
    "get_referral", "inbox", "open_send_form", "record_override", "record_service", "reject", "send",
    "send_child_referral", "view_referral", "withdraw",
]
