"""The safety flags in force of a case as badges, in a row of a list (cases, referrals, due dates, shelters, my cases).

A function, not a Jinja macro: a list of 50 rows called the macro 50 times, each call a new macro frame."""
from __future__ import annotations

from markupsafe import Markup, escape

from caseapp import labels


def safety_badges(flags) -> Markup:
    """` <span class="badge badge-safety">label</span>` for each flag (loaded with the list: `case.safety_flags`,
    or the flags a list chose, as a referral's `referral_flags`)."""
    return flag_badges(f.kind for f in flags)


def flag_badges(kinds) -> Markup:
    """safety_badges of the flags' kinds (a row of the case list carries its flags as kinds)."""
    return Markup("".join(  # noqa: S704 - every label went through escape()
        f' <span class="badge badge-safety">{escape(labels.label("safety_flag", kind))}</span>' for kind in kinds))
