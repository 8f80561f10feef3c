"""Tenant isolation over the whole URL map: every route that takes an object id is swept.

A new route is covered without anyone remembering to add it: an id argument this test does
not know fails the test until it is mapped below.
"""

from __future__ import annotations

import pytest
from flask import Flask

from assist.auth.models import ApiToken
from assist.delivery.models import Activity, Attachment
from assist.engagements.models import ConflictOfInterest, Engagement
from assist.extensions import db
from assist.notifications.models import Notification
from assist.roles import Role
from assist.workflow import EngagementStatus, RequestStatus
from tests.factories import make_authority, make_organisation, make_request, make_user

SECRET = "Confidential context of authority A"
#: Non-id route arguments and a value to fill them with.
OTHER_ARGS = {"action": "withdraw"}


def id_rules(app: Flask) -> list:
    """Every page route with an object id (the JSON API has its own sweep in tests/api)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not rule.rule.startswith("/api/")
        and any(a.endswith("_id") for a in rule.arguments)
    ]


@pytest.fixture
def world(app, tmp_path):
    authority_a = make_authority("Authority A")
    org_x = make_organisation("Organisation X", description=SECRET)
    owner = make_user(Role.CITY_OFFICIAL, authority=authority_a)
    req = make_request(authority_a, created_by=owner, title=SECRET, status=RequestStatus.SUBMITTED)
    admin = make_user(Role.ADMIN)
    expert_x = make_user(Role.EXPERT, organisation=org_x)
    staff = make_user(Role.STAFF)
    engagement = Engagement(
        request=req, organisation=org_x, proposed_by=staff, status=EngagementStatus.APPROVED
    )
    conflict = ConflictOfInterest(
        organisation=org_x, authority=authority_a, reason="contracted", created_by=staff
    )
    note = Notification(user=owner, message=SECRET, link=f"/requests/{req.id}")
    token = ApiToken(user=owner, name=SECRET[:50], token_hash="0" * 64, prefix="pa_test")
    activity = Activity(
        engagement=engagement, format="training", topic=SECRET[:60], created_by=expert_x
    )
    db.session.add_all([engagement, conflict, note, token, activity])
    db.session.flush()
    folder = tmp_path / "files"
    folder.mkdir()
    previous_dir = app.config.get("ATTACHMENT_DIR")
    app.config["ATTACHMENT_DIR"] = str(folder)
    (folder / ("ab" * 16)).write_bytes(b"%PDF-1.4 test")
    attachment = Attachment(
        activity=activity,
        filename="agenda.pdf",
        content_type="application/pdf",
        size=13,
        sha256="0" * 64,
        storage_key="ab" * 16,
        uploaded_by_id=expert_x.id,
    )
    db.session.add(attachment)
    db.session.flush()
    ids = {
        "request_id": (req.id, owner),
        "org_id": (org_x.id, expert_x),
        "engagement_id": (engagement.id, expert_x),
        "conflict_id": (conflict.id, staff),
        "notification_id": (note.id, owner),
        "token_id": (token.id, owner),
        "activity_id": (activity.id, expert_x),
        "attachment_id": (attachment.id, expert_x),
        "authority_id": (authority_a.id, admin),
        "user_id": (owner.id, admin),
    }
    outsiders = {
        "official of another authority": make_user(Role.CITY_OFFICIAL),
        "expert of another organisation": make_user(Role.EXPERT),
    }
    yield ids, outsiders, admin
    app.config["ATTACHMENT_DIR"] = previous_dir


def build_url(app: Flask, rule, ids) -> str:
    values = {}
    for arg in rule.arguments:
        if arg in ids:
            values[arg] = ids[arg][0]
        elif arg in OTHER_ARGS:
            values[arg] = OTHER_ARGS[arg]
        else:
            pytest.fail(f"route {rule.rule} takes {arg!r}: map it in this test")
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_the_sweep_covers_the_routes_that_matter(app) -> None:
    endpoints = {rule.endpoint for rule in id_rules(app)}
    assert {"requests.detail", "requests.edit", "requests.transition"} <= endpoints
    assert {"directory.organisation", "auth.edit_user", "directory.edit_authority"} <= endpoints


def test_insiders_reach_every_swept_page(app, client, login_as, world) -> None:
    """Guards the sweep itself: the URLs it builds are real, so a 404 below means refusal."""
    ids, _, admin = world
    for rule in id_rules(app):
        if "GET" not in rule.methods:
            continue
        unknown = [a for a in rule.arguments if a not in ids and a not in OTHER_ARGS]
        if unknown:
            pytest.fail(f"route {rule.rule} takes {unknown}: map it in this test")
        owner = next(ids[a][1] for a in rule.arguments if a in ids)
        url = build_url(app, rule, ids)
        # Staff-only pages (admin, ranking) refuse the owner: then the admin must get in.
        statuses = [login_as(user).get(url, buffered=True).status_code for user in (owner, admin)]
        assert {200, 302} & set(statuses), (rule.rule, statuses)


@pytest.mark.parametrize("who", ["official of another authority", "expert of another organisation"])
def test_outsiders_get_404_or_403_on_every_id_route(app, client, login_as, world, who) -> None:
    ids, outsiders, _ = world
    login_as(outsiders[who])
    for rule in id_rules(app):
        url = build_url(app, rule, ids)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(
                url, method=method, data={"comment": "x", "title": "x"}, buffered=True
            )
            assert response.status_code in (403, 404), (
                who,
                method,
                rule.rule,
                response.status_code,
            )
            assert SECRET not in response.get_data(as_text=True)
