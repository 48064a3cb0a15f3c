"""The one way a sent referral's status changes (answered, withdrawn, done, ended): when one leaves "accepted", the
receiving entity's access to the case ends with it, and so do the assignments that rested on it.

Here, in casework, and not in services.referrals: the step that records a referral's service moves it too, and
casework cannot import the referrals package (which imports casework). tests/test_referral_moves.py holds every
service to this function.
"""
from __future__ import annotations

from collections.abc import Iterable

from caseapp.models.referrals import Referral
from caseapp.services.casework import assignments


def move(actor, referrals: Iterable[Referral], to: str, **fields) -> None:
    """Move each of `referrals` to status `to`, setting `fields` on it, in the caller's transaction."""
    left_accepted = {}
    for referral in referrals:
        if referral.status == "accepted" and to != "accepted":
            left_accepted[referral.case_id] = referral.case
        referral.status = to
        for name, value in fields.items():
            setattr(referral, name, value)
    for case in left_accepted.values():
        assignments.end_without_access(actor, case)  # after every move: it reads what access is left
