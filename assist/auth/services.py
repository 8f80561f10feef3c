"""Account writes and sign-in checks, shared by the pages, the CLI and the tests."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from assist import audit
from assist.auth.models import Invitation, PasswordResetToken, User, UserSession
from assist.auth.sessions import end_session, end_sessions, hash_token
from assist.db import utcnow
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.i18n import LANGUAGES, reading_language
from assist.notifications.services import queue_email
from assist.roles import Role

log = logging.getLogger("assist.auth")

MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable" for online attacks.
MIN_PASSWORD_SCORE = 3
# Compared against when the e-mail is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


#: zxcvbn's warnings come in English only: each is marked here to be translated with the rest.
_ZXCVBN_WARNINGS = {
    "Straight rows of keys are easy to guess.": _l("Straight rows of keys are easy to guess."),
    "Short keyboard patterns are easy to guess.": _l("Short keyboard patterns are easy to guess."),
    'Repeats like "aaa" are easy to guess.': _l('Repeats like "aaa" are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _l(
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'
    ),
    'Sequences like "abc" or "6543" are easy to guess.': _l(
        'Sequences like "abc" or "6543" are easy to guess.'
    ),
    "Recent years are easy to guess.": _l("Recent years are easy to guess."),
    "Dates are often easy to guess.": _l("Dates are often easy to guess."),
    "This is a top-10 common password.": _l("This is a top-10 common password."),
    "This is a top-100 common password.": _l("This is a top-100 common password."),
    "This is a very common password.": _l("This is a very common password."),
    "This is similar to a commonly used password.": _l(
        "This is similar to a commonly used password."
    ),
    "A word by itself is easy to guess.": _l("A word by itself is easy to guess."),
    "Names and surnames by themselves are easy to guess.": _l(
        "Names and surnames by themselves are easy to guess."
    ),
    "Common names and surnames are easy to guess.": _l(
        "Common names and surnames are easy to guess."
    ),
}


def password_problems(password: str, user_inputs: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a new password: too short or long, or too easy to guess (zxcvbn's
    estimate, which knows common passwords, keyboard patterns, dates and the user's own name)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            ngettext(
                "Use at least %(num)d character.",
                "Use at least %(num)d characters.",
                MIN_PASSWORD_LENGTH,
            )
        )
    if len(password) > 200:
        problems.append(_("Use at most %(max)d characters.", max=200))
    if not problems:
        # The user's own words (name, parts of the e-mail address) count as easy guesses.
        words = {w.lower() for i in user_inputs for w in re.split(r"[\W_]+", i) if len(w) > 2}
        estimate = zxcvbn(password, user_inputs=sorted(words))
        if estimate["score"] < MIN_PASSWORD_SCORE:
            warning = _ZXCVBN_WARNINGS.get(estimate["feedback"]["warning"]) or _(
                "This password is too easy to guess."
            )
            advice = _(
                "Choose a longer phrase of unrelated words, not a common password, a name or a "
                "date."
            )
            problems.append(f"{warning} {advice}")
    return problems


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way).

    A failure on an existing account is audited (``sign_in_failed``); an unknown address leaves
    no row, so the trail cannot be used to learn which addresses exist.
    """
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        record_failed_sign_in(user, "password")
        return None
    return user


def record_failed_sign_in(user: User, step: str) -> None:
    audit.record(None, "sign_in_failed", user, changes=[step])
    log.info("sign-in failed user=%s step=%s", user.id, step)


def record_login(user: User, *, second_factor: bool = False) -> None:
    user.last_login_at = utcnow()
    audit.record(user, "sign_in", user, changes=["second_factor"] if second_factor else [])


def logout(user: User, session: UserSession | None) -> None:
    """End this browser's session: its cookie no longer matches an open session row."""
    if session is not None:
        end_session(session, "sign_out")
    audit.record(user, "sign_out", user)


def set_language(user: User, language: str | None) -> None:
    """Save the user's interface language (a code of assist.i18n.LANGUAGES; None follows the
    browser). A preference, not an accountable act: logged, not audited (like the switcher)."""
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed({"language": [_("Choose a language from the list.")]})
    user.language = language
    log.info("language set user=%s language=%s", user.id, language)


def end_own_session(user: User, session: UserSession, *, current: UserSession | None) -> None:
    """The user ends one of their sessions (another device, say) from the security page."""
    if session.user_id != user.id:
        raise NotAllowed(_("That is not one of your sessions."))
    end_session(session, "sign_out" if current and current.id == session.id else "ended_by_user")
    audit.record(user, "session_ended", user)


def end_other_sessions(user: User, current: UserSession) -> int:
    count = end_sessions(user, "ended_by_user", keep=current)
    audit.record(user, "session_ended", user, changes=["other_sessions"])
    return count


def change_password(
    user: User, current_password: str, new_password: str, *, keep: UserSession | None
) -> None:
    """Change one's own password; every other session of the user ends."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(current_password):
        errors["current_password"] = [_("This is not your current password.")]
    if problems := password_problems(new_password, (user.email, user.name)):
        errors["new_password"] = problems
    elif new_password == current_password:
        errors["new_password"] = [_("Choose a password different from the current one.")]
    if errors:
        raise ValidationFailed(errors)
    user.set_password(new_password)
    _invalidate_reset_tokens(user)
    end_sessions(user, "password_changed", keep=keep)
    audit.record(user, "password_changed", user)
    log.info("password changed user=%s", user.id)


# --- Password reset by e-mail ----------------------------------------------------------------


class TokenProblem(DomainError):
    """A reset or invitation link that cannot be used; the message says why and what to do."""

    status_code = 400


def _new_link_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def request_password_reset(email: str, *, public_url: str, valid_for: timedelta) -> bool:
    """Queue a reset e-mail if an active account has this address; True if one was queued.

    The caller answers the same whatever this returns.
    """
    user = find_by_email(email)
    if user is None or not user.is_active:
        # The same hashing work as a hit, so the answer takes about as long.
        _new_link_token()
        return False
    token, digest = _new_link_token()
    now = utcnow()
    db.session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=digest, created_at=now, expires_at=now + valid_for
        )
    )
    minutes = int(valid_for.total_seconds() // 60)
    with force_locale(reading_language(user.language)):
        subject = _("[PREPARE Assist] Reset your password")
        body = "\n\n".join(
            (
                _(
                    "Someone (probably you) asked to reset the password of your PREPARE Assist "
                    "account."
                ),
                ngettext(
                    "Choose a new password here within %(num)d minute; the link works once:",
                    "Choose a new password here within %(num)d minutes; the link works once:",
                    minutes,
                )
                + f"\n{public_url}/reset-password?token={token}",
                _("If you did not ask for this, ignore this e-mail: your password stays as it is."),
            )
        )
    queue_email(user.email, subject, body)
    log.info("password reset requested user=%s", user.id)
    return True


def _token_row(model: type[Any], token: str) -> Any:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(sa.select(model).where(model.token_hash == hash_token(token)))


def check_reset_token(token: str) -> PasswordResetToken:
    row = _token_row(PasswordResetToken, token)
    if row is None or not row.user.is_active:
        raise TokenProblem(
            _(
                "This reset link is not valid. Copy the whole link from the e-mail, "
                "or ask for a new one."
            )
        )
    if row.used_at is not None:
        raise TokenProblem(
            _("This reset link has already been used. Ask for a new one if you still need it.")
        )
    if row.expires_at <= utcnow():
        raise TokenProblem(_("This reset link has expired. Ask for a new one: it comes at once."))
    return row


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link (once); every session of the user ends."""
    row = check_reset_token(token)
    if problems := password_problems(new_password, (row.user.email, row.user.name)):
        raise ValidationFailed({"password": problems})
    claimed = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise TokenProblem(
            _("This reset link has already been used. Ask for a new one if you still need it.")
        )
    user = row.user
    user.set_password(new_password)
    _invalidate_reset_tokens(user)
    end_sessions(user, "password_reset")
    audit.record(user, "password_reset", user)
    log.info("password reset by link user=%s", user.id)
    return user


def _invalidate_reset_tokens(user: User) -> None:
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# --- Invitations -----------------------------------------------------------------------------

INVITABLE_ROLES = (Role.CITY_OFFICIAL, Role.EXPERT)


def invite(actor: User, data: UserData, *, public_url: str, valid_for: timedelta) -> Invitation:
    """Invite a city official or an expert by e-mail; a new invitation replaces a pending one."""
    if actor.role not in (Role.STAFF, Role.ADMIN):
        raise NotAllowed(_("Only Efus staff and administrators can invite people."))
    if data.role not in INVITABLE_ROLES:
        raise ValidationFailed({"role": [_("Invite city officials and experts only.")]})
    errors = _validate_user(data, None)
    if errors:
        raise ValidationFailed(errors)
    email = normalise_email(data.email)
    now = utcnow()
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    token, digest = _new_link_token()
    invitation = Invitation(
        email=email,
        name=data.name.strip(),
        role=data.role,
        authority_id=data.authority_id,
        organisation_id=data.organisation_id,
        token_hash=digest,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + valid_for,
    )
    db.session.add(invitation)
    db.session.flush()
    days = max(1, round(valid_for.total_seconds() / 86400))
    # The invitee has no account yet: the inviter chose their language. The link carries it, so
    # the invitation page opens in it and the account keeps it (see accept_invitation).
    link = f"{public_url}/invitation?token={token}"
    if data.language in LANGUAGES:
        link += f"&lang={data.language}"
    with force_locale(reading_language(data.language)):
        subject = _("[PREPARE Assist] You are invited to PREPARE Assist")
        if data.role == Role.EXPERT:
            welcome = _(
                "%(inviter)s (Efus) invites you to PREPARE Assist, the technical-assistance "
                "service of the PREPARE project, as expert.",
                inviter=actor.name,
            )
        else:
            welcome = _(
                "%(inviter)s (Efus) invites you to PREPARE Assist, the technical-assistance "
                "service of the PREPARE project, as city official.",
                inviter=actor.name,
            )
        body = "\n\n".join(
            (
                welcome,
                ngettext(
                    "Choose your password here within %(num)d day; the link works once:",
                    "Choose your password here within %(num)d days; the link works once:",
                    days,
                )
                + f"\n{link}",
                _("If you did not expect this invitation, ignore this e-mail."),
            )
        )
    queue_email(email, subject, body)
    audit.record(actor, "invitation_sent", invitation)
    log.info("invitation sent id=%s role=%s", invitation.id, invitation.role)
    return invitation


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    if actor.role not in (Role.STAFF, Role.ADMIN):
        raise NotAllowed(_("Only Efus staff and administrators can withdraw invitations."))
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict(_("This invitation was already accepted or withdrawn."))
    invitation.revoked_at = utcnow()
    audit.record(actor, "invitation_revoked", invitation)


def pending_invitations() -> list[Invitation]:
    stmt = (
        sa.select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .options(
            sa.orm.joinedload(Invitation.authority), sa.orm.joinedload(Invitation.organisation)
        )
        .order_by(Invitation.created_at.desc())
    )
    return list(db.session.scalars(stmt))


def check_invitation(token: str) -> Invitation:
    row = _token_row(Invitation, token)
    if row is None or row.revoked_at is not None:
        raise TokenProblem(
            _(
                "This invitation link is not valid (or was withdrawn). Copy the whole link from "
                "the e-mail, or ask the person who invited you for a new invitation."
            )
        )
    if row.accepted_at is not None:
        raise TokenProblem(
            _("This invitation has already been accepted. Sign in, or use “Forgot your password?”.")
        )
    if row.expires_at <= utcnow():
        raise TokenProblem(
            _("This invitation has expired. Ask the person who invited you to send a new one.")
        )
    return row


def accept_invitation(token: str, password: str, language: str | None = None) -> User:
    """Create the invited account with the password its owner chose (once), in the interface
    language they were invited in or chose since (None follows their browser)."""
    invitation = check_invitation(token)
    data = UserData(
        email=invitation.email,
        name=invitation.name,
        role=invitation.role,
        authority_id=invitation.authority_id,
        organisation_id=invitation.organisation_id,
    )
    errors = _validate_user(data, None)
    if "email" in errors:
        raise TokenProblem(
            _(
                "An account with this e-mail address exists already. Sign in, or use "
                "“Forgot your password?”."
            )
        )
    if errors:
        raise TokenProblem(
            _(
                "This invitation can no longer be used: ask the person who invited you for a "
                "new one."
            )
        )
    if problems := password_problems(password, (invitation.email, invitation.name)):
        raise ValidationFailed({"password": problems})
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise TokenProblem(_("This invitation has already been accepted. Sign in instead."))
    user = User(
        email=data.email,
        name=data.name,
        role=data.role,
        authority_id=data.authority_id,
        organisation_id=data.organisation_id,
        language=language if language in LANGUAGES else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    audit.record(user, "invitation_accepted", user)
    log.info("invitation accepted id=%s user=%s", invitation.id, user.id)
    return user


@dataclass
class UserData:
    email: str
    name: str
    role: Role
    authority_id: int | None = None
    organisation_id: int | None = None
    is_active: bool = True
    #: Interface language (a code of assist.i18n.LANGUAGES); None follows the browser.
    language: str | None = None


def _validate_user(data: UserData, own_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    email = normalise_email(data.email)
    if "@" not in email or len(email) > 254:
        errors["email"] = [_("Give a valid e-mail address.")]
    else:
        other = db.session.scalar(sa.select(User.id).where(User.email == email))
        if other is not None and other != own_id:
            errors["email"] = [_("An account with this e-mail address already exists.")]
    if not data.name.strip() or len(data.name) > 120:
        errors["name"] = [_("Give a name of at most %(max)d characters.", max=120)]
    if data.role == Role.CITY_OFFICIAL:
        if data.authority_id is None or db.session.get(LocalAuthority, data.authority_id) is None:
            errors["authority_id"] = [
                _("A city official must belong to a local authority: choose one.")
            ]
    elif data.authority_id is not None:
        errors["authority_id"] = [
            _("Only city officials belong to a local authority: leave it empty.")
        ]
    if data.role == Role.EXPERT:
        if (
            data.organisation_id is None
            or db.session.get(ExpertOrganisation, data.organisation_id) is None
        ):
            errors["organisation_id"] = [
                _("An expert must belong to an expert organisation: choose one.")
            ]
    elif data.organisation_id is not None:
        errors["organisation_id"] = [_("Only experts belong to an organisation: leave it empty.")]
    if data.language is not None and data.language not in LANGUAGES:
        errors["language"] = [_("Choose a language from the list.")]
    return errors


def create_user(actor: User | None, data: UserData, password: str) -> User:
    """Create an account; ``actor`` is None only for the command line."""
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can create accounts."))
    errors = _validate_user(data, None)
    if problems := password_problems(password, (data.email, data.name)):
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
        language=data.language,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "create", user, changes=["account"])
    log.info("user created id=%s role=%s", user.id, user.role)
    return user


def update_user(actor: User, user: User, data: UserData, new_password: str = "") -> User:
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can change accounts."))
    errors = _validate_user(data, user.id)
    if actor.id == user.id and (data.role != Role.ADMIN or not data.is_active):
        errors["role"] = [
            _("You cannot remove your own administrator role or deactivate yourself.")
        ]
    if new_password and (problems := password_problems(new_password, (data.email, data.name))):
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
        "language": data.language,
    }
    changed = [k for k, v in values.items() if getattr(user, k) != v]
    for k, v in values.items():
        setattr(user, k, v)
    if new_password:
        user.set_password(new_password)
        changed.append("password")
    if {"password", "is_active_account", "role"} & set(changed):
        # A reset, a deactivation or a new role ends the user's open sessions.
        reason = "deactivated" if not user.is_active_account else "changed_by_admin"
        end_sessions(user, reason)
    if changed:
        audit.record(actor, "update", user, changes=changed)
    if "is_active_account" in changed and not user.is_active_account:
        audit.record(actor, "deactivated", user)
    if "password" in changed:
        _invalidate_reset_tokens(user)
        audit.record(actor, "password_reset", user)
    return user
