"""Wrapped data keys (envelope encryption): one per victim, plus one system key for account secrets."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column

from caseapp import crypto
from caseapp.extensions import db
from caseapp.timeutil import utcnow


class DataKey(db.Model):
    __tablename__ = "data_keys"

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
    """The DEK for account secrets (TOTP seeds), created on first use."""
    row = db.session.scalar(select(DataKey).where(DataKey.purpose == "system").order_by(DataKey.id).limit(1))
    if row is None:
        row, dek = DataKey.generate("system")
        db.session.add(row)
        db.session.flush()
        return dek
    return row.unwrap()
