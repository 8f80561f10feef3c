"""Every state-changing account route has CSRF protection and a rate limit, and the limits are
counted in shared storage (Redis), so several workers count together."""

from __future__ import annotations

import re

import redis
from flask_limiter.util import get_qualified_name

from assist.auth.sessions import start_session
from assist.extensions import limiter
from assist.roles import Role
from tests.assist.auth.conftest import code_at, enrolled, outbox_to, password_step
from tests.conftest import TEST_REDIS_URL, IsolatedClient, require
from tests.factories import make_user

ACCOUNT_PREFIXES = (
    "/login",
    "/logout",
    "/account/",
    "/forgot-password",
    "/reset-password",
    "/invitation",
    "/admin/users",
    "/admin/security",
)


def account_post_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("auth.") and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    ]


def test_the_account_routes_are_all_in_the_auth_blueprint(app) -> None:
    """So the two checks below, which walk the auth blueprint, see every account route."""
    stray = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(ACCOUNT_PREFIXES)
        and not rule.endpoint.startswith("auth.")
        and rule.methods & {"POST"}
        and not rule.rule.startswith("/account/tokens")  # API tokens: the API's own page
    ]
    assert stray == []


def test_every_state_changing_account_route_has_a_rate_limit(app) -> None:
    rules = account_post_rules(app)
    assert len(rules) >= 15
    unlimited = [
        rule.rule
        for rule in rules
        if not limiter.limit_manager.decorated_limits(
            get_qualified_name(app.view_functions[rule.endpoint])
        )
    ]
    assert unlimited == []


def test_every_state_changing_account_route_needs_the_csrf_token(app) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        admin = make_user(Role.ADMIN)
        for rule in account_post_rules(app):
            client = IsolatedClient(app, app.response_class, use_cookies=True)
            _, token = start_session(admin, second_factor=True)
            with client.session_transaction() as session:
                session["_user_id"] = admin.session_token
                session["_sid"] = token
            url = rule.build({"user_id": admin.id}, append_unknown=False)[1]
            response = client.post(url, data={"email": admin.email, "password": "x", "code": "1"})
            assert response.status_code == 400, (rule.rule, response.status_code)
            assert "security token" in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_code_step_is_limited_per_account(app, twin_apps) -> None:
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    worker = twin_apps(SECOND_FACTOR_LIMIT_PER_ACCOUNT="3 per minute")
    for _ in range(3):
        client = worker.test_client()  # a new browser each time: the count is per account
        password_step(client, user.email)
        assert client.post("/login/code", data={"code": "000000"}).status_code == 401
    client = worker.test_client()
    password_step(client, user.email)
    blocked = client.post("/login/code", data={"code": code_at(secret)})  # even the right code
    assert blocked.status_code == 429
    assert "Wait a few minutes" in blocked.get_data(as_text=True)


def test_forgot_password_is_limited_per_address_asked_for(app, twin_apps) -> None:
    user = make_user()
    worker = twin_apps(PASSWORD_RESET_LIMIT_PER_EMAIL="2 per hour", FORGOT_PASSWORD_MIN_SECONDS=0)
    client = worker.test_client()
    statuses = [
        client.post("/forgot-password", data={"email": user.email}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert len(outbox_to(user.email)) == 2
    # An unknown address is limited the same way: a 429 tells nothing about existence.
    unknown = [
        client.post("/forgot-password", data={"email": "ghost@assist.example"}).status_code
        for _ in range(3)
    ]
    assert unknown == [200, 200, 429]


def test_account_actions_are_limited_per_user(app, twin_apps) -> None:
    user = make_user()
    worker = twin_apps(ACCOUNT_ACTION_LIMIT="2 per minute")
    client = worker.test_client()
    password_step(client, user.email)
    data = {"current_password": "wrong password!!", "new_password": "x" * 12, "confirm": "x" * 12}
    statuses = [client.post("/account/password", data=data).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_code_step_limit_is_shared_across_workers_through_redis(app, twin_apps) -> None:
    require(bool(TEST_REDIS_URL), "TEST_REDIS_URL not set (Redis)")
    store = redis.Redis.from_url(TEST_REDIS_URL)
    store.flushdb()
    user = make_user(Role.STAFF)
    enrolled(user)
    settings = {
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
        "SECOND_FACTOR_LIMIT_PER_ACCOUNT": "3 per minute",
    }
    worker_a = twin_apps(**settings).test_client()
    worker_b = twin_apps(**settings).test_client()
    for client in (worker_a, worker_b, worker_a):
        password_step(client, user.email)
        assert client.post("/login/code", data={"code": "000000"}).status_code == 401
    password_step(worker_b, user.email)
    assert worker_b.post("/login/code", data={"code": "000000"}).status_code == 429
    keys = [k.decode() for k in store.keys("*second-factor:*")]
    assert any(re.search(rf"second-factor:{user.id}\b", k) for k in keys), keys
