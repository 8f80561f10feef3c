"""SQL-injection-shaped input is data: stored and shown literally, and it changes nothing else.

Text fields (forms and API), list filters (pages and API), the sign-in and reset forms: every
table keeps its rows, the users table is still there, and no input reaches a 5xx.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import escape

from assist.auth.models import User
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.factories import PASSWORD, make_request, make_user
from tests.security.test_csrf import snapshot

SQLI = [
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "%",
    "_",
    "%' OR title LIKE '%",
    "\\",
    "\\'; DELETE FROM assistance_requests; --",
    "1); UPDATE users SET role='admin' WHERE (1=1",
    "'||(SELECT pg_sleep(3))||'",
    "NULL",
]


@pytest.fixture
def people(app):
    official = make_user(Role.CITY_OFFICIAL)
    staff = make_user(Role.STAFF)
    mine = make_request(official.authority, created_by=official, status=RequestStatus.SUBMITTED)
    make_request(status=RequestStatus.SUBMITTED)  # another authority's
    return official, staff, mine


def listed_titles(html: str, titles: list[str]) -> list[str]:
    return [t for t in titles if str(escape(t)) in html]


@pytest.mark.parametrize("text", SQLI)
def test_text_fields_store_the_input_literally(app, client, login_as, people, text) -> None:
    official, _, _ = people
    login_as(official)
    title = f"Injection test {text}"
    context = f"Our partners wrote {text} in the context."
    before = snapshot()
    response = client.post(
        "/requests/new", data={"title": title, "context": context, "needs": text, "save": "1"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    req = db.session.scalar(sa.select(AssistanceRequest).where(AssistanceRequest.title == title))
    assert (req.title, req.context, req.needs) == (title, context, text)
    after = snapshot()
    # Exactly the draft and its audit entry were added; every other table is as it was.
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "assistance_requests": 1,
        "audit_entries": 1,
    }
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert str(escape(title)) in page and str(escape(context)) in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before["users"]
    db.session.refresh(official)
    assert official.role == Role.CITY_OFFICIAL


@pytest.mark.parametrize("text", SQLI)
def test_the_api_stores_the_input_literally(app, api, people, text) -> None:
    official, _, _ = people
    before = snapshot()
    # The language is stated: there is no telling which language an injection string is in.
    body = {"title": f"API {text}", "context": text, "needs": text, "language": "en"}
    response = api.post("requests", official, json=body)
    assert response.status_code == 201, response.get_json()
    got = response.get_json()
    assert (got["title"], got["context"], got["needs"]) == (body["title"], text, text)
    patched = api.patch(
        f"requests/{got['id']}", official, json={"needs": f"{text} again", "version": 1}
    )
    assert patched.status_code == 200 and patched.get_json()["needs"] == f"{text} again"
    after = snapshot()
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"assistance_requests", "audit_entries", "api_tokens"}, changed
    assert after["assistance_requests"] == before["assistance_requests"] + 1


def test_page_filters_treat_the_input_as_a_value(app, client, login_as, people) -> None:
    official, staff, mine = people
    titles = list(
        db.session.scalars(sa.select(AssistanceRequest.title).order_by(AssistanceRequest.id))
    )
    before = snapshot()
    for user, pages in (
        (official, ["/requests/", "/engagements/", "/notifications"]),
        (
            staff,
            [
                "/requests/",
                "/requests/review",
                "/engagements/",
                f"/requests/{mine.id}/experts",
                "/matching",
                "/reports/",
                "/reports/coverage",
            ],
        ),
    ):
        login_as(user)
        for page in pages:
            unfiltered = client.get(page).get_data(as_text=True)
            for text in SQLI:
                query = {k: text for k in ("status", "theme", "page", "start", "end")}
                query.update({k: text for k in ("language", "format", "country", "capacity")})
                response = client.get(page, query_string=query)
                assert response.status_code in (200, 400), (page, text, response.status_code)
                if page.startswith("/requests/") and response.status_code == 200:
                    # Unknown values are ignored: the same rows, never more.
                    html = response.get_data(as_text=True)
                    assert listed_titles(html, titles) == listed_titles(unfiltered, titles)
    assert snapshot() == before


def test_api_filters_treat_the_input_as_a_value(app, api, people) -> None:
    official, staff, mine = people
    before = snapshot()
    for user in (official, staff):
        for text in SQLI:
            for path, keys in (
                ("requests", ("status", "theme", "page", "per_page")),
                ("engagements", ("page", "per_page")),
                ("experts", ("page", "per_page")),
                (f"requests/{mine.id}/matches", ("k",)),
                ("reports/summary", ("start", "end")),
            ):
                for key in keys:
                    response = api.get(path, user, query_string={key: text})
                    assert response.status_code in (200, 400, 403), (path, key, text)
                    assert response.mimetype == "application/json"
                    if response.status_code == 200 and path == "requests":
                        ids = {item["id"] for item in response.get_json()["items"]}
                        assert ids <= {mine.id} or user is staff
    after = snapshot()
    # Only the two test tokens (and their audit entries) were added.
    assert {k for k in after if after[k] != before[k]} <= {"api_tokens", "audit_entries"}


@pytest.mark.parametrize("text", SQLI)
def test_sign_in_and_reset_forms_treat_the_input_as_a_value(
    app, anonymous, people, text, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "FORGOT_PASSWORD_MIN_SECONDS", 0)
    official, _, _ = people
    for email, password in ((text, text), (f"{official.email}{text}", PASSWORD)):
        response = anonymous.post("/login", data={"email": email, "password": password})
        assert response.status_code == 401, (email, response.status_code)
        with anonymous.session_transaction() as session:
            assert "_user_id" not in session
    assert anonymous.post("/forgot-password", data={"email": text}).status_code in (200, 302)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) >= 2
