"""Documents kept as proof on a case (signed consents, the acta única, identity documents, court orders).

The bytes are AES-256-GCM under the victim's data key, bound to the row (uid, case, kind) by the associated data,
and stored in the database: backed up with the case and shredded with her. The original file name is encrypted
too; what stays in clear is what the list and the access log need (kind, section, media type, size, who, when).
Who reads them is authz.readable_attachment_kinds: her identity section and the kind's own section.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from caseapp import crypto
from caseapp.crypto import Encrypted, new_uid
from caseapp.extensions import db
from caseapp.models.accounts import User
from caseapp.models.base import UnderVictimKey
from caseapp.models.cases import Case

# Each kind belongs to the case section whose readers may see it (authz.case_sections): a signed consent and an
# identity document name her; the acta única holds the agreed objectives (psychosocial, like its summary on the
# route page); a court order is legal; an unclassified scan may name her, so it is kept with the identity.
ATTACHMENT_SECTIONS = {
    "consent": "identity",
    "acta_unica": "psychosocial",
    "identity_document": "identity",
    "court_order": "legal",
    "other": "identity",
}
ATTACHMENT_KINDS = tuple(ATTACHMENT_SECTIONS)
# Media types by content, with the extension a download is named with.
MEDIA_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class CaseAttachment(UnderVictimKey, db.Model):
    """One uploaded file. Never edited: a wrong upload is replaced by a new one, so no version column."""

    __tablename__ = "case_attachments"
    __table_args__ = (Index("ix_case_attachments_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    # Written at upload, NOT trusted: it is outside the associated data, so an UPDATE could reclassify a document.
    # Access and what is shown go by `kind_section` (from the kind, which is bound to the ciphertext).
    section: Mapped[str] = mapped_column(String(16), nullable=False)
    media_type: Mapped[str] = mapped_column(String(32), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)  # of the original bytes
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    filename_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # deferred: a list of attachments never reads their bytes
    content_enc: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    filename = Encrypted("filename")
    case: Mapped[Case] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    def _content_aad(self) -> bytes:
        if not self.uid:
            self.uid = new_uid()
        return crypto.field_aad(self.__tablename__, "content", f"{self.uid}/{self.case.uid}/{self.kind}")

    def set_content(self, data: bytes) -> None:
        """Encrypt the original bytes (kind and case must be set first: they are in the associated data)."""
        self.content_enc = crypto.encrypt_bytes(self._encryption_key(), data, self._content_aad())

    def content(self) -> bytes:
        """The original bytes; KeyDestroyed once her data key is gone, CryptoError if moved or tampered with."""
        return crypto.decrypt_bytes(self._encryption_key(), self.content_enc, self._content_aad())

    @property
    def kind_section(self) -> str:
        """The case section this document belongs to, by its kind (authz.readable_attachment_kinds)."""
        return ATTACHMENT_SECTIONS[self.kind]

    @property
    def extension(self) -> str:
        return MEDIA_TYPES.get(self.media_type, "bin")
