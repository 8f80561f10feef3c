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
