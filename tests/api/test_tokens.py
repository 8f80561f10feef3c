"""Token lifecycle: created on the account page or by the CLI, used, revoked, refused."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from assist.api import tokens
from assist.audit import AuditEntry
from assist.auth.models import ApiToken
from assist.extensions import db
from assist.roles import Role
from tests.factories import make_user

SECRET = re.compile(r"pa_[A-Za-z0-9_-]{43}")


def assert_401(response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_account_page_creates_shows_once_and_revokes(app, client, login_as, api) -> None:
    user = make_user(Role.CITY_OFFICIAL)
    login_as(user)
    page = client.get("/account")
    assert page.status_code == 200 and "No tokens yet" in page.get_data(as_text=True)

    created = client.post("/account/tokens", data={"name": "Monthly report"})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    secret = SECRET.search(html).group(0)
    assert "will not be shown again" in html
    assert created.headers["Cache-Control"] == "no-store"
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.name == "Monthly report" and token.prefix == secret[:12]
    assert token.token_hash == tokens.hash_token(secret) and secret not in token.token_hash
    # Shown once: the page lists the prefix afterwards, never the secret.
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again and token.prefix in again

    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("requests", headers=headers).status_code == 200

    assert f'name="token_id" value="{token.id}"' in again
    revoked = client.post("/account/tokens/revoke", data={"token_id": token.id})
    assert revoked.status_code == 302
    assert_401(api.get("requests", headers=headers))
    assert "invalid_token" in api.get("requests", headers=headers).headers["WWW-Authenticate"]
    twice = client.post(
        "/account/tokens/revoke", data={"token_id": token.id}, follow_redirects=True
    )
    assert "already revoked" in twice.get_data(as_text=True)

    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(
            AuditEntry.object_type == "api_tokens", AuditEntry.object_id == token.id
        )
    ).all()
    assert actions == ["create", "revoke"]


def test_account_form_refuses_bad_names(client, login_as) -> None:
    login_as(make_user(Role.STAFF))
    assert client.post("/account/tokens", data={"name": "  "}).status_code == 422
    too_long = client.post("/account/tokens", data={"name": "x" * 101})
    assert too_long.status_code == 422
    assert "under 100 characters" in too_long.get_data(as_text=True)
    assert SECRET.search(too_long.get_data(as_text=True)) is None


def test_cannot_revoke_someone_elses_token(client, login_as) -> None:
    owner = make_user(Role.STAFF)
    token = tokens.create_token(owner, "mine").token
    db.session.flush()
    login_as(make_user(Role.STAFF))
    revoke = "/account/tokens/revoke"
    assert client.post(revoke, data={"token_id": token.id}).status_code == 404
    assert client.post(revoke, data={"token_id": "99999999999999999999"}).status_code == 404
    assert client.post(revoke, data={"token_id": "x"}).status_code == 302
    assert token.revoked_at is None


def test_account_page_needs_sign_in(client) -> None:
    assert client.get("/account").status_code == 302


def test_cli_prints_a_working_token(app, api) -> None:
    user = make_user(Role.STAFF, email="cli@assist.example")
    db.session.flush()
    result = app.test_cli_runner().invoke(
        args=["create-token", "CLI@assist.example", "--name", "nightly export"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert SECRET.fullmatch(secret)
    assert "shown only once" in result.stderr
    assert api.get("experts", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.name == "nightly export"
    unknown = app.test_cli_runner().invoke(args=["create-token", "nobody@assist.example"])
    assert unknown.exit_code != 0 and "No account" in unknown.output


def test_session_cookie_alone_does_not_authenticate(app, client, login_as) -> None:
    user = make_user(Role.STAFF)
    login_as(user)
    assert client.get("/requests/").status_code == 200  # the cookie works on pages
    response = client.get("/api/v1/requests")
    assert_401(response)
    assert "Set-Cookie" not in response.headers
    posted = client.post("/api/v1/requests", json={"title": "x"})
    assert_401(posted)


def test_malformed_unknown_and_inactive_are_refused(api) -> None:
    user = make_user(Role.STAFF)
    secret = api.token(user)
    for header in (
        "",
        "Bearer",
        "Bearer ",
        f"Basic {secret}",
        "Bearer pa_short",
        "Bearer " + "pa_" + "A" * 43,
        f"Bearer {secret}x",
        "Bearer " + "é" * 50,
    ):
        assert_401(api.get("requests", headers={"Authorization": header} if header else {}))
    assert api.get("requests", headers={"Authorization": f"bearer {secret}"}).status_code == 200
    user.is_active_account = False
    db.session.flush()
    assert_401(api.get("requests", user))


def test_last_used_is_written_at_most_once_a_minute(api) -> None:
    user = make_user(Role.STAFF)
    secret = api.token(user)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.last_used_at is None
    first = tokens.authenticate_token(secret)
    assert first == user and token.last_used_at is not None
    stamp = token.last_used_at
    tokens.authenticate_token(secret, now=stamp + timedelta(seconds=30))
    assert token.last_used_at == stamp
    later = stamp + timedelta(seconds=61)
    tokens.authenticate_token(secret, now=later)
    assert token.last_used_at == later


def test_api_call_records_last_use(api) -> None:
    user = make_user(Role.STAFF)
    api.get("experts", user)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    db.session.refresh(token)
    assert token.last_used_at is not None
