"""The victim: identity encrypted field by field under her own data key; coarse statistical fields in clear."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.crypto import Encrypted, KeyDestroyed, new_uid, unwrap_data_key
from caseapp.extensions import db
from caseapp.models.base import Timestamped, Versioned
from caseapp.models.keys import DataKey

DOCUMENT_TYPES = ("CC", "TI", "RC", "CE", "PEP", "PPT", "PASSPORT", "NONE")
SEXES = ("female", "male", "intersex", "unknown")
# HTCDS-aligned coarse value lists for statistics.
GENDER_IDENTITIES = ("woman", "man", "trans_woman", "trans_man", "non_binary", "other", "unknown")
AGE_GROUPS = ("0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+", "unknown")
ETHNIC_GROUPS = ("none", "afrocolombian", "indigenous", "raizal", "palenquero", "rrom", "other", "unknown")
MIGRANT_STATUSES = ("national", "regular_migrant", "irregular_migrant", "returnee", "refugee_or_asylum", "unknown")
YES_NO_UNKNOWN = ("yes", "no", "unknown")


def full_name(person) -> str:
    """Given names, then family names, whichever are known."""
    return " ".join(p for p in (person.given_names, person.family_names) if p)


class Victim(Versioned, Timestamped, db.Model):
    __tablename__ = "victims"
    # The anonymised counts join a case to its victim's clear statistical columns: read them from this narrow
    # index rather than from the row with its ciphertexts.
    __table_args__ = (Index("ix_victims_stats", "id", "sex", "gender_identity", "age_group", "nationality",
                            "ethnic_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    data_key_id: Mapped[int] = mapped_column(ForeignKey("data_keys.id"), nullable=False, unique=True)

    # Identity (encrypted under the victim's data key; ciphertext in *_enc columns).
    given_names_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    family_names_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_type_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_person_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    narrative_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    given_names = Encrypted("given_names")
    family_names = Encrypted("family_names")
    document_type = Encrypted("document_type")
    document_number = Encrypted("document_number")
    birth_date = Encrypted("birth_date")  # ISO date text
    phone = Encrypted("phone")
    address = Encrypted("address")
    contact_person = Encrypted("contact_person")
    narrative = Encrypted("narrative")

    # Blind indexes (truncated HMAC): exact search and duplicate detection, across entities.
    document_bidx: Mapped[int | None] = mapped_column(Integer, index=True)
    name_bidx: Mapped[int | None] = mapped_column(Integer, index=True)
    phone_bidx: Mapped[int | None] = mapped_column(Integer, index=True)

    # Statistical fields (clear, coarse, non-identifying).
    sex: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    gender_identity: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    age_group: Mapped[str] = mapped_column(String(8), nullable=False, default="unknown")
    nationality: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2; None: not informed
    ethnic_group: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    disability: Mapped[str] = mapped_column(String(8), nullable=False, default="unknown")
    lgbtiq: Mapped[str] = mapped_column(String(8), nullable=False, default="unknown")
    migrant_status: Mapped[str] = mapped_column(String(24), nullable=False, default="unknown")
    erased: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    data_key: Mapped[DataKey] = relationship(lazy="joined")

    _dek = None  # the unwrapped data key, cached for this object only

    @classmethod
    def new(cls, **stats) -> Victim:
        """A victim with a fresh data key (set identity fields after this)."""
        key, dek = DataKey.generate("victim")
        victim = cls(data_key=key, **stats)
        victim._dek = dek
        return victim

    def _encryption_key(self) -> bytes:
        if self.data_key.destroyed:
            raise KeyDestroyed("data key destroyed")
        if self._dek is None:
            self._dek = self.data_key.unwrap()
        return self._dek

    full_name = property(full_name)


class IdentityColumns:
    """A victim's identity fields read from the columns a statement selected (a page of the case list, the duplicate
    check's candidates): a Victim and her data key object for each row cost more than the statement. The very
    descriptors of Victim (same associated data, ERASED once her key is destroyed), under her key unwrapped as
    DataKey.unwrap does; a field the statement did not select reads None."""

    __tablename__ = Victim.__tablename__
    __slots__ = ("uid", "_kek_id", "_wrapped", "_dek", "given_names_enc", "family_names_enc", "document_type_enc",
                 "document_number_enc", "birth_date_enc", "phone_enc")
    given_names = Victim.__dict__["given_names"]
    family_names = Victim.__dict__["family_names"]
    document_type = Victim.__dict__["document_type"]
    document_number = Victim.__dict__["document_number"]
    birth_date = Victim.__dict__["birth_date"]
    phone = Victim.__dict__["phone"]
    full_name = property(full_name)

    def __init__(self, uid: str, kek_id: str, wrapped: bytes | None, *, given_names_enc=None, family_names_enc=None,
                 document_type_enc=None, document_number_enc=None, birth_date_enc=None, phone_enc=None):
        self.uid, self._kek_id, self._wrapped, self._dek = uid, kek_id, wrapped, None
        self.given_names_enc, self.family_names_enc = given_names_enc, family_names_enc
        self.document_type_enc, self.document_number_enc = document_type_enc, document_number_enc
        self.birth_date_enc, self.phone_enc = birth_date_enc, phone_enc

    def _encryption_key(self) -> bytes:
        if self._dek is None:
            self._dek = unwrap_data_key(self._kek_id, self._wrapped)  # KeyDestroyed once her key is destroyed
        return self._dek
