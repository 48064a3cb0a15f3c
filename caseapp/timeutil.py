"""Clock helpers: UTC instants in the database, Colombian calendar dates in the domain."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BOGOTA = ZoneInfo("America/Bogota")


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column stores naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date in Colombia (the legal calendar of the route)."""
    return datetime.now(BOGOTA).date()


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(BOGOTA)
