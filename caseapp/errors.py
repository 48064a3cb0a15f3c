"""Domain errors raised by services; the web and the API map them to responses in one place each.

`field_errors` is always {field: [messages]}. `rule` names the rule that refused an action (e.g.
"complaint_required"): the API answers it as `rule`, so another system can tell refusals apart.
"""


def _as_lists(field_errors: dict | None) -> dict[str, list]:
    out: dict[str, list] = {}
    for name, messages in (field_errors or {}).items():
        if isinstance(messages, (list, tuple)):
            out[str(name)] = [m for m in messages if m]
        else:
            out[str(name)] = [messages]
    return out


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "", *, field_errors: dict | None = None, rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = _as_lists(field_errors)
        self.rule = rule

    def messages(self) -> list[str]:
        """Every message of the error, the general one first (for a flash or a page without the fields)."""
        found = [str(self.message)] if self.message else []
        for messages in self.field_errors.values():
            found += [str(m) for m in messages if str(m) not in found]
        return found


class Invalid(DomainError):
    """Bad input: nothing was written."""

    status = 422


class Forbidden(DomainError):
    """The user may know the object exists but may not do this."""

    status = 403


class NotFound(DomainError):
    """Absent, or the user may not know it exists."""

    status = 404


class Conflict(DomainError):
    """A stale edit or a state that no longer allows the action."""

    status = 409
