"""A user's e-mail address for "you have news in Ruta": optional, set by the operator or an admin."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.errors import NotFound
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.services.primitives import commit, invalid

# Deliberately plain: one @, no spaces or angle brackets (nothing a mail header could be split on).
ADDRESS = re.compile(r"[^@\s<>,;\"']{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}")


def set_email(actor, username: str, address: str | None) -> User:
    """Set (or clear, with an empty address) where a user's notifications e-mail goes."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise NotFound()
    address = (address or "").strip() or None
    if address is not None and (len(address) > 254 or not ADDRESS.fullmatch(address)):
        raise invalid({"email": _("Write an e-mail address such as nombre@entidad.gov.co.")})
    user.email = address
    audit.record("admin.user.email", user, actor=actor, detail={"set": address is not None})
    commit()
    return user
