"""Server-side sessions: sign-out kills a copied cookie, a password change or a deactivation
ends the other sessions, idle and absolute timeouts, the list of sessions and ending one."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from assist.auth.models import UserSession
from assist.auth.sessions import describe_user_agent, ip_prefix
from assist.db import utcnow
from assist.extensions import db
from assist.roles import Role
from tests.assist.auth.conftest import audit_actions, code_at, enrolled, password_step
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "a completely new passphrase"


def rows(user) -> list[UserSession]:
    return list(
        db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def copy_cookie(app, client):
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_cookie_captured_before_sign_out_is_refused_after(app, client) -> None:
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    password_step(client, user.email)
    client.post("/login/code", data={"code": code_at(secret)})
    assert client.get("/requests/").status_code == 200
    thief = copy_cookie(app, client)
    assert thief.get("/requests/").status_code == 200  # the copy works while signed in
    client.post("/logout")
    response = thief.get("/requests/")
    assert response.status_code == 302 and "/login" in response.location
    (row,) = rows(user)
    assert row.ended_at is not None and row.end_reason == "sign_out"
    assert audit_actions(user)[-1] == "sign_out"


def test_sign_out_here_leaves_other_devices_signed_in(app, client) -> None:
    user = make_user()
    laptop, phone = app.test_client(), app.test_client()
    password_step(laptop, user.email)
    password_step(phone, user.email)
    laptop.post("/logout")
    assert laptop.get("/requests/").status_code == 302
    assert phone.get("/requests/").status_code == 200


def test_password_change_ends_other_sessions_and_keeps_this_one(app) -> None:
    user = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    password_step(here, user.email)
    password_step(elsewhere, user.email)
    stolen = copy_cookie(app, here)
    refused = here.post(
        "/account/password",
        data={
            "current_password": "wrong one!!!!",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert refused.status_code == 422 and "not your current password" in refused.get_data(
        as_text=True
    )
    response = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/requests/").status_code == 200
    assert elsewhere.get("/requests/").status_code == 302
    # A copy of this browser's cookie taken before the change carries the old token: refused.
    assert stolen.get("/requests/").status_code == 302
    assert "password_changed" in audit_actions(user)
    assert password_step(app.test_client(), user.email, NEW_PASSWORD).status_code == 302


def test_admin_deactivation_ends_every_session(app, login_as) -> None:
    user = make_user()
    theirs = app.test_client()
    password_step(theirs, user.email)
    admin_client = login_as(make_user(Role.ADMIN))
    form = {
        "email": user.email,
        "name": user.name,
        "role": "city_official",
        "authority_id": str(user.authority_id),
        "organisation_id": "",
        "password": "",
    }  # "is_active" left out: unticked
    assert admin_client.post(f"/admin/users/{user.id}/edit", data=form).status_code == 302
    assert theirs.get("/requests/").status_code == 302
    assert all(r.ended_at is not None for r in rows(user))
    assert "deactivated" in audit_actions(user)


def test_idle_timeout_is_enforced_on_the_server(app, client) -> None:
    user = make_user()
    password_step(client, user.email)
    (row,) = rows(user)
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    db.session.flush()
    response = client.get("/requests/")
    assert response.status_code == 302 and "/login" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "without activity" in page
    db.session.refresh(row)
    assert row.end_reason == "idle"


def test_absolute_timeout_even_when_active(app, client) -> None:
    user = make_user()
    password_step(client, user.email)
    (row,) = rows(user)
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], seconds=1)
    db.session.flush()
    assert client.get("/requests/").status_code == 302
    db.session.refresh(row)
    assert row.end_reason == "expired"


def test_activity_is_recorded_at_most_once_a_minute(app, client) -> None:
    user = make_user()
    password_step(client, user.email)
    (row,) = rows(user)
    first = row.last_seen_at
    client.get("/requests/")
    db.session.refresh(row)
    assert row.last_seen_at == first
    row.last_seen_at = first - timedelta(minutes=5)
    db.session.flush()
    client.get("/requests/")
    db.session.refresh(row)
    assert row.last_seen_at > first - timedelta(minutes=5)


FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)


def test_sessions_page_lists_devices_and_ends_one(app) -> None:
    user = make_user()
    firefox, phone = app.test_client(), app.test_client()
    firefox.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    phone.environ_base["HTTP_USER_AGENT"] = CHROME_ANDROID
    password_step(firefox, user.email)
    password_step(phone, user.email)
    page = firefox.get("/account/security").get_data(as_text=True)
    assert "Firefox on Windows" in page and "Chrome on Android" in page and "This session" in page
    phone_row = next(r for r in rows(user) if r.user_agent == "Chrome on Android")
    response = firefox.post("/account/sessions/end", data={"session_id": phone_row.id})
    assert response.status_code == 302
    assert phone.get("/requests/").status_code == 302
    assert firefox.get("/requests/").status_code == 200


def test_another_users_session_cannot_be_ended(app, login_as) -> None:
    victim = make_user()
    theirs = app.test_client()
    password_step(theirs, victim.email)
    (row,) = rows(victim)
    attacker = login_as(make_user())
    assert attacker.post("/account/sessions/end", data={"session_id": row.id}).status_code == 404
    assert theirs.get("/requests/").status_code == 200


def test_sign_out_everywhere_else(app) -> None:
    user = make_user()
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        password_step(c, user.email)
    assert clients[0].post("/account/sessions/end-others").status_code == 302
    assert [c.get("/requests/").status_code for c in clients] == [200, 302, 302]


def test_a_cookie_without_a_session_row_gets_one(app, client) -> None:
    """Only the server can mint such a cookie; it is bound to a row on first use like any other."""
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
    assert client.get("/requests/").status_code == 200
    (row,) = rows(user)
    assert row.second_factor_at is None and row.ended_at is None
    with client.session_transaction() as session:
        assert session["_sid"]


def test_unknown_session_token_is_refused(app, client) -> None:
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
        session["_sid"] = "forged"
    assert client.get("/requests/").status_code == 302


def test_ping_keeps_the_session_alive_and_body_carries_the_idle_time(app, client) -> None:
    user = make_user()
    password_step(client, user.email)
    page = client.get("/requests/").get_data(as_text=True)
    assert f'data-idle-seconds="{app.config["SESSION_IDLE_MINUTES"] * 60}"' in page
    assert "js/session.js" in page
    ping = client.get("/account/session/ping")
    assert ping.status_code == 200 and ping.json["idle_seconds"] == 1800


def test_remember_me_is_not_offered_and_its_cookie_would_be_strict(app, client) -> None:
    assert "remember" not in client.get("/login").get_data(as_text=True).lower()
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_SAMESITE"]
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=1)


def test_device_description_keeps_only_browser_and_system() -> None:
    ua = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
    )
    assert describe_user_agent(ua) == "Safari on macOS"
    assert describe_user_agent("curl/8.0") == "Unknown browser"
    assert describe_user_agent("x" * 5000) == "Unknown browser"
    assert ip_prefix("203.0.113.77") == "203.0.113.0/24"
    assert ip_prefix("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert ip_prefix("not an ip") == ""
