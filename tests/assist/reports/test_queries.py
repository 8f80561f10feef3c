"""The report's figures, computed from the known programme in conftest.py, asserted exactly."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from assist.directory.models import TermKind
from assist.directory.queries import resolve_terms
from assist.reports import queries
from assist.reports.periods import Period, PeriodError, make_period, twelve_months_before
from tests.assist.reports.conftest import END, START
from tests.factories import make_organisation


def test_summary_figures(programme) -> None:
    figures = queries.summary(START, END)
    assert figures["period"] == {"start": "2025-01-01", "end": "2025-12-31"}
    req = figures["requests"]
    assert req["total"] == 6
    assert [(r["code"], r["count"]) for r in req["by_status"]] == [
        ("submitted", 1),
        ("matching", 1),
        ("engaged", 2),
        ("completed", 1),
        ("withdrawn", 1),
    ]
    assert req["by_status"][0]["label"] == "Submitted"
    assert [(r["name"], r["count"]) for r in req["by_authority"]] == [
        ("Málaga (reports)", 3),
        ("Rennes (reports)", 2),
        ("Rotterdam (reports)", 1),
    ]
    assert [(r["code"], r["label"], r["count"]) for r in req["by_country"]] == [
        ("ES", "Spain", 3),
        ("FR", "France", 2),
        ("NL", "Netherlands", 1),
    ]
    themes = {r["code"]: r["count"] for r in req["by_theme"]}
    assert themes == {
        "release_transition": 2,
        "risk_assessment": 1,
        "exit_mentoring": 1,
        "housing": 1,
        "evaluation": 1,
    }
    assert req["by_theme"][0]["code"] == "release_transition"


def test_timing_uses_the_first_acceptance_and_the_first_delivery(programme) -> None:
    timing = queries.summary(START, END)["timing"]
    assert timing["to_match"] == {"count": 3, "median_days": 10.5, "mean_days": 11.3}
    assert timing["to_first_activity"] == {"count": 3, "median_days": 31, "mean_days": 101.3}


def test_activities_and_participants(programme) -> None:
    figures = queries.summary(START, END)
    acts = figures["activities"]
    assert (acts["total"], acts["implemented"], acts["pending"], acts["cancelled"]) == (7, 4, 2, 1)
    assert {r["code"]: r["count"] for r in acts["by_status"]} == {
        "planned": 1,
        "delivered": 1,
        "confirmed": 3,
        "disputed": 1,
        "cancelled": 1,
    }
    assert [
        (r["code"], r["implemented"], r["pending"], r["cancelled"]) for r in acts["by_format"]
    ] == [
        ("training", 2, 1, 0),
        ("workshop", 1, 1, 0),
        ("roundtable", 1, 0, 0),
        ("study_visit", 0, 0, 1),
    ]
    people = figures["participants"]
    assert people["total"] == 49
    # In the vocabulary's order, with labels.
    assert [(r["code"], r["label"], r["count"]) for r in people["by_group"]] == [
        ("probation", "Probation", 13),
        ("prison", "Prison", 20),
        ("police", "Police", 5),
        ("social_services", "Social services", 7),
        ("municipal_staff", "Municipal staff", 4),
    ]


def test_summary_is_plain_json(programme) -> None:
    figures = queries.summary(START, END)
    assert json.loads(json.dumps(figures)) == figures


def test_an_empty_period_has_zeros_not_errors(programme) -> None:
    figures = queries.summary(date(2030, 1, 1), date(2030, 1, 31))
    assert figures["requests"]["total"] == 0
    assert figures["requests"]["by_status"] == []
    assert figures["timing"]["to_match"] == {"count": 0, "median_days": None, "mean_days": None}
    assert figures["participants"] == {"total": 0, "by_group": []}


def test_summary_defaults_to_the_last_twelve_months(app) -> None:
    today = datetime.now(UTC).date()
    figures = queries.summary(None, None)
    assert figures["period"] == {
        "start": twelve_months_before(today).isoformat(),
        "end": today.isoformat(),
    }


def test_summary_refuses_an_impossible_period(app) -> None:
    with pytest.raises(PeriodError, match="after the end"):
        queries.summary(date(2025, 6, 1), date(2025, 1, 1))
    with pytest.raises(ValueError, match="out of range"):
        queries.summary(date(1, 1, 1), None)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, Period(date(2025, 6, 16), date(2026, 6, 15))),
        (None, date(2024, 2, 29), Period(date(2023, 3, 1), date(2024, 2, 29))),
        (date(2026, 1, 1), None, Period(date(2026, 1, 1), date(2026, 6, 15))),
        (date(2027, 1, 1), None, Period(date(2027, 1, 1), date(2027, 1, 1))),
        (date(2025, 5, 5), date(2025, 5, 5), Period(date(2025, 5, 5), date(2025, 5, 5))),
    ],
)
def test_period_defaults(start, end, expected) -> None:
    assert make_period(start, end, today=date(2026, 6, 15)) == expected


def test_period_bounds_are_inclusive_days() -> None:
    period = Period(date(2025, 1, 1), date(2025, 12, 31))
    assert period.start_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert period.end_before == datetime(2026, 1, 1, tzinfo=UTC)


def _org(name: str, active: bool = True, **codes: list[str]):
    org = make_organisation(name, is_active=active)
    kinds = {"settings": TermKind.SETTING, "ideologies": TermKind.IDEOLOGY}
    kinds["target_groups"] = TermKind.TARGET_GROUP
    org.terms = [t for key, values in codes.items() for t in resolve_terms(kinds[key], values, key)]
    return org


def test_coverage_counts_active_organisations_with_all_three_terms(app) -> None:
    _org(
        "P", settings=["prison"], ideologies=["jihadist", "far_right"], target_groups=["juveniles"]
    )
    _org("Q", settings=["prison"], ideologies=["jihadist"], target_groups=["juveniles", "women"])
    _org("R inactive", False, settings=["prison"], ideologies=["jihadist"], target_groups=["women"])
    _org("S no target group", settings=["prison", "release"], ideologies=["jihadist"])
    grid = queries.coverage()
    assert [s["code"] for s in grid["settings"]] == [
        "pre_trial",
        "prison",
        "release",
        "probation_parole",
        "post_supervision",
    ]
    prison = next(s for s in grid["settings"] if s["code"] == "prison")
    cells = {(row["code"], c["code"]): c["count"] for row in prison["rows"] for c in row["cells"]}
    assert cells[("jihadist", "juveniles")] == 2
    assert cells[("far_right", "juveniles")] == 1
    assert cells[("jihadist", "women")] == 1  # R is inactive
    size = len(grid["ideologies"]) * len(grid["target_groups"])
    assert sum(1 for n in cells.values() if n) == 3
    assert prison["gaps"] == size - 3
    release = next(s for s in grid["settings"] if s["code"] == "release")
    assert release["gaps"] == size  # S has no target group
