"""CSRF on every state-changing form, for every role, with the token missing, forged, or taken
from another user's session; the public forms (sign-in, reset, invitation) too. Nothing changes.

tests/assist/test_csrf.py proves a missing token is refused for one user per route; this sweeps
the real objects of the tenant world, signed in with a full session (second factor passed), so a
refused form would otherwise have reached its handler.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assist.auth.sessions import start_session
from assist.extensions import db
from assist.roles import Role
from tests.assist.test_csrf import state_changing_rules
from tests.factories import make_user
from tests.security.test_access_by_role import url

FORM = {
    "title": "Forged",
    "comment": "Forged",
    "reason": "Forged",
    "name": "Forged",
    "email": "forged@assist.example",
    "password": "a forged password 123",
    "code": "123456",
    "rating": "5",
}
#: Rows that reading a page may add or touch: the browser's own session row.
UNCOUNTED = {"user_sessions"}


def sign_in(client, user) -> None:
    _, token = start_session(user, user_agent="pytest", second_factor=True)
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
        session["_sid"] = token
        session["_fresh"] = True


def token_of(client, page: str = "/account") -> str:
    html = client.get(page).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, page
    return match.group(1)


def snapshot() -> dict[str, int]:
    tables = db.metadata.sorted_tables
    return {
        t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in tables
        if t.name not in UNCOUNTED
    }


@pytest.fixture
def other_browser(app):
    """Another signed-in browser whose valid token the forger replays."""
    from tests.conftest import IsolatedClient

    client = IsolatedClient(app, app.response_class, use_cookies=True)
    sign_in(client, make_user(Role.STAFF))
    return client


@pytest.mark.parametrize(
    "role", ["official of the authority", "expert of the organisation", "staff", "admin"]
)
def test_every_state_changing_form_refuses_a_bad_token(
    app, csrf_client, other_browser, world, role
) -> None:
    ids, _, admin = world
    user = {
        "official of the authority": ids["request_id"][1],
        "expert of the organisation": ids["engagement_id"][1],
        "staff": make_user(Role.STAFF),
        "admin": admin,
    }[role]
    sign_in(csrf_client, user)
    stolen = token_of(other_browser)
    variants = {"missing": None, "forged": "IjEyMyI.forged.token", "another session's": stolen}
    before = snapshot()
    rules = state_changing_rules(app)
    assert len(rules) >= 30
    for rule in rules:
        target = url(app, rule, ids)
        for name, token in variants.items():
            data = FORM if token is None else {**FORM, "csrf_token": token}
            response = csrf_client.post(target, data=data, buffered=True)
            assert response.status_code == 400, (role, name, rule.rule, response.status_code)
            assert "security token" in response.get_data(as_text=True), (name, rule.rule)
            # The header some scripts send instead is checked just the same.
            if token is not None:
                response = csrf_client.post(
                    target, data=FORM, headers={"X-CSRFToken": token}, buffered=True
                )
                assert response.status_code == 400, (role, name, rule.rule, "header")
    assert snapshot() == before


def test_the_public_forms_need_a_token_too(app, csrf_client) -> None:
    """Sign-in, the code step, reset and invitation pages: no login CSRF, no forced reset."""
    user = make_user(Role.CITY_OFFICIAL)
    before = snapshot()
    for path in ("/login", "/login/code", "/forgot-password", "/reset-password", "/invitation"):
        response = csrf_client.post(
            path, data={**FORM, "email": user.email, "password": "correct horse battery staple"}
        )
        assert response.status_code == 400, (path, response.status_code)
        with csrf_client.session_transaction() as session:
            assert "_user_id" not in session, path
    assert snapshot() == before


def test_a_token_taken_from_the_page_is_accepted(app, csrf_client, world) -> None:
    """Guards the sweep: with the page's own token the same post goes through."""
    ids, _, _ = world
    owner = ids["request_id"][1]
    sign_in(csrf_client, owner)
    token = token_of(csrf_client, f"/requests/{ids['request_id'][0]}")
    response = csrf_client.post(
        f"/requests/{ids['request_id'][0]}/transitions/withdraw",
        data={"csrf_token": token, "comment": "Not needed any more."},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
