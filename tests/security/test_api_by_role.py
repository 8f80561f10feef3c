"""The JSON API per role, derived from the URL map (tests/api has the tenant sweep by id).

Adds: every route needs a live bearer token (a session cookie, a revoked token, a deactivated
owner's token are all 401); Efus-only routes refuse the request's own city and the engaged
expert; list endpoints never carry another tenant's objects.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.api import tokens
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.roles import Role
from tests.api.test_tenant_isolation import SECRET, url_and_body
from tests.factories import make_user

PUBLIC = {"api.openapi"}
#: Efus staff and administrators only.
STAFF_ONLY = {"api.reports_summary", "api.request_matches", "api.propose_engagement"}
#: Any role with a token; objects scoped by policy (tests/api/test_tenant_isolation.py).
ANY_ROLE = {
    "api.list_requests",
    "api.create_request",
    "api.get_request",
    "api.update_request",
    "api.transition_request",
    "api.request_history",
    "api.list_engagements",
    "api.get_engagement",
    "api.transition_engagement",
    "api.rate_engagement",
    "api.engagement_history",
    "api.list_activities",
    "api.plan_activity",
    "api.get_activity",
    "api.transition_activity",
    "api.list_experts",
}


def api_rules(app) -> list:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


def calls(app, ids, bodies):
    for rule in api_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url, body = url_and_body(rule, method, ids, bodies)
            yield rule, method, url, body


@pytest.fixture
def setup(api_world):
    ids, bodies, outsiders, staff, objects = api_world
    bodies = {**bodies, "RequestCreate": {"title": "x"}}
    users = {
        "official of the authority": ids["request_id"][1],
        "expert of the organisation": ids["engagement_id"][1],
        "staff": staff,
        "admin": make_user(Role.ADMIN),
        **outsiders,
    }
    return ids, bodies, users, objects


def test_every_api_route_is_classified(app) -> None:
    endpoints = {r.endpoint for r in api_rules(app)}
    assert endpoints == PUBLIC | STAFF_ONLY | ANY_ROLE, endpoints ^ (PUBLIC | STAFF_ONLY | ANY_ROLE)
    assert not (PUBLIC & STAFF_ONLY or PUBLIC & ANY_ROLE or STAFF_ONLY & ANY_ROLE)


def _bad_credentials(api, users) -> dict[str, dict[str, str]]:
    owner = users["official of the authority"]
    revoked = tokens.create_token(owner, "revoked")
    tokens.revoke_token(revoked.token, owner)
    inactive_user = make_user(Role.STAFF)
    inactive = tokens.create_token(inactive_user, "inactive owner")
    inactive_user.is_active_account = False
    db.session.flush()
    live = api.token(owner)
    return {
        "no header": {},
        "empty bearer": {"Authorization": "Bearer "},
        "unknown token": {"Authorization": "Bearer pa_" + "A" * 43},
        "malformed token": {"Authorization": "Bearer ' OR 1=1 --"},
        "token in another scheme": {"Authorization": f"Basic {live}"},
        "token without scheme": {"Authorization": live},
        "revoked token": {"Authorization": f"Bearer {revoked.secret}"},
        "deactivated owner": {"Authorization": f"Bearer {inactive.secret}"},
    }


def test_every_api_route_needs_a_live_token(app, api, setup) -> None:
    ids, bodies, users, _ = setup
    credentials = _bad_credentials(api, users)
    swept = 0
    for rule, method, url, body in calls(app, ids, bodies):
        if rule.endpoint in PUBLIC:
            continue
        for name, headers in credentials.items():
            response = api(method, url, json=body, headers=headers)
            assert response.status_code == 401, (name, method, rule.rule, response.status_code)
            assert response.mimetype == "application/json"
            assert response.get_json()["error"]["code"] == "unauthenticated", response.get_json()
            assert SECRET not in response.get_data(as_text=True)
            swept += 1
    assert swept >= 19 * len(credentials)


def test_a_signed_in_session_cookie_does_not_authenticate_the_api(
    app, client, login_as, setup
) -> None:
    ids, bodies, users, _ = setup
    login_as(users["staff"])
    assert client.get("/reports/").status_code == 200  # the cookie works on pages
    for rule, method, url, body in calls(app, ids, bodies):
        if rule.endpoint in PUBLIC:
            continue
        response = client.open(url, method=method, json=body)
        assert response.status_code == 401, (method, rule.rule, response.status_code)


@pytest.mark.parametrize(
    "role",
    [
        "official of the authority",
        "expert of the organisation",
        "official of another authority",
        "expert of another organisation",
    ],
)
def test_staff_only_api_routes_refuse_officials_and_experts(app, api, setup, role) -> None:
    ids, bodies, users, (req, _, _) = setup
    before = (req.version, db.session.scalar(sa.select(sa.func.count()).select_from(Engagement)))
    swept = 0
    for rule, method, url, body in calls(app, ids, bodies):
        if rule.endpoint not in STAFF_ONLY:
            continue
        response = api(method, url, users[role], json=body)
        assert response.status_code in (403, 404), (role, method, rule.rule, response.status_code)
        assert response.get_json()["error"]["code"] in ("forbidden", "not_found")
        assert "score" not in response.get_data(as_text=True)
        swept += 1
    assert swept == len(STAFF_ONLY)
    db.session.refresh(req)
    after = (req.version, db.session.scalar(sa.select(sa.func.count()).select_from(Engagement)))
    assert after == before


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_reach_the_staff_only_reads(app, api, setup, role) -> None:
    ids, bodies, users, _ = setup
    for rule, method, url, _body in calls(app, ids, bodies):
        if rule.endpoint in STAFF_ONLY and method == "GET":
            response = api.get(url, users[role])
            assert response.status_code == 200, (rule.rule, response.get_json())


@pytest.mark.parametrize(
    "role", ["official of another authority", "expert of another organisation"]
)
def test_api_lists_never_carry_another_tenants_objects(app, api, setup, role) -> None:
    ids, _, users, _ = setup
    for path in ("requests", "engagements", "experts"):
        response = api.get(f"{path}?per_page=100", users[role])
        if response.status_code == 403:  # an expert has no request list
            continue
        assert response.status_code == 200, (path, response.get_json())
        listed = {item["id"] for item in response.get_json()["items"]}
        if path == "requests":
            assert ids["request_id"][0] not in listed
        if path == "engagements":
            assert ids["engagement_id"][0] not in listed
        if path == "experts" and users[role].role == Role.EXPERT:
            assert listed == {users[role].organisation_id}
        if path != "experts":  # a city sees active organisations' public profiles by design
            assert SECRET not in response.get_data(as_text=True)
