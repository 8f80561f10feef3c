"""Security headers on every kind of response, HSTS and cookie flags per environment."""

from __future__ import annotations

import pytest

from assist.roles import Role
from tests.factories import make_user


def assert_protected(response, what: str) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert csp, (what, "no Content-Security-Policy")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (what, csp)
    assert "frame-ancestors 'none'" in csp, (what, csp)
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), what
    permissions = h.get("Permissions-Policy", "")
    assert "camera=()" in permissions and "geolocation=()" in permissions, (what, permissions)
    assert h.get("X-Frame-Options") == "DENY", what


@pytest.fixture
def samples(app, client, login_as, api, world):
    """(name, response) for a page, errors, the API, downloads and a static file."""
    ids, outsiders, _ = world
    staff = make_user(Role.STAFF)
    official = ids["request_id"][1]
    out: list[tuple[str, object]] = []

    def take(name, response):
        response.close()
        out.append((name, response))
        return response

    take("signed-out page", app.test_client().get("/login"))
    login_as(official)
    take("HTML page", client.get("/requests/"))
    take("404 page", client.get("/no-such-page"))
    take("404 on another tenant's object", login_as(outsiders["official of another authority"])
         .get(f"/requests/{ids['request_id'][0]}"))  # fmt: skip
    take("403 page", client.get("/admin/users"))
    take("400 page (bad period)", login_as(staff).get("/reports/?start=nonsense"))
    take("CSV download", client.get("/reports/requests.csv", buffered=True))
    take("ZIP download", client.get("/reports/funder-pack.zip", buffered=True))
    take(
        "JSON from a page", login_as(official).get(f"/requests/{ids['request_id'][0]}/export.json")
    )
    take("attachment download", login_as(ids["attachment_id"][1])
         .get(f"/attachments/{ids['attachment_id'][0]}", buffered=True))  # fmt: skip
    take("static file", client.get("/static/css/app.css", buffered=True))
    take("health check", client.get("/healthz"))
    take("JSON API", api.get("requests", official))
    take("JSON API 401", api.get("requests"))
    take("JSON API 404", api.get("requests/999999", official))
    take("OpenAPI document", api.get("openapi.json"))
    return out


def test_every_kind_of_response_carries_the_security_headers(samples) -> None:
    for name, response in samples:
        assert response.status_code < 500, (name, response.status_code)
        assert_protected(response, name)


def test_signed_in_pages_and_downloads_are_not_cached(samples) -> None:
    for name, response in samples:
        if name in ("HTML page", "CSV download", "ZIP download", "attachment download"):
            assert "no-store" in response.headers.get("Cache-Control", ""), name


def test_downloads_are_attachments(samples) -> None:
    for name, response in samples:
        if name in ("CSV download", "ZIP download", "attachment download"):
            assert response.headers["Content-Disposition"].startswith("attachment"), name


def test_rate_limited_answers_carry_the_headers(app, twin_apps) -> None:
    worker = twin_apps(LOGIN_LIMIT_PER_ADDRESS="1 per minute", API_RATE_LIMIT="1 per minute")
    client = worker.test_client()
    data = {"email": "nobody@assist.example", "password": "not the password"}
    statuses = [client.post("/login", data=data).status_code for _ in range(3)]
    assert statuses[-1] == 429, statuses
    limited = client.post("/login", data=data)
    assert_protected(limited, "429 page")
    calls = [client.get("/api/v1/requests") for _ in range(3)]
    assert calls[-1].status_code == 429, [c.status_code for c in calls]
    assert calls[-1].mimetype == "application/json"
    assert_protected(calls[-1], "API 429")


def _session_cookie(app_client) -> str:
    response = app_client.post("/login", data={"email": "nobody@assist.example", "password": "x"})
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    session = [c for c in cookies if c.startswith("session=")]
    assert session, cookies
    return session[0]


def test_production_sends_hsts_and_secure_cookies(app, twin_apps) -> None:
    prod = twin_apps(ASSIST_ENV="production")
    assert prod.config["ASSIST_ENV"] == "production"
    client = prod.test_client()
    for path in ("/login", "/healthz", "/api/v1/openapi.json", "/no-such-page"):
        hsts = client.get(path).headers.get("Strict-Transport-Security", "")
        assert "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 15552000
    cookie = _session_cookie(client)
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags, cookie
    assert prod.config["REMEMBER_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_HTTPONLY"]


def test_development_sends_no_hsts_and_still_protects_cookies(app, client) -> None:
    assert app.config["ASSIST_ENV"] == "development"
    assert "Strict-Transport-Security" not in client.get("/login").headers
    cookie = _session_cookie(client)
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags, cookie
