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
from assist.auth import second_factor as mfa
from assist.auth.models import UserSession
from assist.extensions import db
from assist.notifications import services as notifications
from assist.notifications.models import Notification
from assist.roles import Role
from tests.assist.auth.conftest import password_step
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


# --- the role policy (second factor required?) read with the user ----------------------------


def _policy(role: Role, required: bool) -> None:
    from assist.auth.models import RolePolicy

    row = db.session.scalar(sa.select(RolePolicy).where(RolePolicy.role == role))
    if row is None:
        db.session.add(RolePolicy(role=role, require_second_factor=required))
    else:
        row.require_second_factor = required
    db.session.flush()


def test_an_officials_page_asks_no_separate_role_policy_question(app) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    client = app.test_client()
    password_step(client, official.email)  # no second factor: every page asks the policy
    assert client.get("/requests/").status_code == 200
    with count_statements() as statements:
        assert client.get("/requests/").status_code == 200
    policy_reads = [s for s in statements if "role_policies" in s]
    assert len(policy_reads) == 1
    assert "FROM users" in policy_reads[0] and "user_sessions" in policy_reads[0]


def test_the_policy_read_with_the_user_gives_the_same_answers(app) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    official_client = app.test_client()
    password_step(official_client, official.email)  # a password-only session
    assert official_client.get("/requests/").status_code == 200
    _policy(Role.CITY_OFFICIAL, True)
    # Required for officials: the official's page sends them to set-up.
    assert official_client.get("/requests/").location.endswith("/account/2fa")
    # No policy row at all counts as "not required", as before.
    from assist.auth.models import RolePolicy

    db.session.execute(sa.delete(RolePolicy).where(RolePolicy.role == Role.CITY_OFFICIAL))
    assert official_client.get("/requests/").status_code == 200


def test_a_policy_written_in_the_request_is_read_again(app) -> None:
    admin = make_user(Role.ADMIN)
    _policy(Role.CITY_OFFICIAL, False)
    with app.test_request_context():
        setattr(g, loader.ROLE_POLICY_KEY, (Role.CITY_OFFICIAL, False))
        assert mfa.role_requires_second_factor(Role.CITY_OFFICIAL) is False
        assert mfa.set_role_requirement(admin, Role.CITY_OFFICIAL, True)
        assert loader.prefetched_role_policy(Role.CITY_OFFICIAL) is None
        assert mfa.role_requires_second_factor(Role.CITY_OFFICIAL) is True
        # A flush or a bulk update of role policies forgets it too.
        setattr(g, loader.ROLE_POLICY_KEY, (Role.CITY_OFFICIAL, True))
        _policy(Role.CITY_OFFICIAL, False)
        assert loader.prefetched_role_policy(Role.CITY_OFFICIAL) is None
        setattr(g, loader.ROLE_POLICY_KEY, (Role.CITY_OFFICIAL, False))
        from assist.auth.models import RolePolicy

        db.session.execute(sa.update(RolePolicy).values(require_second_factor=True))
        assert loader.prefetched_role_policy(Role.CITY_OFFICIAL) is None
        assert mfa.role_requires_second_factor(Role.CITY_OFFICIAL) is True


def test_another_roles_policy_is_never_taken_from_the_users(app) -> None:
    _policy(Role.EXPERT, True)
    with app.test_request_context():
        setattr(g, loader.ROLE_POLICY_KEY, (Role.CITY_OFFICIAL, False))
        assert loader.prefetched_role_policy(Role.EXPERT) is None
        assert mfa.role_requires_second_factor(Role.EXPERT) is True
        # Staff and administrators always need one, whatever was read.
        setattr(g, loader.ROLE_POLICY_KEY, (Role.STAFF, False))
        assert mfa.role_requires_second_factor(Role.STAFF) is True
