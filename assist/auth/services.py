"""Account writes and sign-in checks, shared by the pages, the CLI and the tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from assist import audit
from assist.auth.models import User
from assist.db import utcnow
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.errors import NotAllowed, ValidationFailed
from assist.extensions import db
from assist.roles import Role

log = logging.getLogger("assist.auth")

MIN_PASSWORD_LENGTH = 12
# Compared against when the e-mail is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problems(password: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 200:
        problems.append("Use at most 200 characters.")
    return problems


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record(user, "sign_in", user)


def logout(user: User) -> None:
    """End every session of this user: old cookies carry a token that no longer exists."""
    user.rotate_session_token()
    audit.record(user, "sign_out", user)


@dataclass
class UserData:
    email: str
    name: str
    role: Role
    authority_id: int | None = None
    organisation_id: int | None = None
    is_active: bool = True


def _validate_user(data: UserData, own_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    email = normalise_email(data.email)
    if "@" not in email or len(email) > 254:
        errors["email"] = ["Give a valid e-mail address."]
    else:
        other = db.session.scalar(sa.select(User.id).where(User.email == email))
        if other is not None and other != own_id:
            errors["email"] = ["An account with this e-mail address already exists."]
    if not data.name.strip() or len(data.name) > 120:
        errors["name"] = ["Give a name of at most 120 characters."]
    if data.role == Role.CITY_OFFICIAL:
        if data.authority_id is None or db.session.get(LocalAuthority, data.authority_id) is None:
            errors["authority_id"] = [
                "A city official must belong to a local authority: choose one."
            ]
    elif data.authority_id is not None:
        errors["authority_id"] = [
            "Only city officials belong to a local authority: leave it empty."
        ]
    if data.role == Role.EXPERT:
        if (
            data.organisation_id is None
            or db.session.get(ExpertOrganisation, data.organisation_id) is None
        ):
            errors["organisation_id"] = [
                "An expert must belong to an expert organisation: choose one."
            ]
    elif data.organisation_id is not None:
        errors["organisation_id"] = ["Only experts belong to an organisation: leave it empty."]
    return errors


def create_user(actor: User | None, data: UserData, password: str) -> User:
    """Create an account; ``actor`` is None only for the command line."""
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed("Only an administrator can create accounts.")
    errors = _validate_user(data, None)
    if problems := password_problems(password):
        errors["password"] = problems
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=normalise_email(data.email),
        name=data.name.strip(),
        role=data.role,
        authority_id=data.authority_id,
        organisation_id=data.organisation_id,
        is_active_account=data.is_active,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "create", user, changes=["account"])
    log.info("user created id=%s role=%s", user.id, user.role)
    return user


def update_user(actor: User, user: User, data: UserData, new_password: str = "") -> User:
    if actor.role != Role.ADMIN:
        raise NotAllowed("Only an administrator can change accounts.")
    errors = _validate_user(data, user.id)
    if actor.id == user.id and (data.role != Role.ADMIN or not data.is_active):
        errors["role"] = ["You cannot remove your own administrator role or deactivate yourself."]
    if new_password and (problems := password_problems(new_password)):
        errors["password"] = problems
    if errors:
        raise ValidationFailed(errors)
    values = {
        "email": normalise_email(data.email),
        "name": data.name.strip(),
        "role": data.role,
        "authority_id": data.authority_id,
        "organisation_id": data.organisation_id,
        "is_active_account": data.is_active,
    }
    changed = [k for k, v in values.items() if getattr(user, k) != v]
    for k, v in values.items():
        setattr(user, k, v)
    if new_password:
        user.set_password(new_password)
        changed.append("password")
    if {"password", "is_active_account", "role"} & set(changed):
        # A reset, a deactivation or a new role ends the user's open sessions.
        user.rotate_session_token()
    if changed:
        audit.record(actor, "update", user, changes=changed)
    return user
