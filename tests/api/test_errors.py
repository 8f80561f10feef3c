"""Bad input and conflicts: one JSON error shape, the right status, and nothing changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.audit import AuditEntry
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.factories import make_request, make_user


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    if code:
        assert error["code"] == code
    return error


@pytest.fixture
def city(app):
    return make_user(Role.CITY_OFFICIAL)


@pytest.fixture
def draft(city):
    return make_request(created_by=city, title="Original title")


def audit_count(req) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "assistance_requests", AuditEntry.object_id == req.id
        )
    )


def test_wrong_version_is_409_and_changes_nothing(api, city, draft) -> None:
    before = audit_count(draft)
    stale = api.patch(f"requests/{draft.id}", city, json={"title": "New", "version": 7})
    error_of(stale, 409, "conflict")
    moved = api.post(
        f"requests/{draft.id}/transitions", city, json={"action": "submit", "version": 7}
    )
    error_of(moved, 409)
    fresh = api.get(f"requests/{draft.id}", city).get_json()
    assert (fresh["title"], fresh["status"], fresh["version"]) == ("Original title", "draft", 1)
    assert audit_count(draft) == before


def test_invalid_transition_is_409(api, city, draft) -> None:
    error = error_of(
        api.post(
            f"requests/{draft.id}/transitions",
            city,
            json={"action": "start_review", "version": draft.version},
        ),
        409,
        "invalid_transition",
    )
    assert "cannot" in error["message"] or "not possible" in error["message"]
    engage = api.post(
        f"requests/{draft.id}/transitions", city, json={"action": "engage", "version": 1}
    )
    error_of(engage, 409, "invalid_transition")


def test_validation_names_each_field(api, city, draft) -> None:
    error = error_of(
        api.post(
            "requests",
            city,
            json={
                "title": "x" * 201,
                "context": "Call 06 12 34 56 78 or write to jane.doe@example.org.",
                "expected_participants": "twelve",
                "themes": "release_transition",
                "period_start": "1st of May",
                "colour": "blue",
            },
        ),
        422,
        "validation_failed",
    )
    fields = error["fields"]
    assert set(fields) == {
        "title",
        "expected_participants",
        "themes",
        "period_start",
        "colour",
    }
    assert "Too long" in fields["title"][0]
    assert "Unknown field" in fields["colour"][0]
    # Personal data is the service's rule: it answers once the shapes are right.
    privacy = error_of(
        api.post(
            "requests",
            city,
            json={"title": "Fine", "context": "Write to jane.doe@example.org for the file."},
        ),
        422,
    )
    assert list(privacy["fields"]) == ["context"]
    unknown_code = error_of(
        api.post("requests", city, json={"title": "Fine", "themes": ["no_such_theme"]}), 422
    )
    assert "no_such_theme" in unknown_code["fields"]["themes"][0]
    missing = error_of(api.post("requests", city, json={}), 422)
    assert missing["fields"] == {"title": ["This field is required."]}
    no_version = error_of(api.patch(f"requests/{draft.id}", city, json={"title": "x"}), 422)
    assert list(no_version["fields"]) == ["version"]
    assert db.session.scalar(sa.select(sa.func.count(AssistanceRequest.id))) == 1


@pytest.mark.parametrize(
    "value",
    [True, 1.5, 0, -1, 2**31, 10**40, None, "1", [], {}],
    ids=repr,
)
def test_version_must_be_a_plain_positive_integer(api, city, draft, value) -> None:
    response = api.patch(f"requests/{draft.id}", city, json={"title": "x", "version": value})
    assert list(error_of(response, 422)["fields"]) == ["version"]


def test_nul_and_surrogates_never_reach_the_database(api, city, draft) -> None:
    cleaned = api.patch(
        f"requests/{draft.id}", city, json={"title": "Clean\x00 title", "version": 1}
    )
    assert cleaned.status_code == 200 and cleaned.get_json()["title"] == "Clean title"
    raw = '{"title": "bad \\ud800 text"}'
    error = error_of(api.post("requests", city, data=raw, content_type="application/json"), 422)
    assert "surrogate" in error["fields"]["title"][0]
    code = error_of(api.post("requests", city, json={"title": "x", "themes": ["a\x00b"]}), 422)
    assert "themes" in code["fields"]
    assert api.get("requests?theme=a%00b", city).status_code == 400


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"title"', "application/json", 400),
        ("", "application/json", 400),
        ("[" * 100000, "application/json", 400),
        ('{"title": NaN}', "application/json", 400),
        (b'{"title": "\xff"}', "application/json", 400),
        ("title=x", "application/x-www-form-urlencoded", 415),
        ('{"title": "x"}', "text/plain", 415),
    ],
    ids=["syntax", "array", "string", "empty", "deep", "nan", "bad-utf8", "form", "text"],
)
def test_malformed_bodies(api, city, body, content_type, status) -> None:
    error_of(api.post("requests", city, data=body, content_type=content_type), status)


def test_bad_query_parameters_are_400_with_fields(api, city) -> None:
    for query, name in [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=1000", "per_page"),
        ("status=lost", "status"),
        ("page=99999999999999999999", "page"),
    ]:
        error = error_of(api.get(f"requests?{query}", city), 400, "invalid_query")
        assert list(error["fields"]) == [name]
    staff = make_user(Role.STAFF)
    req = make_request(status=RequestStatus.SUBMITTED)
    error_of(api.get(f"requests/{req.id}/matches?k=0", staff), 400)


def test_routing_errors_use_the_api_shape(api, city, draft) -> None:
    error_of(api.get("nothing-here", city), 404, "not_found")
    error_of(api.get("requests/99999999999", city), 404)
    error_of(api.get("requests/2147483647", city), 404)
    not_allowed = error_of(api("DELETE", f"requests/{draft.id}", city), 405)
    assert not_allowed["code"] == "method_not_allowed"
    assert api("DELETE", f"requests/{draft.id}", city).headers["Allow"]
    error_of(api.get("/api/v1/requests/", city), 404)


def test_too_large_is_413(api, app, city, config_value) -> None:
    config_value("MAX_CONTENT_LENGTH", 1000)
    body = {"title": "x", "context": "y" * 2000}
    error_of(api.post("requests", city, json=body), 413, "payload_too_large")


def test_forbidden_is_403(api, draft) -> None:
    staff = make_user(Role.STAFF)
    error_of(api.post("requests", staff, json={"title": "x"}), 403, "forbidden")
    error_of(api.patch(f"requests/{draft.id}", staff, json={"version": 1}), 403)
    city = draft.created_by
    error_of(api.get(f"requests/{draft.id}/matches", city), 403)
    error_of(
        api.post(f"requests/{draft.id}/engagements", city, json={"expert_organisation_id": 1}),
        403,
    )


def test_rate_limit_is_429_in_the_api_shape(api, twin_apps) -> None:
    staff = make_user(Role.STAFF)
    limited = twin_apps(API_RATE_LIMIT="2 per minute").test_client(use_cookies=False)
    headers = {"Authorization": f"Bearer {api.token(staff)}"}
    assert limited.get("/api/v1/experts", headers=headers).status_code == 200
    assert limited.get("/api/v1/experts", headers=headers).status_code == 200
    blocked = limited.get("/api/v1/experts", headers=headers)
    error_of(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) > 0


def test_json_bodies_stay_capped_below_the_upload_limit(api, app, city) -> None:
    from assist.api.views import MAX_BODY_BYTES

    assert app.config["MAX_CONTENT_LENGTH"] > MAX_BODY_BYTES  # room for page uploads
    body = {"title": "x" * (MAX_BODY_BYTES + 10)}
    error_of(api.post("requests", city, json=body), 413, "payload_too_large")
