"""Domain errors raised by services; the web and the API map them to responses in one place each."""


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "", *, field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


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
