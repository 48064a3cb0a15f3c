"""E-mail that says only "Tiene una novedad en Ruta" and links to the notifications page.

A row of the outbox is written with the notification, in the same transaction; `deliver()` (the cron command
`flask notifications mail`) sends after the commit, off every request's path. One waiting message per user at a
time: ten notifications before the next run make one e-mail. A failed server loses nothing: the row stays unsent,
its attempts counted, and the next run tries again. The message never holds a name, a case code, an entity or
any detail — not in the subject, not in the body, not in a header.
"""
from __future__ import annotations

import smtplib
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import select

from caseapp.extensions import db
from caseapp.models.notifications import MailOutbox
from caseapp.timeutil import utcnow

SUBJECT = "Novedad en Ruta"
BODY = "Tiene una novedad en Ruta.\n\n{link}\n"
MAX_ATTEMPTS = 50  # about a day of runs every half hour; then an operator looks (`flask notifications mail`)


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def enqueue(users) -> None:
    """Queue one e-mail for each user with an address and none already waiting (in the caller's transaction)."""
    if not enabled():
        return
    wanted = {u.id for u in users if u.email}
    if not wanted:
        return
    waiting = set(db.session.scalars(select(MailOutbox.user_id).where(
        MailOutbox.user_id.in_(wanted), MailOutbox.sent_at.is_(None))))
    now = utcnow()
    db.session.add_all(MailOutbox(user_id=i, created_at=now, attempts=0) for i in sorted(wanted - waiting))


def link() -> str:
    return current_app.config.get("BASE_URL", "").rstrip("/") + "/notifications/"


def message(address: str) -> EmailMessage:
    """The only e-mail Ruta sends: the same words for everyone."""
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["SMTP_FROM"]
    msg["To"] = address
    msg["Subject"] = SUBJECT
    msg["Date"] = format_datetime(utcnow().replace(tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain=config["SMTP_FROM"].rpartition("@")[2] or "localhost")
    msg.set_content(BODY.format(link=link()))
    return msg


def _connect() -> smtplib.SMTP:
    config = current_app.config
    server = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config.get("SMTP_TIMEOUT", 10))
    if config.get("SMTP_STARTTLS"):
        server.starttls()
    if config.get("SMTP_USER"):
        server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
    return server


def _failed(rows, error: Exception) -> None:
    now = utcnow()
    for row in rows:
        row.attempts, row.last_attempt_at, row.last_error = row.attempts + 1, now, type(error).__name__[:120]
    db.session.commit()


def deliver(limit: int = 500) -> dict:
    """Send what waits in the outbox; each row is marked sent in its own commit right after the server took it."""
    if not enabled():
        return {"sent": 0, "failed": 0, "skipped": 0, "waiting": 0}
    rows = list(db.session.scalars(select(MailOutbox).where(
        MailOutbox.sent_at.is_(None), MailOutbox.attempts < MAX_ATTEMPTS).order_by(MailOutbox.id).limit(limit)))
    sent = failed = skipped = 0
    if rows:
        try:
            server = _connect()
        except (OSError, smtplib.SMTPException) as error:
            _failed(rows, error)
            return {"sent": 0, "failed": len(rows), "skipped": 0, "waiting": len(rows)}
        try:
            for row in rows:
                user = row.user
                if not user.email or not user.is_active:  # nobody to tell any more: nothing to retry
                    row.sent_at, row.last_error = utcnow(), "no_recipient"
                    db.session.commit()
                    skipped += 1
                    continue
                try:
                    server.send_message(message(user.email))
                except (OSError, smtplib.SMTPException) as error:
                    _failed([row], error)
                    failed += 1
                    if isinstance(error, OSError | smtplib.SMTPServerDisconnected):
                        break  # the connection is gone: the rest waits for the next run
                    continue
                row.sent_at, row.attempts, row.last_attempt_at = utcnow(), row.attempts + 1, utcnow()
                db.session.commit()
                sent += 1
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                pass
    waiting = db.session.scalar(select(db.func.count()).select_from(MailOutbox).where(MailOutbox.sent_at.is_(None)))
    return {"sent": sent, "failed": failed, "skipped": skipped, "waiting": waiting}
