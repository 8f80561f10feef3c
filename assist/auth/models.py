"""User accounts: one role each, bound to an authority or an organisation as the role needs."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from assist.db import utcnow
from assist.extensions import db
from assist.roles import Role

if TYPE_CHECKING:
    from assist.directory.models import ExpertOrganisation, LocalAuthority


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role]
    authority_id: Mapped[int | None] = mapped_column(sa.ForeignKey("local_authorities.id"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("expert_organisations.id"))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Flask-Login's alternative id: rotating it ends every session that carried the old one.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    #: The interface language this user chose (assist/i18n.py); None follows the browser.
    language: Mapped[str | None] = mapped_column(sa.String(8))

    authority: Mapped[LocalAuthority | None] = relationship(back_populates="users")
    organisation: Mapped[ExpertOrganisation | None] = relationship(back_populates="users")

    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'city_official') = (authority_id IS NOT NULL)", name="authority_iff_official"
        ),
        sa.CheckConstraint(
            "(role = 'expert') = (organisation_id IS NOT NULL)", name="organisation_iff_expert"
        ),
    )

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt, a memory-hard KDF.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    """A personal bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The first characters, shown so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One signed-in browser: the cookie carries a random token, the database its SHA-256.

    Ending a session sets ``ended_at``; a cookie whose row is ended, idle or too old is refused.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When this session passed a second factor (None: password only).
    second_factor_at: Mapped[datetime | None]
    #: Browser and operating system only ("Firefox on Windows"), never the full header.
    user_agent: Mapped[str] = mapped_column(sa.String(100), default="")
    #: The network, not the address: /24 for IPv4, /48 for IPv6.
    ip_prefix: Mapped[str] = mapped_column(sa.String(64), default="")
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(sa.String(32), default="")

    user: Mapped[User] = relationship()

    @property
    def device(self) -> str:
        """The browser and system in the reader's language."""
        from assist.auth.sessions import device_label

        return device_label(self.user_agent)


class TotpCredential(db.Model):
    """A user's authenticator-app secret; unconfirmed while ``confirmed_at`` is None.

    The secret is stored as it is (no key management in this deployment): the database must be
    protected like the rest of the account data. ``last_used_step`` refuses a replayed code.
    """

    __tablename__ = "totp_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    last_used_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: While unconfirmed: the session that started the set-up (only it can confirm).
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_sessions.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code for a lost device; only a salted SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    salt: Mapped[str] = mapped_column(sa.String(32))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class PasswordResetToken(db.Model):
    """A single-use, time-limited link sent by e-mail; only its SHA-256 is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """An invitation to a city official or an expert; the account exists once it is accepted."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role]
    authority_id: Mapped[int | None] = mapped_column(sa.ForeignKey("local_authorities.id"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("expert_organisations.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: The account the invitation became.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
    authority: Mapped[LocalAuthority | None] = relationship()
    organisation: Mapped[ExpertOrganisation | None] = relationship()


class RolePolicy(db.Model):
    """Per-role account rules an administrator can change (staff and admins always need 2FA)."""

    __tablename__ = "role_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(unique=True)
    require_second_factor: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
