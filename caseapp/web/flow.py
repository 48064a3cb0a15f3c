"""The one way a view runs a form: validate it, call one service, then flash the success or put the service's
errors where the reader sees them. A refusal is never silent: an error no field shows becomes a flash message.

`submit` is for a view that shows the form again with its errors; `act` for a button on a page that redirects
back to it (every error is then a flash message). A form that creates something mixes in `SentOnce`: its hidden
one-time token makes a double click or a resent form write once (`primitives.expect_once`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import HiddenField

from caseapp.errors import Conflict, DomainError, Invalid
from caseapp.services.primitives import abandon_write, expect_once, stale_message
from caseapp.templating import local_date, submission_token


class SentOnce:
    """Mixed into a form that creates a record: a one-time token, new each time the form is shown."""

    submission = HiddenField(default=submission_token)


def sent_token(form) -> str | None:
    """The one-time token the browser sent with `form` (None when the form has none, or it was not sent)."""
    field = getattr(form, "submission", None)
    raw = getattr(field, "raw_data", None)
    return raw[0] if raw else None


def expect_sent_once(form) -> None:
    """The form's write happens once for its one-time token (nothing to check for a form without one). No
    fingerprint: a form sent again is the same form, whatever was changed in it meanwhile."""
    expect_once(current_user, sent_token(form))


def _call(form, call):
    expect_sent_once(form)
    try:
        return call(form)
    except DomainError:
        abandon_write()
        raise


def flash_refusal(error: DomainError, fallback: str | None = None, form=None) -> None:
    """Flash a service's refusal: a form sent again as a warning (the first one was saved); else what `form` will
    not show next to a field, or (no form) every message, `fallback` when the error has none."""
    if error.rule == "already_submitted":
        flash(str(error.message), "warning")
    elif form is not None:
        flash_error(error, form)
    else:
        for message in error.messages() or ([fallback] if fallback else []):
            flash(message, "error")


def attach_errors(form, error: DomainError) -> list[str]:
    """Put each field error of `error` on its field of `form`; return the messages no visible field shows."""
    unshown: list[str] = []
    for name, messages in error.field_errors.items():
        target = form._fields.get(name) if form is not None else None
        if target is not None and name != "csrf_token" and target.type not in ("HiddenField", "CSRFTokenField"):
            target.errors = list(target.errors or []) + [str(m) for m in messages]
        else:
            unshown += [str(m) for m in messages if str(m) not in unshown]
    if not error.field_errors and error.message:
        unshown.append(str(error.message))
    return unshown


def flash_error(error: DomainError, form=None) -> None:
    """Flash what of `error` the page will not show next to a field."""
    for message in attach_errors(form, error):
        flash(message, "error")


@dataclass
class Outcome:
    ok: bool
    status: int
    result: object = None
    error: DomainError | None = None


def submit(form, call, *, success: str | None = None) -> Outcome:
    """Validate `form` (CSRF included), call `call(form)`; flash `success`, or attach the refusal to the form."""
    if not form.validate_on_submit():
        return Outcome(False, 422)
    try:
        result = _call(form, call)
    except (Invalid, Conflict) as error:
        flash_refusal(error, form=form)
        return Outcome(False, error.status, error=error)
    if success:
        flash(success, "success")
    return Outcome(True, 200, result)


def flash_form_errors(form) -> None:
    """The form's own validation errors, as flash messages naming their field (for a page that redirects)."""
    for name, messages in form.errors.items():
        label = form[name].label.text if name in form._fields and name != "csrf_token" else ""
        for message in messages if isinstance(messages, list) else [messages]:
            flash(f"{label}: {message}" if label else str(message), "error")


def act(form, call, *, success: str | None = None) -> Outcome:
    """Validate a button's form and call the service; every error becomes a flash message (the view redirects)."""
    if not form.validate():
        flash_form_errors(form)
        return Outcome(False, 422)
    try:
        result = _call(form, call)
    except (Invalid, Conflict) as error:
        fallback = stale_message() if isinstance(error, Conflict) else _("Some fields are not valid; nothing was saved.")
        flash_refusal(error, fallback)
        return Outcome(False, error.status, error=error)
    if success:
        flash(success, "success")
    return Outcome(True, 200, result)


def flash_ended_stay(case) -> None:
    """A closure that ended her shelter stay (the deployment's choice) says so: never a silent change."""
    closure = getattr(case, "last_closure", None)
    if closure is not None and closure.ended_stay is not None:
        flash(_("Her stay in %(shelter)s ended on %(date)s with the closure of the case.",
                shelter=closure.ended_stay.shelter.name, date=local_date(closure.closed_on)), "warning")
