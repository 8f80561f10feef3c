"""CSRF is on for every state-changing form: without the token, nothing changes."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.conftest import IsolatedClient
from tests.factories import make_request, make_user


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = IsolatedClient(app, app.response_class, use_cookies=True)
    yield client
    app.config["WTF_CSRF_ENABLED"] = False


def sign_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token


def state_changing_rules(app):
    """Every form-posting route; the JSON API authenticates by bearer token instead."""
    return [
        r
        for r in app.url_map.iter_rules()
        if r.methods & {"POST", "PUT", "PATCH", "DELETE"} and not r.rule.startswith("/api/")
    ]


def test_every_post_route_refuses_a_missing_token(app, csrf_client) -> None:
    req = make_request(status=RequestStatus.SUBMITTED)
    admin = make_user(Role.ADMIN)
    values = {
        "request_id": req.id,
        "org_id": 1,
        "authority_id": req.authority_id,
        "user_id": admin.id,
        "action": "withdraw",
        # Routes with ids of other objects: the CSRF check runs before any lookup.
        "notification_id": 1,
        "engagement_id": 1,
        "conflict_id": 1,
        "token_id": 1,
        "activity_id": 1,
        "attachment_id": 1,
    }
    rules = state_changing_rules(app)
    assert len(rules) >= 8
    for rule in rules:
        sign_in(csrf_client, req.created_by if rule.rule.startswith("/requests") else admin)
        url = rule.build(values, append_unknown=False)[1]
        response = csrf_client.post(
            url, data={"title": "x", "comment": "x", "email": "a@b.c", "password": "x"}
        )
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert "security token" in response.get_data(as_text=True)
    db.session.refresh(req)
    assert req.status == RequestStatus.SUBMITTED


def test_a_valid_token_is_accepted(app, csrf_client) -> None:
    official = make_user()
    sign_in(csrf_client, official)
    page = csrf_client.get("/requests/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = csrf_client.post(
        "/requests/new", data={"csrf_token": token, "title": "With token", "save": "1"}
    )
    assert response.status_code == 302
    assert db.session.scalar(
        sa.select(AssistanceRequest.title).where(AssistanceRequest.title == "With token")
    )
