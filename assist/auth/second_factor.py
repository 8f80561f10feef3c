"""The second factor: TOTP enrolment and checks (replays refused), one-time recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from flask_babel import gettext as _

from assist import audit
from assist.auth.loader import forget_role_policy, prefetched_role_policy
from assist.auth.models import RecoveryCode, RolePolicy, TotpCredential, User, UserSession
from assist.auth.sessions import end_sessions
from assist.db import utcnow
from assist.errors import NotAllowed, ValidationFailed
from assist.extensions import db
from assist.roles import Role

log = logging.getLogger("assist.auth")

#: Roles that act across every city's requests: always two factors.
ALWAYS_REQUIRED = frozenset({Role.STAFF, Role.ADMIN})
#: Roles for which an administrator may require a second factor.
OPTIONAL_ROLES = (Role.CITY_OFFICIAL, Role.EXPERT)
RECOVERY_CODE_COUNT = 10
#: Codes from the step before and after the current one are accepted (clock drift).
DRIFT_STEPS = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to copy by hand


# --- Policy ---------------------------------------------------------------------------------


def role_requires_second_factor(role: Role) -> bool:
    if role in ALWAYS_REQUIRED:
        return True
    # The signed-in user's own role: read with the user by the loader, in this request.
    known = prefetched_role_policy(role)
    if known is not None:
        return known
    return bool(
        db.session.scalar(
            sa.select(RolePolicy.require_second_factor).where(RolePolicy.role == role)
        )
    )


def required_for(user: User) -> bool:
    return role_requires_second_factor(user.role)


def role_requirements() -> dict[Role, bool]:
    return {role: role_requires_second_factor(role) for role in Role}


def set_role_requirement(actor: User, role: Role, required: bool) -> bool:
    """Require (or stop requiring) a second factor for ``role``; True if something changed."""
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can change who needs a second factor."))
    if role not in OPTIONAL_ROLES:
        raise NotAllowed(_("This role always needs a second factor: %(role)s.", role=role.label))
    policy = db.session.scalar(sa.select(RolePolicy).where(RolePolicy.role == role))
    if policy is None:
        policy = RolePolicy(role=role, require_second_factor=False)
        db.session.add(policy)
    if policy.require_second_factor == required:
        return False
    forget_role_policy()  # what the loader read for this request is no longer the policy
    policy.require_second_factor = required
    policy.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "update", policy, changes=["require_second_factor"])
    return True


# --- TOTP -----------------------------------------------------------------------------------


def credential(user: User) -> TotpCredential | None:
    return db.session.scalar(sa.select(TotpCredential).where(TotpCredential.user_id == user.id))


def is_enrolled(user: User) -> bool:
    cred = credential(user)
    return cred is not None and cred.confirmed_at is not None


def begin_enrolment(user: User, session: UserSession) -> TotpCredential:
    """A fresh secret bound to this session (opening the page again replaces it)."""
    cred = credential(user)
    if cred is not None and cred.confirmed_at is not None:
        raise NotAllowed(_("A second factor is already set up for this account."))
    if cred is None:
        cred = TotpCredential(user_id=user.id)
        db.session.add(cred)
    cred.secret = pyotp.random_base32()
    cred.created_at = utcnow()
    cred.session_id = session.id
    cred.last_used_step = None
    db.session.flush()
    return cred


def pending_enrolment(user: User, session: UserSession) -> TotpCredential | None:
    cred = credential(user)
    if cred is None or cred.confirmed_at is not None or cred.session_id != session.id:
        return None
    return cred


def provisioning_uri(cred: TotpCredential, user: User, issuer: str) -> str:
    return pyotp.TOTP(cred.secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> bytes:
    """The enrolment QR code as SVG, drawn here (the secret never leaves the server)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        title=_("QR code to add PREPARE Assist to an authenticator app"),
    )
    return buffer.getvalue()


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code is ``code`` (current ± DRIFT_STEPS), or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(cred: TotpCredential, step: int) -> bool:
    """Record ``step`` as used, unless it (or a later one) already was: a replay is refused.

    A guarded UPDATE, so two requests with the same code at the same moment cannot both win.
    """
    result = db.session.execute(
        sa.update(TotpCredential)
        .where(
            TotpCredential.id == cred.id,
            sa.or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(cred)
    return True


@dataclass(frozen=True)
class Enrolled:
    credential: TotpCredential
    recovery_codes: list[str]


def confirm_enrolment(
    user: User, session: UserSession, code: str, now: datetime | None = None
) -> Enrolled:
    """Check the first code, switch the factor on and issue recovery codes (shown once).

    The user's other sessions end: whoever else held the password is signed out.
    """
    cred = pending_enrolment(user, session)
    if cred is None:
        raise ValidationFailed(
            {"code": [_("The set-up was started elsewhere or expired: scan the new QR code.")]}
        )
    step = _matching_step(cred.secret, _normalise_code(code), now or utcnow())
    if step is None or not _claim_step(cred, step):
        raise ValidationFailed(
            {"code": [_("That code is not right. Enter the 6 digits your app shows now.")]}
        )
    cred.confirmed_at = utcnow()
    cred.session_id = None
    session.second_factor_at = utcnow()
    codes = _replace_recovery_codes(user)
    end_sessions(user, "second_factor_enrolled", keep=session)
    audit.record(user, "2fa_enrolled", user)
    log.info("second factor enrolled user=%s", user.id)
    return Enrolled(cred, codes)


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    recovery_code_used: bool = False
    recovery_codes_left: int = 0


def verify(user: User, code: str, now: datetime | None = None) -> CodeCheck:
    """Check a sign-in code: a TOTP code not used before, or an unused recovery code."""
    cred = credential(user)
    if cred is None or cred.confirmed_at is None:
        return CodeCheck(ok=False)
    normalised = _normalise_code(code)
    if len(normalised) == 6:
        step = _matching_step(cred.secret, normalised, now or utcnow())
        return CodeCheck(ok=step is not None and _claim_step(cred, step))
    if _use_recovery_code(user, normalised):
        audit.record(user, "recovery_code_used", user)
        return CodeCheck(ok=True, recovery_code_used=True, recovery_codes_left=codes_left(user))
    return CodeCheck(ok=False)


# --- Recovery codes -------------------------------------------------------------------------


def _hash_code(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _new_code() -> str:
    # 16 characters from 31: about 79 bits, so a fast salted hash is enough.
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        salt = secrets.token_hex(16)
        db.session.add(
            RecoveryCode(
                user_id=user.id, salt=salt, code_hash=_hash_code(salt, _normalise_code(code))
            )
        )
    db.session.flush()
    return codes


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New codes (the old ones stop working), after a current TOTP code."""
    cred = credential(user)
    if cred is None or cred.confirmed_at is None:
        raise NotAllowed(_("Set up a second factor first."))
    normalised = _normalise_code(code)
    step = _matching_step(cred.secret, normalised, utcnow())
    if step is None or not _claim_step(cred, step):
        raise ValidationFailed(
            {"code": [_("That code is not right. Enter the 6 digits your app shows now.")]}
        )
    codes = _replace_recovery_codes(user)
    audit.record(user, "recovery_codes_regenerated", user)
    return codes


def codes_left(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def _use_recovery_code(user: User, normalised: str) -> bool:
    if len(normalised) != 16:
        return False
    rows = db.session.scalars(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in rows:
        if hmac.compare_digest(row.code_hash, _hash_code(row.salt, normalised)):
            # Guarded: the same code sent twice at once is accepted once.
            result = db.session.execute(
                sa.update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1
    return False


# --- Reset by an administrator --------------------------------------------------------------


def reset_second_factor(actor: User, user: User) -> None:
    """Remove the user's factor and codes (lost device) and end their sessions; audited."""
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can reset a second factor."))
    if actor.id == user.id:
        raise NotAllowed(_("Ask another administrator to reset your own second factor."))
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(TotpCredential).where(TotpCredential.user_id == user.id))
    end_sessions(user, "second_factor_reset")
    audit.record(actor, "2fa_reset", user)
    log.info("second factor reset user=%s by=%s", user.id, actor.id)
