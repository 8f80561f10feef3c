"""The programme summary through the API: Efus only, the period parsed like the reports page."""

from __future__ import annotations

import pytest

from assist.roles import Role
from tests.factories import make_user


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_get_the_figures_for_a_period(app, api, role) -> None:
    response = api.get("reports/summary?start=2026-01-01&end=2026-06-30", make_user(role))
    assert response.status_code == 200, response.get_json()
    figures = response.get_json()
    assert figures["period"] == {"start": "2026-01-01", "end": "2026-06-30"}
    assert {"requests", "timing", "activities", "participants"} <= set(figures)


def test_the_default_period_is_the_last_twelve_months(app, api) -> None:
    period = api.get("reports/summary", make_user(Role.STAFF)).get_json()["period"]
    assert period["start"] < period["end"]


@pytest.mark.parametrize("role", [Role.CITY_OFFICIAL, Role.EXPERT])
def test_cities_and_experts_are_refused(app, api, role) -> None:
    response = api.get("reports/summary", make_user(role))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("start=2026-13-01", "start", "YYYY-MM-DD"),
        ("end=yesterday", "end", "YYYY-MM-DD"),
        ("start=2026-06-30&end=2026-01-01", "end", "swap"),
        ("start=1999-12-31&end=2000-01-31", "start", "out of range"),
    ],
)
def test_a_bad_period_is_400_saying_what_to_fix(app, api, query, field, says) -> None:
    response = api.get(f"reports/summary?{query}", make_user(Role.STAFF))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_query"
    assert says in " ".join(error["fields"][field])
