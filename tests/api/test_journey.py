"""The whole journey through the API: a city asks, Efus matches, an expert accepts."""

from __future__ import annotations

import pytest

from assist.roles import Role
from tests.factories import make_authority, make_organisation, make_user, tag

DRAFT = {
    "title": "Release preparation for young adults",
    "context": "Our municipality coordinates prevention with probation and police, but releases "
    "are prepared late and partners do not share a common approach.",
    "needs": "A training for case managers and a protocol for release preparation.",
    "themes": ["release_transition"],
    "formats": ["training"],
    "languages": ["en"],
    "period_start": "2027-03-01",
    "expected_participants": 25,
}


@pytest.fixture
def people(app):
    authority = make_authority("Rennes", country="FR")
    city = make_user(Role.CITY_OFFICIAL, authority=authority)
    staff = make_user(Role.STAFF)
    second_staff = make_user(Role.STAFF)
    org = tag(
        make_organisation(
            "Release Partners",
            description="Training for probation case managers and release preparation "
            "protocols for young adults; multi-agency work with police and municipalities.",
        ),
        themes=["release_transition", "staff_training"],
        formats=["training"],
        languages=["en", "fr"],
        countries=["FR"],
    )
    other = tag(
        make_organisation("Far Away", description="Sports clubs for teenagers."),
        themes=["employment"],
        languages=["sv"],
    )
    expert = make_user(Role.EXPERT, organisation=org)
    return {
        "city": city,
        "staff": staff,
        "second_staff": second_staff,
        "org": org,
        "other": other,
        "expert": expert,
    }


def act(api, path, user, action, version, comment=""):
    response = api.post(path, user, json={"action": action, "comment": comment, "version": version})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("four_eyes", [False, True], ids=["one-approver", "four-eyes"])
def test_journey(api, people, config_value, four_eyes) -> None:
    config_value("FOUR_EYES", four_eyes)
    city, staff, expert = people["city"], people["staff"], people["expert"]

    created = api.post("requests", city, json=DRAFT)
    assert created.status_code == 201, created.get_json()
    req = created.get_json()
    rid = req["id"]
    assert created.headers["Location"].endswith(f"/api/v1/requests/{rid}")
    assert req["status"] == "draft" and req["version"] == 1
    assert req["period_start"] == "2027-03-01" and req["expected_participants"] == 25
    assert {a["action"] for a in req["allowed_actions"]} == {"submit", "withdraw"}
    assert req["can_edit"] is True

    req = act(api, f"requests/{rid}/transitions", city, "submit", req["version"])
    assert req["status"] == "submitted" and req["can_edit"] is False
    assert api.get(f"requests/{rid}/matches", city).status_code == 403

    req = act(api, f"requests/{rid}/transitions", staff, "start_review", req["version"])
    req = act(api, f"requests/{rid}/transitions", staff, "start_matching", req["version"])
    assert req["status"] == "matching"

    matches = api.get(f"requests/{rid}/matches?k=1", staff)
    assert matches.status_code == 200, matches.get_json()
    items = matches.get_json()["items"]
    assert len([m for m in items if not m["excluded_reason"]]) == 1
    top = items[0]
    assert top["expert_organisation_id"] == people["org"].id
    assert top["name"] == "Release Partners" and top["reasons"]
    assert set(top) >= {"score", "contributions", "has_common_language", "at_capacity"}

    proposed = api.post(
        f"requests/{rid}/engagements",
        staff,
        json={
            "expert_organisation_id": top["expert_organisation_id"],
            "comment": "Strong fit on release preparation.",
            "version": req["version"],
        },
    )
    assert proposed.status_code == 201, proposed.get_json()
    eng = proposed.get_json()
    eid = eng["id"]
    assert eng["status"] == "proposed"
    # A proposal is internal to Efus: neither the expert nor the city sees it yet.
    assert api.get(f"engagements/{eid}", expert).status_code == 404
    assert api.get(f"engagements/{eid}", city).status_code == 404
    assert api.get("engagements", expert).get_json()["items"] == []

    approver = people["second_staff"] if four_eyes else staff
    if four_eyes:
        refused = api.post(
            f"engagements/{eid}/transitions",
            staff,
            json={"action": "approve", "version": eng["version"]},
        )
        assert refused.status_code == 409
        assert "Four-eyes" in refused.get_json()["error"]["message"]
        assert api.get(f"engagements/{eid}", staff).get_json()["status"] == "proposed"
    eng = act(api, f"engagements/{eid}/transitions", approver, "approve", eng["version"])
    assert eng["status"] == "approved"

    seen = api.get(f"engagements/{eid}", expert).get_json()
    assert {a["action"] for a in seen["allowed_actions"]} == {"accept", "decline"}
    eng = act(api, f"engagements/{eid}/transitions", expert, "accept", seen["version"])
    assert eng["status"] == "accepted"

    city_view = api.get("engagements", city).get_json()
    assert [e["id"] for e in city_view["items"]] == [eid]
    assert city_view["items"][0]["organisation"]["name"] == "Release Partners"
    assert api.get(f"requests/{rid}", city).get_json()["status"] == "engaged"
    # The engaged expert now sees the request too.
    assert api.get(f"requests/{rid}", expert).status_code == 200

    history = api.get(f"requests/{rid}/history", city).get_json()["items"]
    steps = [(h["action"], h["from"], h["to"]) for h in history]
    assert ("create", None, "draft") in steps
    assert [s for s in steps if s[1]] == [
        ("submit", "draft", "submitted"),
        ("start_review", "submitted", "in_review"),
        ("start_matching", "in_review", "matching"),
        ("engage", "matching", "engaged"),
    ]
    assert history[0]["who"] == {"name": city.name, "role": "city_official"}
    assert history[0]["changed_fields"] == ["all fields"]

    eng_history = api.get(f"engagements/{eid}/history", staff).get_json()["items"]
    assert [(h["action"], h["to"]) for h in eng_history] == [
        ("propose", "proposed"),
        ("approve", "approved"),
        ("accept", "accepted"),
    ]
    assert eng_history[1]["who"]["name"] == approver.name
    assert eng_history[2]["who"]["role"] == "expert"
    # Who Efus proposed, and why, stays internal: the expert sees approval onwards.
    seen_by_expert = api.get(f"engagements/{eid}/history", expert).get_json()["items"]
    assert [h["action"] for h in seen_by_expert] == ["approve", "accept"]


def test_patch_is_partial_and_versioned(api, people) -> None:
    city = people["city"]
    req = api.post("requests", city, json=DRAFT).get_json()
    changed = api.patch(
        f"requests/{req['id']}", city, json={"needs": "Only a protocol.", "version": 1}
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["needs"] == "Only a protocol." and body["version"] == 2
    assert body["title"] == DRAFT["title"] and body["themes"] == ["release_transition"]
    assert body["period_start"] == "2027-03-01" and body["expected_participants"] == 25
    cleared = api.patch(
        f"requests/{req['id']}",
        city,
        json={"period_start": None, "languages": ["fr", "en"], "version": 2},
    ).get_json()
    assert cleared["period_start"] is None and sorted(cleared["languages"]) == ["en", "fr"]
    history = api.get(f"requests/{req['id']}/history", city).get_json()["items"]
    assert [h["changed_fields"] for h in history if h["action"] == "update"] == [
        ["needs"],
        ["period_start", "tags"],
    ]


def test_lists_are_scoped_and_paginated(api, people) -> None:
    city = people["city"]
    for n in range(3):
        api.post("requests", city, json={**DRAFT, "title": f"Request {n}"})
    outsider = make_user(Role.CITY_OFFICIAL)
    assert api.get("requests", outsider).get_json()["total"] == 0
    page = api.get("requests?per_page=2&page=2", city).get_json()
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (3, 2, 2, 1)
    drafts = api.get("requests?status=draft&theme=release_transition", city).get_json()
    assert drafts["total"] == 3
    assert api.get("requests?status=submitted", city).get_json()["total"] == 0
    assert api.get("requests", people["expert"]).status_code == 403


def test_expert_directory_by_role(api, people) -> None:
    people["other"].is_active = False
    staff_view = api.get("experts?per_page=100", people["staff"]).get_json()["items"]
    assert {o["name"] for o in staff_view} >= {"Release Partners", "Far Away"}
    full = next(o for o in staff_view if o["name"] == "Release Partners")
    assert full["capacity"] == 2 and full["countries"] == ["FR"] and full["is_active"] is True

    own = api.get("experts", people["expert"]).get_json()["items"]
    assert [o["name"] for o in own] == ["Release Partners"]
    assert "capacity" in own[0]

    public = api.get("experts?per_page=100", people["city"]).get_json()["items"]
    names = {o["name"] for o in public}
    assert "Release Partners" in names and "Far Away" not in names
    entry = next(o for o in public if o["name"] == "Release Partners")
    assert set(entry) == {"id", "name", "country", "description", "themes", "formats", "languages"}
