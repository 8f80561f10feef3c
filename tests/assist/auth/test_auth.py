"""Sign-in, sign-out, cookies, redirects and login throttling (shared across workers via Redis)."""

from __future__ import annotations

import pytest
import redis

from assist.roles import Role
from tests.conftest import TEST_REDIS_URL, make_app, require
from tests.factories import PASSWORD, make_user


def sign_in(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def test_sign_in_and_out(app, client) -> None:
    # A city official: staff now need a second factor first (tests/assist/auth/test_second_factor).
    user = make_user(Role.CITY_OFFICIAL)
    response = sign_in(client, user.email.upper())  # e-mail is case-insensitive
    assert response.status_code == 302
    assert client.get("/requests/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/requests/").status_code == 302


def test_wrong_password_is_a_clear_401(app, client) -> None:
    user = make_user()
    response = sign_in(client, user.email, "wrong password!!")
    assert response.status_code == 401
    assert "E-mail address or password is not right" in response.get_data(as_text=True)
    unknown = sign_in(client, "nobody@assist.example")
    assert unknown.get_data(as_text=True).count("is not right") == 1  # same answer: no enumeration


def test_inactive_account_cannot_sign_in(app, client) -> None:
    user = make_user(is_active_account=False)
    assert sign_in(client, user.email).status_code == 401


def test_cookie_copied_before_sign_out_is_dead_after(app, client) -> None:
    user = make_user(Role.CITY_OFFICIAL)
    sign_in(client, user.email)
    stolen = client.get_cookie("session").value
    assert client.get("/requests/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/requests/")
    assert response.status_code == 302 and "/login" in response.location


def test_session_cookie_flags(app, client) -> None:
    user = make_user()
    response = sign_in(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(app) -> None:
    prod = make_app(app.config["SQLALCHEMY_DATABASE_URI"], ASSIST_ENV="production")
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_open_redirect_on_next_is_refused(app, client, target: str) -> None:
    user = make_user()
    response = sign_in(client, user.email, next_url=target)
    assert response.status_code == 302
    assert response.location in ("/", "http://localhost/")


def test_local_next_is_followed(app, client) -> None:
    user = make_user()
    response = sign_in(client, user.email, next_url="/requests/?status=draft")
    assert response.location.endswith("/requests/?status=draft")


def test_security_headers(app, client) -> None:
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_login_throttled_per_account(app, twin_apps) -> None:
    user = make_user()
    throttled = twin_apps(
        LOGIN_LIMIT_PER_ACCOUNT="3 per minute", LOGIN_LIMIT_PER_ADDRESS="100 per minute"
    )
    client = throttled.test_client()
    for _ in range(3):
        assert sign_in(client, user.email, "wrong password!!").status_code == 401
    blocked = sign_in(client, user.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert "paused after too many failed attempts" in blocked.get_data(as_text=True)
    other = make_user()
    assert sign_in(client, other.email).status_code == 302  # other accounts unaffected


def test_login_throttled_per_address(app, twin_apps) -> None:
    throttled = twin_apps(
        LOGIN_LIMIT_PER_ACCOUNT="100 per minute", LOGIN_LIMIT_PER_ADDRESS="4 per minute"
    )
    client = throttled.test_client()
    for i in range(4):
        assert sign_in(client, f"guess{i}@assist.example", "wrong password!!").status_code == 401
    assert sign_in(client, "guess9@assist.example", "wrong password!!").status_code == 429


def test_successful_logins_do_not_count(app, twin_apps) -> None:
    user = make_user()
    throttled = twin_apps(LOGIN_LIMIT_PER_ACCOUNT="2 per minute")
    for _ in range(4):
        client = throttled.test_client()
        assert sign_in(client, user.email).status_code == 302


def test_throttle_is_shared_across_workers_through_redis(app, twin_apps) -> None:
    require(bool(TEST_REDIS_URL), "TEST_REDIS_URL not set (Redis)")
    # The test database of Redis is the suite's own: start from empty counters.
    store = redis.Redis.from_url(TEST_REDIS_URL)
    store.flushdb()
    user = make_user()
    settings = {"RATELIMIT_STORAGE_URI": TEST_REDIS_URL, "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute"}
    worker_a = twin_apps(**settings).test_client()
    worker_b = twin_apps(**settings).test_client()
    for client in (worker_a, worker_b, worker_a):
        assert sign_in(client, user.email, "wrong password!!").status_code == 401
    assert sign_in(worker_b, user.email).status_code == 429
    # The counters live in Redis, where any other process or machine reads them too.
    (key,) = store.keys(f"*login-account:{user.email}*")
    assert int(store.get(key)) == 3


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password1234", "very common password"),
        ("qwertyuiopasdf", "similar to a commonly used password"),
        ("111111111111", "repeat"),
        ("Martin123456", "name and digits"),
    ],
)
def test_guessable_passwords_are_refused_with_advice(app, password: str, why: str) -> None:
    from assist.auth import services
    from assist.errors import ValidationFailed

    data = services.UserData(
        email="anne.martin@assist.example", name="Anne Martin", role=Role.STAFF
    )
    with pytest.raises(ValidationFailed) as info:
        services.create_user(None, data, password)
    message = " ".join(info.value.errors["password"])
    assert "Choose a longer phrase of unrelated words" in message


def test_a_long_phrase_is_accepted(app) -> None:
    from assist.auth import services

    data = services.UserData(email="b@assist.example", name="B", role=Role.STAFF)
    assert services.create_user(None, data, "violet harbour lantern quietly").id
