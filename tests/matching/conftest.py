"""Shared fixtures for the matching/ tests: a small directory and the evaluation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching import ExpertProfile, Matcher, RequestProfile
from matching.evaluate import EvalSet, load_eval_set

EVAL_SET = Path(__file__).resolve().parents[1] / "data" / "eval_set.json"


def small_directory() -> list[ExpertProfile]:
    """Four experts with clearly different specialisms."""
    return [
        ExpertProfile(
            id="vpn",
            documents=[
                "Deradicalisation training in prisons and exit coaching after release for "
                "jihadist and right-wing extremist offenders.",
                "Report: two-day training for probation officers on release planning and "
                "supervision of people convicted of terrorist offences.",
            ],
            themes={"exit_mentoring", "staff_training", "release_transition"},
            target_groups={"released_terrorist_offenders"},
            formats={"training"},
            languages={"de", "en"},
            countries={"DE", "ES"},
            capacity=3,
            active_engagements=1,
            feedback=[4, 5],
        ),
        ExpertProfile(
            id="hayat",
            documents=[
                "Counselling for parents and families of young people radicalising towards "
                "violent Islamism, and for families of returnees from Syria."
            ],
            themes={"family_network_support"},
            target_groups={"families", "returnees"},
            languages={"de", "en"},
            capacity=2,
        ),
        ExpertProfile(
            id="rj",
            documents=[
                "Restorative justice: mediation between victims and offenders, restorative "
                "circles in prisons and training of mediators."
            ],
            themes={"restorative_justice", "staff_training"},
            languages={"es", "ca"},
            countries={"ES"},
            capacity=1,
            active_engagements=1,
        ),
        ExpertProfile(
            id="face",
            documents=[
                "Employment and job insertion for young people leaving prison, with company "
                "volunteers, internships and employer networks."
            ],
            themes={"employment"},
            languages={"fr", "en"},
            countries={"FR"},
            capacity=2,
        ),
    ]


@pytest.fixture
def experts() -> list[ExpertProfile]:
    return small_directory()


@pytest.fixture
def matcher(experts: list[ExpertProfile]) -> Matcher:
    return Matcher().fit(experts)


@pytest.fixture
def family_request() -> RequestProfile:
    return RequestProfile(
        id="fam",
        text="Parents are worried that their sons are joining a violent Islamist group; "
        "we need counselling for these families.",
        themes={"family_network_support"},
        languages={"en"},
        country="DE",
    )


@pytest.fixture(scope="session")
def eval_set() -> EvalSet:
    return load_eval_set(EVAL_SET)
