"""Versioned catalogues: the purposes of exploitation in force on a date, extended or retired by an admin."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, or_, select

from caseapp import audit, authz
from caseapp.errors import Conflict, Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.timeutil import today

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def purposes_in_force(on: date | None = None) -> list[ExploitationPurpose]:
    """The purposes of exploitation whose wording is in force on `on` (default: today), in display order."""
    return list(db.session.scalars(_IN_FORCE, {"on": on or today()}))


_IN_FORCE = (select(ExploitationPurpose)  # built once: every registration and case form asks
             .where(ExploitationPurpose.valid_from <= bindparam("on"))
             .where(or_(ExploitationPurpose.valid_to.is_(None), ExploitationPurpose.valid_to >= bindparam("on")))
             .order_by(ExploitationPurpose.sort_order, ExploitationPurpose.code))


_NAMED_IN_FORCE = _IN_FORCE.where(ExploitationPurpose.code.in_(bindparam("codes", expanding=True)))


def purposes_by_code(codes, on: date) -> tuple[list[ExploitationPurpose], list[str]]:
    """The purposes in force on `on` for `codes`, and the codes that are unknown or not in force then. Only those
    named are read (a registration names one or two of the catalogue's dozen: each read is an object built)."""
    named = sorted({code for code in codes if isinstance(code, str)})
    in_force = {p.code: p for p in db.session.scalars(_NAMED_IN_FORCE, {"on": on, "codes": named})} if named else {}
    found, unknown = [], []
    for code in codes:
        (found if code in in_force else unknown).append(in_force.get(code, code))
    return found, unknown


def purpose_label(purpose: ExploitationPurpose, locale: str | None = None) -> str:
    return purpose.label_en if (locale or "es").startswith("en") else purpose.label_es


def add_purpose(actor, *, code: str, label_es: str, label_en: str, valid_from: date, legal_source: str) -> ExploitationPurpose:
    """Add a purpose (or a new wording of one) in force from `valid_from`; closes the previous wording."""
    authz.require(actor, "admin.manage")
    errors = {}
    if not isinstance(code, str) or not _CODE.match(code):
        errors["code"] = _("Use lower-case letters, digits and underscores (2 to 40).")
    for name, value, limit in (("label_es", label_es, 200), ("label_en", label_en, 200), ("legal_source", legal_source, 200)):
        if not isinstance(value, str) or not value.strip():
            errors[name] = _("This field is required.")
        elif len(value) > limit:
            errors[name] = _("At most %(n)s characters.", n=limit)
    if not isinstance(valid_from, date):
        errors["valid_from"] = _("Enter a valid date (YYYY-MM-DD).")
    if errors:
        raise Invalid(_("Some fields are not valid; nothing was saved."), field_errors=errors)
    current = db.session.scalar(
        select(ExploitationPurpose).where(ExploitationPurpose.code == code, ExploitationPurpose.valid_to.is_(None))
    )
    if current is not None:
        if current.valid_from >= valid_from:
            raise Conflict(_("A wording of this purpose already starts on or after that date."))
        current.valid_to = date.fromordinal(valid_from.toordinal() - 1)
    order = db.session.scalar(select(db.func.max(ExploitationPurpose.sort_order))) or 0
    row = ExploitationPurpose(
        code=code, label_es=label_es.strip(), label_en=label_en.strip(), valid_from=valid_from,
        legal_source=legal_source.strip(), sort_order=current.sort_order if current else order + 1,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("catalogue.purpose.add", row, actor=actor, detail={"code": code})
    db.session.commit()
    return row


def retire_purpose(actor, code: str, valid_to: date) -> ExploitationPurpose:
    """End the wording of a purpose in force: it stays on the cases that used it, but new cases cannot."""
    authz.require(actor, "admin.manage")
    current = db.session.scalar(
        select(ExploitationPurpose).where(ExploitationPurpose.code == code, ExploitationPurpose.valid_to.is_(None))
    )
    if current is None:
        raise NotFound()
    if not isinstance(valid_to, date) or valid_to < current.valid_from:
        raise Invalid(_("Some fields are not valid; nothing was saved."),
                      field_errors={"valid_to": _("The end date cannot be before the start date.")})
    current.valid_to = valid_to
    audit.record("catalogue.purpose.retire", current, actor=actor, detail={"code": code})
    db.session.commit()
    return current
