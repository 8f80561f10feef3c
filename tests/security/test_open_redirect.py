"""No open redirect: every redirect target that comes from input stays on this site.

The app takes a target from ``next=`` on the sign-in page (kept through the code step) and from a
notification's stored link; both go through ``assist.urls.safe_next_url``. Each variant a browser
would follow off-site is refused, in the password step, the code step and the notification.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from assist.extensions import db
from assist.notifications.models import Notification
from assist.roles import Role
from assist.urls import safe_next_url
from tests.assist.auth.conftest import code_at, enrolled, password_step
from tests.factories import make_user

#: What a browser would follow off-site (or run), as the value of next= once decoded.
HOSTILE = [
    "//evil.example",
    "//evil.example/requests/",
    "///evil.example",
    "https://evil.example/",
    "http://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "HTTPS://evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "//evil.example@localhost",
    "https://localhost@evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    "\n//evil.example",
    "/\r\nLocation: https://evil.example",
    " //evil.example",
    "\x00//evil.example",
    "evil.example",
    "%2F%2Fevil.example",
]
#: Local paths that only look hostile: a browser keeps percent-escapes in the path, on this site.
LOOKALIKES = [
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%0d%0aLocation:%20https://evil.example",
    "/.//evil.example",
]


def on_site(location: str) -> bool:
    """What a browser does with the Location header: it must stay on localhost."""
    if any(ord(c) < 32 for c in location) or "\\" in location:
        return False
    parts = urlsplit(location)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return False
    path = parts.path
    return path.startswith("/") and not path.startswith("//")


def test_the_helper_refuses_every_hostile_target() -> None:
    for target in HOSTILE:
        assert safe_next_url(target) is None, target
    for target in LOOKALIKES:
        result = safe_next_url(target)
        assert result is None or on_site(result), target
    for target in ("/requests/", "/requests/?status=draft", "/engagements/3#activities"):
        assert safe_next_url(target) == target


@pytest.mark.parametrize("target", HOSTILE + LOOKALIKES)
def test_next_after_the_password_step_stays_on_site(app, client, target) -> None:
    user = make_user(Role.CITY_OFFICIAL)
    response = password_step(client, user.email, next_url=quote(target, safe=""))
    assert response.status_code == 302, response.status_code
    assert on_site(response.location), (target, response.location)
    if target in HOSTILE:
        assert "evil" not in response.location


@pytest.mark.parametrize("target", HOSTILE)
def test_next_is_taken_unencoded_too(app, client, target) -> None:
    """The raw query string as an attacker's link would carry it (the client encodes spaces)."""
    user = make_user(Role.CITY_OFFICIAL)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert on_site(response.location), (target, response.location)
    assert "evil" not in response.location


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example"])
def test_next_kept_through_the_code_step_stays_on_site(app, client, target) -> None:
    staff = make_user(Role.STAFF)
    secret = enrolled(staff)
    first = password_step(client, staff.email, next_url=quote(target, safe=""))
    assert first.status_code == 302 and first.location.endswith("/login/code")
    response = client.post("/login/code", data={"code": code_at(secret)})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert on_site(response.location), (target, response.location)
    assert "evil" not in response.location


def test_a_local_next_is_still_followed_after_the_code_step(app, client) -> None:
    staff = make_user(Role.STAFF)
    secret = enrolled(staff)
    password_step(client, staff.email, next_url=quote("/requests/review", safe=""))
    response = client.post("/login/code", data={"code": code_at(secret)})
    assert response.location.endswith("/requests/review")


def test_the_sign_in_redirect_carries_a_local_next(app, anonymous) -> None:
    response = anonymous.get("/requests/?status=draft")
    assert response.status_code == 302
    assert on_site(response.location) and "/login" in response.location


@pytest.mark.parametrize("link", ["//evil.example", "https://evil.example/", "javascript:x"])
def test_a_notification_link_cannot_send_anyone_off_site(app, client, login_as, link) -> None:
    user = make_user(Role.CITY_OFFICIAL)
    note = Notification(user=user, message="Something changed.", link=link)
    db.session.add(note)
    db.session.flush()
    login_as(user)
    response = client.post(f"/notifications/{note.id}/open")
    assert response.status_code == 302
    assert on_site(response.location) and response.location.endswith("/notifications")
