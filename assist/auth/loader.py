"""Flask-Login's user loader: the user and this browser's session row in one query.

It does what ``assist.auth.views.load_user`` did, with the same outcome in every case, but a
signed-in page costs one round trip to the database instead of four: the user, the session row
(``user_sessions`` joined on its token hash), the user's authority or organisation (every page
names it in the navigation bar) and the number of unread notifications (every page shows it)
come back together. The checks are the same, on the same rows: nothing is cached between
requests, so an ended, idle or expired session, a deactivated account or a rotated
``session_token`` is refused on the very next request, whichever worker serves it.

The unread count is kept for this request only (``flask.g``) and forgotten as soon as the
request writes notifications (a flush of a ``Notification``, or a bulk UPDATE or DELETE of them),
so ``unread_count`` then asks the database again, as it always did.

The same query reads whether the user's role requires a second factor (``role_policies``), which
every page of a city official or an expert asks before it answers; kept for this request only,
and forgotten as soon as the request writes a role policy.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context, request, session
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, contains_eager

from assist.auth import sessions as user_sessions
from assist.auth.models import RolePolicy, User, UserSession
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.extensions import db
from assist.notifications.models import Notification
from assist.roles import Role

#: ``flask.g`` key: (user id, unread notifications) read with the user.
UNREAD_KEY = "_unread_notifications"
#: ``flask.g`` key: (role, whether the role policy requires a second factor) read with the user.
ROLE_POLICY_KEY = "_role_requires_second_factor"


@cache
def _user_and_session_statement() -> sa.Select[Any]:
    """Built once per process (only the two tokens vary, as bound parameters): building this
    statement cost more than running it, and every signed-in request runs it."""
    unread = (
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    policy = (
        sa.select(RolePolicy.require_second_factor)
        .where(RolePolicy.role == User.role)
        .correlate(User)
        .scalar_subquery()
    )
    return (
        sa.select(User, UserSession, unread, policy)
        .outerjoin(LocalAuthority, LocalAuthority.id == User.authority_id)
        .outerjoin(ExpertOrganisation, ExpertOrganisation.id == User.organisation_id)
        .outerjoin(
            UserSession,
            sa.and_(
                UserSession.token_hash == sa.bindparam("token_hash"),
                UserSession.user_id == User.id,
            ),
        )
        .where(User.session_token == sa.bindparam("session_token"))
        .options(
            contains_eager(User.authority.of_type(LocalAuthority)),
            contains_eager(User.organisation.of_type(ExpertOrganisation)),
        )
    )


def _user_and_session(
    session_token: str, raw: str
) -> tuple[User | None, UserSession | None, int, bool]:
    """The user whose ``session_token`` this is, with the session row whose hash matches ``raw``
    (None when there is no such row for this user), the user's authority and organisation, the
    user's unread notifications, and whether the role policy requires a second factor."""
    row = db.session.execute(
        _user_and_session_statement(),
        {"session_token": session_token, "token_hash": user_sessions.hash_token(raw)},
    ).first()
    if row is None:
        return None, None, 0, False
    return row[0], row[1], int(row[2] or 0), bool(row[3])


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
    user, row, unread, policy = _user_and_session(session_token, str(raw))
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
    setattr(g, UNREAD_KEY, (user.id, unread))
    setattr(g, ROLE_POLICY_KEY, (user.role, policy))
    return user


def prefetched_unread(user: User) -> int | None:
    """The unread count read with ``user`` in this request, if nothing has changed it since."""
    if not has_app_context():
        return None
    known = g.get(UNREAD_KEY)
    if known is None or known[0] != user.id:
        return None
    return int(known[1])


def prefetched_role_policy(role: Role) -> bool | None:
    """Whether ``role``'s policy requires a second factor, as read with the user in this
    request, if it is that user's role and no role policy was written since."""
    if not has_app_context():
        return None
    known = g.get(ROLE_POLICY_KEY)
    if known is None or known[0] != role:
        return None
    return bool(known[1])


def _forget_unread() -> None:
    if has_app_context():
        g.pop(UNREAD_KEY, None)


def forget_role_policy() -> None:
    if has_app_context():
        g.pop(ROLE_POLICY_KEY, None)


@event.listens_for(Session, "after_flush")
def _notifications_flushed(session: Session, flush_context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, Notification) for obj in changed):
        _forget_unread()
    if any(isinstance(obj, RolePolicy) for obj in changed):
        forget_role_policy()


@event.listens_for(Session, "do_orm_execute")
def _notifications_updated(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete:
        classes = {m.class_ for m in state.all_mappers}
        if Notification in classes:
            _forget_unread()
        if RolePolicy in classes:
            forget_role_policy()
