"""Flask-Login's user loader: the user and this browser's session row in one query.

It does what ``assist.auth.views.load_user`` did, with the same outcome in every case, but a
signed-in page costs one round trip to the database instead of three: the user, the session row
(``user_sessions`` joined on its token hash) and the user's authority or organisation (every page
names it in the navigation bar) come back together. The checks are the same, on the same rows:
nothing is cached between requests, so an ended, idle or expired session, a deactivated account
or a rotated ``session_token`` is refused on the very next request, whichever worker serves it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, request, session
from sqlalchemy.orm import contains_eager

from assist.auth import sessions as user_sessions
from assist.auth.models import User, UserSession
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.extensions import db


def _user_and_session(session_token: str, raw: str) -> tuple[User | None, UserSession | None]:
    """The user whose ``session_token`` this is, with the session row whose hash matches ``raw``
    (None when there is no such row for this user), and the user's authority and organisation."""
    stmt = (
        sa.select(User, UserSession)
        .outerjoin(LocalAuthority, LocalAuthority.id == User.authority_id)
        .outerjoin(ExpertOrganisation, ExpertOrganisation.id == User.organisation_id)
        .outerjoin(
            UserSession,
            sa.and_(
                UserSession.token_hash == user_sessions.hash_token(raw),
                UserSession.user_id == User.id,
            ),
        )
        .where(User.session_token == session_token)
        .options(
            contains_eager(User.authority.of_type(LocalAuthority)),
            contains_eager(User.organisation.of_type(ExpertOrganisation)),
        )
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None, None
    return row[0], row[1]


def load_user(session_token: str) -> User | None:
    """The user, only while this browser's session row is usable (see ``assist/auth/views.py``
    for the cookie's keys and ``assist/auth/sessions.py`` for the timeouts)."""
    from assist.auth.views import SESSION_KEY, _forget, timeouts

    raw = session.get(SESSION_KEY)
    if not raw:
        user = db.session.scalar(sa.select(User).where(User.session_token == session_token))
        if user is None or not user.is_active:
            _forget(session)
            return None
        # A cookie with the user's current token but no session row: the server minted it
        # without one (a test sign-in, or login_user called elsewhere). It gets its own row now,
        # password level only, so timeouts and ending apply to it like to any other.
        row, token = user_sessions.start_session(
            user, user_agent=request.user_agent.string, address=request.remote_addr
        )
        session[SESSION_KEY] = token
        g.user_session, g.user_session_dirty = row, True
        return user
    user, row = _user_and_session(session_token, str(raw))
    if user is None or not user.is_active:
        _forget(session)
        return None
    reason = user_sessions.expiry_reason(row, timeouts()) if row is not None else "unknown"
    if reason:
        if row is not None and row.ended_at is None:
            user_sessions.end_session(row, reason)
            g.user_session_dirty = True
        g.session_end_reason = reason
        _forget(session)
        return None
    g.user_session = row
    return user
