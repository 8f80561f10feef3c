"""Activities through the API: plan, record, confirm or dispute; the same rules as the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from assist.engagements.models import Engagement
from assist.extensions import db
from assist.roles import Role
from assist.workflow import EngagementStatus, RequestStatus
from tests.factories import make_organisation, make_request, make_user

PLAN = {
    "format": "training",
    "topic": "Release preparation training for case managers",
    "planned_start": "2027-03-01",
    "planned_end": "2027-03-02",
    "place": "Málaga",
    "intended_audience": "Probation officers and municipal social workers",
}
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def record_body(version: int, **overrides):
    return {
        "action": "record",
        "version": version,
        "delivered_on": YESTERDAY,
        "duration_hours": 6.5,
        "participants": {"probation": 8, "municipal_staff": 12},
        "summary": "Two sessions on release preparation with fictional case studies.",
        "outcomes": "A draft protocol for information sharing before release.",
        **overrides,
    }


@pytest.fixture
def world(app):
    org = make_organisation("Delivering Org", description="Training on release.")
    req = make_request(status=RequestStatus.ENGAGED)
    staff = make_user(Role.STAFF)
    engagement = Engagement(
        request=req, organisation=org, proposed_by=staff, status=EngagementStatus.ACCEPTED
    )
    db.session.add(engagement)
    db.session.flush()
    return {
        "engagement": engagement,
        "expert": make_user(Role.EXPERT, organisation=org),
        "city": req.created_by,
        "staff": staff,
        "other_city": make_user(Role.CITY_OFFICIAL),
        "other_expert": make_user(Role.EXPERT),
    }


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def plan(api, world, who="expert", **overrides):
    path = f"engagements/{world['engagement'].id}/activities"
    return api.post(path, world[who], json={**PLAN, **overrides})


def actions(activity):
    return {a["action"] for a in activity["allowed_actions"]}


def test_plan_record_confirm(app, api, world) -> None:
    e = world["engagement"]
    response = plan(api, world)
    activity = ok(response, 201)
    assert response.headers["Location"] == f"/api/v1/activities/{activity['id']}"
    assert activity["status"] == "planned" and activity["planned_start"] == "2027-03-01"
    assert activity["created_by"]["name"] == world["expert"].name
    assert activity["attachments"] == [] and activity["participants"] == {}

    listed = ok(api.get(f"engagements/{e.id}/activities", world["city"]))["items"]
    assert [a["id"] for a in listed] == [activity["id"]]
    assert actions(listed[0]) == {"cancel"}
    engagement = ok(api.get(f"engagements/{e.id}", world["city"]))
    assert engagement["activities_count"] == 1 and engagement["feedback"] is None

    confirmed_plan = ok(
        api.post(
            f"engagements/{e.id}/transitions",
            world["city"],
            json={"action": "confirm_plan", "version": engagement["version"]},
        )
    )
    assert confirmed_plan["status"] == "planned"

    path = f"activities/{activity['id']}/transitions"
    recorded = ok(api.post(path, world["expert"], json=record_body(activity["version"])))
    assert recorded["status"] == "delivered"
    assert recorded["participants"] == {"probation": 8, "municipal_staff": 12}
    assert recorded["participants_total"] == 20 and recorded["duration_hours"] == 6.5
    assert recorded["recorded_by"] == {"name": world["expert"].name}
    assert ok(api.get(f"engagements/{e.id}", world["staff"]))["status"] == "delivering"

    city_view = ok(api.get(f"activities/{activity['id']}", world["city"]))
    assert actions(city_view) == {"confirm", "dispute"}
    done = ok(
        api.post(path, world["city"], json={"action": "confirm", "version": city_view["version"]})
    )
    assert done["status"] == "confirmed" and done["confirmed_at"]
    assert actions(done) == set()


def test_dispute_needs_a_reason_then_the_expert_corrects(app, api, world) -> None:
    e = world["engagement"]
    activity = ok(plan(api, world, who="city"), 201)
    e.status = EngagementStatus.PLANNED
    db.session.flush()
    path = f"activities/{activity['id']}/transitions"
    recorded = ok(api.post(path, world["expert"], json=record_body(activity["version"])))

    response = api.post(path, world["city"], json={"action": "dispute", "version": 2})
    assert response.status_code == 422
    assert "comment" in response.get_json()["error"]["fields"]

    disputed = ok(
        api.post(
            path,
            world["city"],
            json={
                "action": "dispute",
                "comment": "There were 6 probation officers, not 8.",
                "version": recorded["version"],
            },
        )
    )
    assert disputed["status"] == "disputed"
    corrected = ok(
        api.post(
            path,
            world["expert"],
            json=record_body(disputed["version"], participants={"probation": 6}),
        )
    )
    assert corrected["status"] == "delivered" and corrected["participants_total"] == 6


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": ""}, "topic"),
        ({"topic": "x" * 201}, "topic"),
        ({"format": "not_a_format"}, "format"),
        ({"format": "bad code!"}, "format"),
        ({"planned_start": "01/03/2027"}, "planned_start"),
        ({"planned_end": "2027-02-01"}, "planned_end"),
        ({"place": ""}, "place"),
        ({"is_remote": "yes"}, "is_remote"),
        ({"colour": "red"}, "colour"),
        ({"intended_audience": "Contact maria.lopez@example.org"}, "intended_audience"),
    ],
)
def test_plan_validation_is_422_with_fields(app, api, world, body, field) -> None:
    response = plan(api, world, **body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    assert world["engagement"].activities == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"delivered_on": None}, "delivered_on"),
        ({"delivered_on": (date.today() + timedelta(days=3)).isoformat()}, "delivered_on"),
        ({"duration_hours": 0}, "duration_hours"),
        ({"duration_hours": "six"}, "duration_hours"),
        ({"duration_hours": 1e300}, "duration_hours"),
        ({"participants": {}}, "participants"),
        ({"participants": {"Maria Lopez": 1}}, "participants"),
        ({"participants": {"probation": -1}}, "participants"),
        ({"participants": {"probation": True}}, "participants"),
        ({"participants": ["probation"]}, "participants"),
        ({"summary": ""}, "summary"),
        ({"summary": "y" * 5001}, "summary"),
    ],
)
def test_record_validation_is_422_with_fields(app, api, world, overrides, field) -> None:
    activity = ok(plan(api, world), 201)
    world["engagement"].status = EngagementStatus.PLANNED  # the plan was confirmed
    db.session.flush()
    body = record_body(activity["version"], **overrides)
    if overrides.get(field, "") is None:
        del body[field]
    response = api.post(f"activities/{activity['id']}/transitions", world["expert"], json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert ok(api.get(f"activities/{activity['id']}", world["expert"]))["status"] == "planned"


def test_record_fields_only_with_record(app, api, world) -> None:
    activity = ok(plan(api, world), 201)
    response = api.post(
        f"activities/{activity['id']}/transitions",
        world["city"],
        json={"action": "cancel", "comment": "x", "version": 1, "summary": "x"},
    )
    assert response.status_code == 422
    assert "summary" in response.get_json()["error"]["fields"]


def test_roles_versions_and_moves_outside_the_table(app, api, world) -> None:
    activity = ok(plan(api, world), 201)
    path = f"activities/{activity['id']}/transitions"
    # The city does not record; staff are not a party; nobody confirms a planned activity.
    assert api.post(path, world["city"], json=record_body(1)).status_code in (403, 409)
    assert plan(api, world, who="staff").status_code == 403
    response = api.post(path, world["city"], json={"action": "confirm", "version": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"
    stale = api.post(path, world["city"], json={"action": "cancel", "comment": "x", "version": 9})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    ok(api.post(path, world["city"], json={"action": "cancel", "comment": "x", "version": 1}))


@pytest.mark.parametrize("who", ["other_city", "other_expert"])
def test_other_tenants_get_404(app, api, world, who) -> None:
    activity = ok(plan(api, world), 201)
    e = world["engagement"]
    user = world[who]
    assert api.get(f"engagements/{e.id}/activities", user).status_code == 404
    assert plan(api, world, who=who).status_code == 404
    assert api.get(f"activities/{activity['id']}", user).status_code == 404
    response = api.post(
        f"activities/{activity['id']}/transitions",
        user,
        json={"action": "cancel", "comment": "x", "version": activity["version"]},
    )
    assert response.status_code == 404
    assert ok(api.get(f"activities/{activity['id']}", world["city"]))["status"] == "planned"
    assert api.get("activities/2147483648", world["city"]).status_code == 404


def test_a_proposed_engagement_hides_its_activities(app, api, world) -> None:
    e = world["engagement"]
    e.status = EngagementStatus.PROPOSED
    db.session.flush()
    assert api.get(f"engagements/{e.id}/activities", world["city"]).status_code == 404
    assert ok(api.get(f"engagements/{e.id}/activities", world["staff"]))["items"] == []


def test_the_rest_of_the_life_through_the_api(app, api, world) -> None:
    """Plan, confirm the plan, record, finish, confirm, rate, close: the request is completed."""
    e = world["engagement"]
    activity = ok(plan(api, world), 201)
    eng = ok(api.get(f"engagements/{e.id}", world["city"]))
    eng = ok(
        api.post(
            f"engagements/{e.id}/transitions",
            world["city"],
            json={"action": "confirm_plan", "version": eng["version"]},
        )
    )
    activity = ok(
        api.post(
            f"activities/{activity['id']}/transitions",
            world["expert"],
            json=record_body(activity["version"]),
        )
    )
    eng = ok(api.get(f"engagements/{e.id}", world["expert"]))
    assert eng["status"] == "delivering"
    eng = ok(
        api.post(
            f"engagements/{e.id}/transitions",
            world["expert"],
            json={"action": "finish_delivery", "version": eng["version"]},
        )
    )
    early = api.post(f"engagements/{e.id}/feedback", world["city"], json={"rating": 5})
    assert early.status_code == 409  # the activity is not confirmed yet
    ok(
        api.post(
            f"activities/{activity['id']}/transitions",
            world["city"],
            json={"action": "confirm", "version": activity["version"]},
        )
    )
    assert (
        api.post(f"engagements/{e.id}/feedback", world["expert"], json={"rating": 5}).status_code
        == 403
    )
    bad = api.post(f"engagements/{e.id}/feedback", world["city"], json={"rating": 9})
    assert bad.status_code == 422 and "rating" in bad.get_json()["error"]["fields"]
    rated = ok(
        api.post(
            f"engagements/{e.id}/feedback", world["city"], json={"rating": 4, "comment": "Useful."}
        ),
        201,
    )
    assert rated["feedback"]["rating"] == 4
    closed = ok(
        api.post(
            f"engagements/{e.id}/transitions",
            world["staff"],
            json={"action": "close", "version": rated["version"]},
        )
    )
    assert closed["status"] == "closed"
    assert ok(api.get(f"requests/{e.request_id}", world["city"]))["status"] == "completed"
