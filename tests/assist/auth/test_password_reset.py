"""Forgotten password: one answer whoever asks, a single-use link through the outbox, and clear
refusals for expired, reused and tampered links."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assist.audit import AuditEntry
from assist.auth.models import PasswordResetToken
from assist.db import utcnow
from assist.extensions import db
from assist.roles import Role
from tests.assist.auth.conftest import (
    audit_actions,
    code_at,
    enrolled,
    link_token,
    outbox_to,
    password_step,
)
from tests.factories import make_user

NEW_PASSWORD = "a brand new passphrase"
CSRF_VALUE = re.compile(rb'(?<=name="csrf_token" )value="[^"]*"')


def ask(client, email: str):
    return client.post("/forgot-password", data={"email": email})


def answer_sentence(response) -> str:
    match = re.search(r'<div[^>]*id="reset-sent"[^>]*>(.*?)</div>', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def reset(client, token: str, password: str = NEW_PASSWORD):
    return client.post(
        "/reset-password", data={"token": token, "password": password, "confirm": password}
    )


@pytest.fixture(autouse=True)
def _fast_answers(app):
    """The timing floor only matters in the test about it."""
    saved = app.config["FORGOT_PASSWORD_MIN_SECONDS"]
    app.config["FORGOT_PASSWORD_MIN_SECONDS"] = 0.0
    yield
    app.config["FORGOT_PASSWORD_MIN_SECONDS"] = saved


def test_the_answer_never_tells_whether_an_account_exists(app, client) -> None:
    app.config["FORGOT_PASSWORD_MIN_SECONDS"] = 0.2
    user = make_user()
    inactive = make_user(is_active_account=False)
    entries_before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    answers, bodies, durations = [], [], []
    for email in (user.email, "nobody@assist.example", inactive.email, user.email.upper()):
        started = time.monotonic()
        response = ask(client, email)
        durations.append(time.monotonic() - started)
        assert response.status_code == 200
        answers.append(answer_sentence(response))
        bodies.append(CSRF_VALUE.sub(b'value="csrf"', response.get_data()))
    assert len(set(answers)) == 1
    # The whole page, byte for byte, but for the time-stamped CSRF token (the language
    # switcher's, on every page), which changes with the second the page is drawn in.
    assert len(set(bodies)) == 1
    # Every answer waits at least the configured floor, found or not.
    assert min(durations) >= 0.2
    assert len(outbox_to(user.email)) == 2
    assert outbox_to("nobody@assist.example") == [] and outbox_to(inactive.email) == []
    # No audit row reveals a lookup either.
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries_before


def test_reset_link_works_once_and_ends_every_session(app, client) -> None:
    user = make_user()
    signed_in = app.test_client()
    password_step(signed_in, user.email)
    ask(client, user.email)
    (email,) = outbox_to(user.email)
    assert email.notification_id is None and email.subject.endswith("Reset your password")
    assert f"{app.config['PUBLIC_URL']}/reset-password?token=" in email.body
    token = link_token(email, "/reset-password")
    # Only a hash is stored.
    assert (
        db.session.scalar(
            sa.select(PasswordResetToken.id).where(PasswordResetToken.token_hash == token)
        )
        is None
    )
    form = client.get(f"/reset-password?token={token}")
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    short = reset(client, token, "short")
    assert short.status_code == 422 and "at least 12" in short.get_data(as_text=True)
    assert reset(client, token).status_code == 302
    assert signed_in.get("/requests/").status_code == 302
    assert password_step(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert "password_reset" in audit_actions(user)

    reused = reset(client, token, "yet another passphrase")
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)
    assert "already been used" in client.get(f"/reset-password?token={token}").get_data(
        as_text=True
    )


def test_expired_link_is_refused(app, client) -> None:
    user = make_user()
    ask(client, user.email)
    token = link_token(outbox_to(user.email)[0], "/reset-password")
    row = db.session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.user_id == user.id)
    )
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    for response in (client.get(f"/reset-password?token={token}"), reset(client, token)):
        assert response.status_code == 400
        assert "has expired" in response.get_data(as_text=True)
    assert password_step(app.test_client(), user.email, NEW_PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:10],
        lambda t: "",
        lambda t: "x" * 500,
    ],
)
def test_tampered_link_is_refused(app, client, tamper) -> None:
    user = make_user()
    ask(client, user.email)
    token = tamper(link_token(outbox_to(user.email)[0], "/reset-password"))
    for response in (
        client.get("/reset-password", query_string={"token": token}),
        reset(client, token),
    ):
        assert response.status_code == 400
        assert "not valid" in response.get_data(as_text=True)


def test_a_new_password_elsewhere_voids_pending_links(app, client, login_as) -> None:
    user = make_user()
    ask(client, user.email)
    token = link_token(outbox_to(user.email)[0], "/reset-password")
    mine = login_as(user)
    mine.post(
        "/account/password",
        data={
            "current_password": "correct horse battery staple",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert reset(app.test_client(), token, "another new passphrase").status_code == 400


def test_reset_keeps_the_second_factor(app, client) -> None:
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    ask(client, user.email)
    reset(client, link_token(outbox_to(user.email)[0], "/reset-password"))
    fresh = app.test_client()
    assert password_step(fresh, user.email, NEW_PASSWORD).location.endswith("/login/code")
    assert fresh.post("/login/code", data={"code": code_at(secret)}).status_code == 302
