"""Shared column helpers for the models."""
from datetime import datetime

from sqlalchemy import DateTime, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from caseapp.timeutil import utcnow


class Versioned:
    """Optimistic locking: a stale edit raises StaleDataError, never overwrites (services map it to Conflict)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.version}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class UnderVictimKey:
    """A row of a case whose encrypted fields are under the victim's data key (it has a `case` relationship)."""

    def _encryption_key(self) -> bytes:
        return self.case._encryption_key()
