"""Per-browser sessions kept on the server: start, check (idle and absolute timeouts), end."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from assist.auth.models import User, UserSession
from assist.db import utcnow
from assist.extensions import db

log = logging.getLogger("assist.auth")

#: last_seen_at is written at most this often, so a busy page does not write on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def describe_user_agent(header: str | None) -> str:
    """A summary such as "Firefox on Windows": enough to recognise a device."""
    header = (header or "")[:512]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(header)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(header)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN_BROWSER


UNKNOWN_BROWSER = "Unknown browser"


def device_label(summary: str) -> str:
    """A stored summary ("Firefox on Windows", kept in English) in the reader's language."""
    if summary == UNKNOWN_BROWSER:
        return _("Unknown browser")
    browser, on, system = summary.partition(" on ")
    if on:
        # NOTE: a browser and an operating system, e.g. "Firefox on Windows".
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return summary


def ip_prefix(address: str | None) -> str:
    """The network of an address (/24 or /48), so the list helps without storing the address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def start_session(
    user: User,
    *,
    user_agent: str | None = None,
    address: str | None = None,
    second_factor: bool = False,
) -> tuple[UserSession, str]:
    """A new session row and the raw token for the cookie (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        second_factor_at=now if second_factor else None,
        user_agent=describe_user_agent(user_agent),
        ip_prefix=ip_prefix(address),
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def find_session(user: User, token: str) -> UserSession | None:
    return db.session.scalar(
        sa.select(UserSession).where(
            UserSession.token_hash == hash_token(token), UserSession.user_id == user.id
        )
    )


def expiry_reason(row: UserSession, timeouts: Timeouts, now: datetime | None = None) -> str:
    """Why this session can no longer be used ("" while it can)."""
    now = now or utcnow()
    if row.ended_at is not None:
        return row.end_reason or "ended"
    if now - row.created_at >= timeouts.absolute:
        return "expired"
    if now - row.last_seen_at >= timeouts.idle:
        return "idle"
    return ""


def touch(row: UserSession, now: datetime | None = None) -> bool:
    """Record activity; True when the row changed (at most once per TOUCH_INTERVAL)."""
    now = now or utcnow()
    if now - row.last_seen_at < TOUCH_INTERVAL:
        return False
    row.last_seen_at = now
    return True


def end_session(row: UserSession, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason[:32]


def end_sessions(user: User, reason: str, *, keep: UserSession | None = None) -> int:
    """End every open session of ``user`` except ``keep``; returns how many were ended.

    Rotating the user's ``session_token`` as well kills any cookie without a session row; the
    caller signs the kept session in again with the new token.
    """
    stmt = (
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:32])
        .execution_options(synchronize_session="fetch")
    )
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    count = db.session.execute(stmt).rowcount
    user.rotate_session_token()
    log.info("sessions ended user=%s count=%s reason=%s", user.id, count, reason)
    return count


def active_sessions(user: User, timeouts: Timeouts) -> list[UserSession]:
    """The user's sessions still usable now, most recently seen first."""
    now = utcnow()
    stmt = (
        sa.select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.created_at > now - timeouts.absolute,
            UserSession.last_seen_at > now - timeouts.idle,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return list(db.session.scalars(stmt))


def get_own_session_or_404(user: User, session_id: int) -> UserSession:
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound()
    return row
