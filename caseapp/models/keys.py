"""Wrapped data keys (envelope encryption): one per victim, plus one system key for account secrets."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from caseapp import crypto
from caseapp.extensions import db
from caseapp.timeutil import utcnow


class DataKey(db.Model):
    __tablename__ = "data_keys"
    __table_args__ = (
        Index("uq_data_keys_system", "purpose", unique=True,
              sqlite_where=text("purpose = 'system'"), postgresql_where=text("purpose = 'system'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False, default="victim")
    kek_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime)

    @classmethod
    def generate(cls, purpose: str = "victim") -> tuple[DataKey, bytes]:
        dek = crypto.new_data_key()
        kek_id, wrapped = crypto.wrap_data_key(dek)
        return cls(purpose=purpose, kek_id=kek_id, wrapped=wrapped), dek

    def unwrap(self) -> bytes:
        return crypto.unwrap_data_key(self.kek_id, self.wrapped)

    @property
    def destroyed(self) -> bool:
        return self.wrapped is None

    def destroy(self) -> None:
        """Crypto-shredding: without the wrapped key, every value under it is unreadable for good."""
        self.wrapped = None
        self.destroyed_at = utcnow()


def system_data_key() -> bytes:
    """The DEK for account secrets (TOTP seeds), created on first use.

    A partial unique index allows one system key only: when two first uses race, the loser reads the winner's.
    """
    query = select(DataKey).where(DataKey.purpose == "system").limit(1)
    row = db.session.scalar(query)
    if row is not None:
        return row.unwrap()
    candidate, dek = DataKey.generate("system")
    try:
        with db.session.begin_nested():
            db.session.add(candidate)
        return dek
    except IntegrityError:
        return db.session.scalar(query).unwrap()
