"""Tenant isolation over every /api/v1 route that takes an id, derived from the URL map.

A new API route is covered without anyone remembering to add it: an id argument or a request
body this test does not know fails the test until it is mapped below.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from assist.api.openapi import OPENAPI
from assist.delivery.models import Activity
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.roles import Role
from assist.workflow import EngagementStatus, RequestStatus
from tests.factories import make_authority, make_organisation, make_request, make_user

SECRET = "Confidential context of authority A"


def api_id_rules(app: Flask) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.arguments
    ]


def openapi_path(rule) -> str:
    """/api/v1/requests/<int(max=…):request_id> -> /api/v1/requests/{request_id}"""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)


@pytest.fixture
def world(app):
    authority_a = make_authority("Authority A")
    org_x = make_organisation("Organisation X", description=SECRET)
    owner = make_user(Role.CITY_OFFICIAL, authority=authority_a)
    req = make_request(authority_a, created_by=owner, title=SECRET, status=RequestStatus.MATCHING)
    staff = make_user(Role.STAFF)
    expert_x = make_user(Role.EXPERT, organisation=org_x)
    engagement = Engagement(
        request=req,
        organisation=org_x,
        proposed_by=staff,
        status=EngagementStatus.APPROVED,
        comment=SECRET,
    )
    activity = Activity(
        engagement=engagement, format="training", topic=SECRET, place="x", created_by=expert_x
    )
    db.session.add_all([engagement, activity])
    db.session.flush()
    ids = {
        "request_id": (req.id, owner),
        "engagement_id": (engagement.id, expert_x),
        "activity_id": (activity.id, expert_x),
    }
    bodies = {
        "RequestPatch": {"title": "x", "version": req.version},
        "RequestTransition": {"action": "withdraw", "comment": "x", "version": req.version},
        "EngagementTransition": {"action": "accept", "version": engagement.version},
        "Feedback": {"rating": 5, "comment": "Fine."},
        "Proposal": {"expert_organisation_id": org_x.id},
        "ActivityPlan": {"format": "training", "topic": "x", "is_remote": True},
        "ActivityTransition": {"action": "cancel", "comment": "x", "version": activity.version},
    }
    outsiders = {
        "official of another authority": make_user(Role.CITY_OFFICIAL),
        "expert of another organisation": make_user(Role.EXPERT),
    }
    return ids, bodies, outsiders, staff, (req, engagement, activity)


def url_and_body(rule, method: str, ids: dict, bodies: dict) -> tuple[str, dict | None]:
    values = {}
    for arg in rule.arguments:
        if arg not in ids:
            pytest.fail(f"route {rule.rule} takes {arg!r}: map it in this test")
        values[arg] = ids[arg][0]
    url = rule.build(values, append_unknown=False)[1]
    operation = OPENAPI["paths"][openapi_path(rule)][method.lower()]
    if "requestBody" not in operation:
        return url, None
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    if name not in bodies:
        pytest.fail(f"{method} {rule.rule} takes a {name} body: map it in this test")
    return url, bodies[name]


def test_the_sweep_covers_the_routes_that_matter(app) -> None:
    endpoints = {rule.endpoint for rule in api_id_rules(app)}
    assert {
        "api.get_request",
        "api.update_request",
        "api.transition_request",
        "api.request_matches",
        "api.propose_engagement",
        "api.request_history",
        "api.get_engagement",
        "api.transition_engagement",
        "api.engagement_history",
        "api.list_activities",
        "api.plan_activity",
        "api.get_activity",
        "api.transition_activity",
    } <= endpoints


def test_insiders_reach_every_swept_read(app, api, world) -> None:
    """Guards the sweep itself: its URLs are real, so a 404 below means refusal."""
    ids, bodies, _, staff, _ = world
    for rule in api_id_rules(app):
        if "GET" not in rule.methods:
            continue
        owner = next(ids[a][1] for a in rule.arguments)
        url, _ = url_and_body(rule, "GET", ids, bodies)
        statuses = [api.get(url, user).status_code for user in (owner, staff)]
        assert 200 in statuses, (rule.rule, statuses)


@pytest.mark.parametrize("who", ["official of another authority", "expert of another organisation"])
def test_outsiders_get_404_or_403_on_every_id_route(app, api, world, who) -> None:
    ids, bodies, outsiders, _, (req, engagement, activity) = world
    before = (req.status, req.version, engagement.status, engagement.version, activity.version)
    activities_before = len(engagement.activities)
    swept = 0
    for rule in api_id_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url, body = url_and_body(rule, method, ids, bodies)
            response = api(method, url, outsiders[who], json=body)
            assert response.status_code in (403, 404), (
                who,
                method,
                rule.rule,
                response.status_code,
            )
            assert response.get_json()["error"]["code"] in ("forbidden", "not_found")
            assert SECRET not in response.get_data(as_text=True)
            swept += 1
    assert swept >= 13
    db.session.refresh(req)
    db.session.refresh(engagement)
    db.session.refresh(activity)
    after = (req.status, req.version, engagement.status, engagement.version, activity.version)
    assert after == before
    assert len(engagement.activities) == activities_before
