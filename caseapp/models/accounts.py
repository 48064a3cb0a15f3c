"""Entities on the route, users, their roles, server-side sessions, API tokens and recovery codes."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.crypto import Encrypted, new_uid
from caseapp.extensions import db
from caseapp.models.base import Timestamped, Versioned
from caseapp.timeutil import utcnow

ENTITY_KINDS = ("government", "justice", "police", "health", "child_protection", "ngo", "international")
ROLES = ("social_worker", "lawyer", "coordinator", "auditor", "admin")
CASE_ROLES = ("social_worker", "lawyer")


class Entity(Versioned, Timestamped, db.Model):
    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    # DIVIPOLA code of the municipality or department it works in, or CO (caseapp.models.territory).
    territory: Mapped[str] = mapped_column(String(5), nullable=False, default="CO", server_default="CO")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"<Entity {self.code}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class User(UserMixin, Versioned, Timestamped, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=new_uid)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False, index=True)
    # Credentials come from the database only where they are checked or changed, each on its own: the login's
    # statement asks for the password hash (undefer), the second factor loads the TOTP secret and a password change
    # the hash on first read. Every other load of a user - the session's on every request, a case page's
    # professionals, the lists - leaves both in the database.
    password_hash: Mapped[str | None] = mapped_column(String(255), deferred=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    # When the account first held the admin role; never cleared, so an account that was ever an admin gets case
    # roles or another entity only with a second admin's approval (accounts.approvals).
    admin_since: Mapped[datetime | None] = mapped_column(DateTime)
    # Where "you have news in Ruta" is sent (notifications); optional, set by an admin.
    email: Mapped[str | None] = mapped_column(String(254))

    totp_secret = Encrypted("totp_secret")

    entity: Mapped[Entity] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    # Set by the session loader: the server-side session this request belongs to (sessions.SignedIn).
    current_session = None
    # Set by accounts.update_user: the change of roles or entity left waiting for a second admin, if any.
    pending_change = None

    def _encryption_key(self) -> bytes:
        from caseapp.models.keys import system_data_key

        return system_data_key()

    @property
    def roles(self) -> frozenset[str]:
        # The signed-in user's, read with her session (sessions.signed_in_user); anyone else's from her role rows.
        held = self.__dict__.get("_role_names")
        return held if held is not None else frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.__dict__.pop("_role_names", None)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=r) for r in sorted(wanted - self.roles)
        ]

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active) and bool(self.entity.active)

    def get_id(self) -> str | None:  # Flask-Login "alternative token": the session id, revocable
        return self._session_token

    _session_token = None

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(db.Model):
    """A login session the server can revoke: idle and absolute timeouts are checked against it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


TOKEN_SCOPES = ("read", "read-write")
DEFAULT_TOKEN_DAYS = 90


def _default_token_expiry() -> datetime:
    return utcnow() + timedelta(days=DEFAULT_TOKEN_DAYS)


class ApiToken(db.Model):
    """A personal API token: only its keyed hash is stored. It stops working at `expires_at` or when revoked
    (password change, sign out everywhere, second-factor reset, role change, deactivation: `revoke_reason`)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=_default_token_expiry)
    scope: Mapped[str] = mapped_column(String(16), nullable=False, default="read-write",
                                       server_default="read-write")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()


class PendingLogin(db.Model):
    """The first step of a login (password checked), waiting for the second factor.

    The browser's session holds only a random id; the server keeps its keyed hash, the user and the expiry, and
    marks it used when the login completes or fails for good, so a copied cookie cannot be replayed.
    """

    __tablename__ = "pending_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class Submission(db.Model):
    """A form or API request already carried out, by the keyed hash of its one-time token (the form's hidden
    `submission` field, the API's Idempotency-Key) and its user: a double click, a resent form or a retried request
    writes once (services.primitives.expect_once). Kept for a week, then deleted."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # sha256 of what the request asked (method, endpoint, arguments, body): a used key on another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (db.Index("ix_submissions_user_created", "user_id", "created_at"),)


class LoginThrottle(db.Model):
    """Failed sign-in attempts under one key (an account, an address, or the pair), shared by every app server.

    `key` is a keyed hash (crypto.hash_token) of what it counts: no typed username or address in clear here.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AccountChangeRequest(db.Model):
    """A change of roles and/or entity of an account that is or was an admin, waiting for a second admin.

    The request holds the whole wanted state (roles and entity); it is applied only by another admin than the one
    who asked, and only if the account has not changed since (`base_version`).
    """

    __tablename__ = "account_change_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    base_version: Mapped[int] = mapped_column(Integer, nullable=False)
    roles: Mapped[str] = mapped_column(String(100), nullable=False)  # comma-separated codes of ROLES
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # CHANGE_STATUSES
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)  # usernames: staff, never victims
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    entity: Mapped[Entity] = relationship(foreign_keys=[entity_id], lazy="joined")

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


CHANGE_STATUSES = ("pending", "approved", "rejected", "superseded")


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Setting(Versioned, db.Model):
    """Admin-editable settings (suppression threshold k, alert thresholds...), as JSON text."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000), nullable=False)
