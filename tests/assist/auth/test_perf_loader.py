"""The one-query user loader (assist/auth/loader.py): fewer statements, the same answers.

The session rules themselves (idle, absolute, ended, rotated token) are tested in
test_sessions.py through the same loader; these tests pin what the single query adds: the
statement count, and the unread count it carries, forgotten as soon as the request writes
notifications.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import g

from assist.auth import loader
from assist.auth.models import UserSession
from assist.extensions import db
from assist.notifications import services as notifications
from assist.notifications.models import Notification
from assist.roles import Role
from tests.assist.reports.test_query_count import count_statements
from tests.factories import make_request, make_user


def _notes(user, n: int) -> None:
    for i in range(n):
        db.session.add(Notification(user=user, message=f"Note {i}", link="/"))
    db.session.flush()


def test_a_signed_in_page_reads_user_session_and_unread_count_in_one_statement(
    app, login_as
) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    _notes(official, 3)
    client = login_as(official)
    assert client.get("/notifications").status_code == 200  # warm: session row created
    with count_statements() as statements:
        page = client.get("/notifications").get_data(as_text=True)
    user_reads = [s for s in statements if "FROM users" in s and "user_sessions" in s]
    assert len(user_reads) == 1
    assert not [s for s in statements if s.lstrip().startswith("SELECT count(notifications")]
    assert ">3<" in page.replace(" ", "").replace("\n", "")  # the badge still shows 3


def test_the_unread_count_is_the_databases_after_the_request_writes_notifications(
    app, login_as
) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    _notes(official, 2)
    client = login_as(official)
    client.get("/notifications")
    with app.test_request_context():
        # What the loader leaves in g, then a write in the same request: the count is asked again.
        setattr(g, loader.UNREAD_KEY, (official.id, 2))
        assert notifications.unread_count(official) == 2
        _notes(official, 1)
        assert loader.prefetched_unread(official) is None
        assert notifications.unread_count(official) == 3
        setattr(g, loader.UNREAD_KEY, (official.id, 3))
        notifications.mark_read(official)
        assert loader.prefetched_unread(official) is None
        assert notifications.unread_count(official) == 0
        # Another user's count is never taken from the signed-in user's.
        other = make_user(Role.CITY_OFFICIAL)
        setattr(g, loader.UNREAD_KEY, (official.id, 5))
        assert notifications.unread_count(other) == 0


def test_ended_idle_and_foreign_sessions_are_refused_by_the_joined_query(app, login_as) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    req = make_request(official.authority, created_by=official)
    client = login_as(official)
    assert client.get(f"/requests/{req.id}").status_code == 200
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == official.id))
    # Idle: last seen longer ago than the idle timeout.
    row.last_seen_at = row.last_seen_at - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.flush()
    assert client.get(f"/requests/{req.id}").status_code == 302
    # A session row of another user never signs this one in.
    other = make_user(Role.CITY_OFFICIAL, authority=official.authority)
    client = login_as(other)
    other_row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == other.id))
    other_row.user_id = official.id  # the token's row now belongs to someone else
    db.session.flush()
    assert client.get(f"/requests/{req.id}").status_code == 302
