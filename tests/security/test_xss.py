"""Stored XSS: a payload in every free-text field comes back escaped on every page, for every role.

Every GET route of the URL map is opened by each role with the payload programme of
``payloads.py``: no HTML response may carry the payload's raw markup, and each field's escaped
form must appear on the pages that show it (so the check is not passing on empty pages). JSON
carries the payload as data; CSV and ZIP downloads are attachments, never rendered as HTML.
"""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from assist.auth.models import ApiToken
from assist.delivery.attachments import clean_filename
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from tests.security.conftest import XSS, XSS_ESCAPED, XSS_RAW_MARKERS
from tests.security.payloads import FIELDS, build
from tests.security.test_access_by_role import page_rules, url

ROLES = ("official", "expert", "staff", "admin")


def payload(field: str) -> str:
    return f"{XSS}#{field}"


def escaped(field: str) -> str:
    return f"{XSS_ESCAPED}#{field}"


def raw_markup(body: str) -> list[str]:
    return [marker for marker in XSS_RAW_MARKERS if marker in body]


@pytest.fixture
def programme(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    return build(payload, tmp_path)


def extra_urls(p) -> list[str]:
    """Pages the URL map gives one id for, opened for every object that shows other fields."""
    return [
        *(f"/requests/{r.id}" for r in (p.in_review, p.matching, p.declined, p.withdrawn)),
        f"/requests/{p.matching.id}/experts",
        "/requests/?status=in_review",
        "/reports/?start=2000-01-01&end=2100-12-31",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_a_payload_unescaped(app, client, login_as, programme, role) -> None:
    login_as(getattr(programme, role))
    urls = [
        url(app, rule, programme.ids())
        for rule in page_rules(app)
        if "GET" in rule.methods and rule.endpoint != "static"
    ]
    html_pages = 0
    for target in [*urls, *extra_urls(programme)]:
        response = client.get(target, buffered=True)
        response.close()
        assert response.status_code < 500, (target, response.status_code)
        body = response.get_data().decode("utf-8", "replace")
        if response.mimetype == "text/html":
            html_pages += 1
            assert raw_markup(body) == [], (role, target)
        elif XSS_RAW_MARKERS[0] in body:
            # Only data formats may carry the text as it was typed, and never inline.
            assert response.mimetype in ("application/json", "text/csv"), (target, response)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            if response.mimetype == "text/csv":
                assert response.headers["Content-Disposition"].startswith("attachment")
    assert html_pages > 20


#: (role, page) -> fields whose escaped payload the page must show.
SHOWN = {
    ("official", "/requests/"): {"request.title", "authority.name", "user.name"},
    ("official", "{in_review}"): {
        "request.title",
        "request.context",
        "request.needs",
        "request.existing_activities",
        "request.comment",
    },
    ("official", "{declined}"): {"request.comment"},
    ("official", "{withdrawn}"): {"request.comment"},
    ("official", "/engagements/"): {"request.title", "organisation.name"},
    ("official", "{engagement}"): {
        "request.title",
        "organisation.name",
        "engagement.comment",
        "engagement.transition_comment",
        "activity.topic",
        "activity.place",
        "activity.intended_audience",
        "activity.summary",
        "activity.outcomes",
        "activity.follow_up",
        "attachment.filename",
        "rating.comment",
    },
    ("official", "/notifications"): {"notification.message"},
    ("official", "/account"): {"token.name", "user.name"},
    ("official", "{follow_up}"): {"follow_up.comment"},
    ("official", "{summary}"): {"activity.summary", "rating.comment", "request.title"},
    ("expert", "{organisation}"): {"organisation.name", "organisation.description"},
    ("expert", "{organisation_edit}"): {"organisation.description"},
    ("expert", "{engagement}"): {"engagement.comment", "activity.summary", "attachment.filename"},
    ("staff", "/requests/review"): {"request.title", "authority.name"},
    ("staff", "{ranking}"): {"request.title", "organisation.name"},
    ("staff", "{engagement}"): {"engagement.reason", "engagement.comment", "rating.comment"},
    ("staff", "/matching"): {"request.title", "organisation.name"},
    ("staff", "/conflicts"): {"conflict.reason", "organisation.name", "authority.name"},
    ("staff", "/invitations"): {"invitation.name"},
    ("staff", "/admin/organisations"): {"organisation.name"},
    ("staff", "/admin/authorities"): {"authority.name"},
    ("staff", "/reports/"): {"authority.name"},
    ("admin", "/admin/users"): {"user.name", "authority.name", "organisation.name"},
    ("admin", "{user_edit}"): {"user.name"},
    ("admin", "{authority_edit}"): {"authority.name", "authority.description"},
}


def test_each_field_is_shown_escaped_where_it_belongs(app, client, login_as, programme) -> None:
    p = programme
    places = {
        "in_review": f"/requests/{p.in_review.id}",
        "declined": f"/requests/{p.declined.id}",
        "withdrawn": f"/requests/{p.withdrawn.id}",
        "engagement": f"/engagements/{p.engagement.id}",
        "follow_up": f"/engagements/{p.engagement.id}/follow-up",
        "summary": f"/reports/engagements/{p.engagement.id}/summary",
        "organisation": f"/organisations/{p.organisation.id}",
        "organisation_edit": f"/organisations/{p.organisation.id}/edit",
        "ranking": f"/requests/{p.matching.id}/experts",
        "user_edit": f"/admin/users/{p.official.id}/edit",
        "authority_edit": f"/admin/authorities/{p.authority.id}/edit",
    }
    covered = set()
    for (role, page), fields in SHOWN.items():
        login_as(getattr(p, role))
        response = client.get(page.format(**places))
        assert response.status_code == 200, (role, page)
        body = response.get_data(as_text=True)
        assert raw_markup(body) == [], (role, page)
        missing = {f for f in fields if escaped(f) not in body}
        assert not missing, (role, page, missing)
        covered |= fields
    # Every field of the programme is proven escaped somewhere it is shown (the dispute comment
    # goes to the expert's notification, not to a page).
    assert set(FIELDS) - covered == {"activity.comment"}


def test_the_funder_pack_escapes_its_html_files(app, client, login_as, programme) -> None:
    login_as(programme.staff)
    response = client.get("/reports/funder-pack.zip", buffered=True)
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    pack = zipfile.ZipFile(io.BytesIO(response.data))
    names = pack.namelist()
    for name in names:
        assert "<" not in name and ">" not in name and '"' not in name, name
        if name.endswith(".html"):
            html = pack.read(name).decode()
            assert raw_markup(html) == [], name
            assert escaped("activity.summary") in html


def test_attachment_names_are_cleaned_and_served_as_downloads(app, client, login_as, programme):
    name = clean_filename(XSS + "\r\nX-Injected: 1.pdf", "pdf")
    assert not set(name) & set("<>\"'\r\n/\\ ")
    login_as(programme.official)
    response = client.get(f"/attachments/{programme.attachment.id}", buffered=True)
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "X-Injected" not in response.headers
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_the_api_returns_payloads_as_json_data(app, api, programme) -> None:
    p = programme
    checks = [
        (f"requests/{p.in_review.id}", "title", "request.title"),
        (f"engagements/{p.engagement.id}", "comment", "engagement.comment"),
        (f"activities/{p.activity.id}", "summary", "activity.summary"),
        (f"activities/{p.activity.id}", "topic", "activity.topic"),
    ]
    for path, key, field in checks:
        response = api.get(path, p.staff)
        assert response.status_code == 200, path
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_json()[key] == payload(field)[: len(response.get_json()[key])]
        assert response.get_json()[key].startswith(XSS)
    history = api.get(f"requests/{p.in_review.id}/history", p.official).get_json()
    assert payload("request.comment") in [entry.get("comment") for entry in history["items"]]
    experts = api.get("experts?per_page=100", p.official).get_json()["items"]
    assert payload("organisation.description") in [o.get("description") for o in experts]


def test_payloads_sent_through_the_forms_are_stored_literally(
    app, client, login_as, programme
) -> None:
    """The same payload typed into the forms: stored as typed, shown escaped, not refused."""
    login_as(programme.official)
    text = {
        "title": payload("form.title")[:200],
        "context": payload("form.context"),
        "needs": payload("form.needs"),
        "existing_activities": payload("form.existing"),
        "save": "1",
    }
    response = client.post("/requests/new", data=text)
    assert response.status_code == 302, response.get_data(as_text=True)
    req = db.session.scalar(
        sa.select(AssistanceRequest).where(AssistanceRequest.title == text["title"])
    )
    assert req is not None and req.context == text["context"] and req.needs == text["needs"]
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert raw_markup(page) == []
    assert escaped("form.context") in page and escaped("form.needs") in page

    created = client.post("/account/tokens", data={"name": payload("form.token")[:100]})
    assert created.status_code == 201
    assert raw_markup(created.get_data(as_text=True)) == []  # the flash message included
    names = db.session.scalars(
        sa.select(ApiToken.name).where(ApiToken.user_id == req.created_by_id)
    )
    assert payload("form.token")[:100] in list(names)


def test_the_api_stores_payloads_literally(app, api, programme) -> None:
    body = {
        "title": payload("api.title")[:200],
        "context": payload("api.context"),
        "language": "en",
    }
    response = api.post("requests", programme.official, json=body)
    assert response.status_code == 201, response.get_json()
    assert response.mimetype == "application/json"
    assert response.get_json()["context"] == body["context"]
    stored = db.session.get(AssistanceRequest, response.get_json()["id"])
    assert (stored.title, stored.context) == (body["title"], body["context"])
