"""assign(): capacity, vetoes, demand, optimality, and what binds when it cannot."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from matching import ExpertProfile, Matcher, RequestProfile, assign


def _directory(capacities: dict[str, int | None]) -> Matcher:
    docs = {
        "a": "family counselling for parents of radicalised young people",
        "b": "restorative justice mediation between victims and offenders",
        "c": "employment and job coaching for people leaving prison",
        "d": "risk assessment training for probation officers",
    }
    return Matcher().fit(
        [
            ExpertProfile(id=k, documents=[docs[k]], languages={"en"}, capacity=v)
            for k, v in capacities.items()
        ]
    )


REQUESTS = [
    RequestProfile(id="r1", text="counselling for worried parents", languages={"en"}),
    RequestProfile(id="r2", text="mediation with victims", languages={"en"}),
    RequestProfile(id="r3", text="jobs after prison", languages={"en"}),
]


def test_feasible_allocation_maximises_fit() -> None:
    m = _directory({"a": 1, "b": 1, "c": 1, "d": 1})
    result = assign(m, REQUESTS)
    assert result.feasible and not result.binding and not result.unmet
    assert {a.request_id: a.expert_id for a in result.allocations} == {
        "r1": "a",
        "r2": "b",
        "r3": "c",
    }
    # Brute force over all one-to-one allocations gives the same optimum.
    s = m.score_matrix(REQUESTS)
    best = max(sum(s[i, p[i]] for i in range(3)) for p in itertools.permutations(range(4), 3))
    assert result.total_score == pytest.approx(best)
    assert "all demand met" in result.message


def test_capacity_respected() -> None:
    # Everyone wants expert a; a can take one request only.
    m = _directory({"a": 1, "b": 2, "c": 2, "d": None})
    reqs = [
        RequestProfile(id=f"q{i}", text="counselling for worried parents", languages={"en"})
        for i in range(4)
    ]
    result = assign(m, reqs)
    assert result.feasible
    load = Counter(a.expert_id for a in result.allocations)
    assert load["a"] == 1 and load["b"] <= 2 and load["c"] <= 2
    assert len(result.allocations) == 4


def test_active_engagements_reduce_capacity() -> None:
    m = Matcher().fit(
        [
            ExpertProfile(
                id="a", documents=["family counselling"], capacity=2, active_engagements=2
            ),
            ExpertProfile(id="b", documents=["job coaching"], capacity=1),
        ]
    )
    result = assign(m, [RequestProfile(id="r", text="family counselling")])
    assert result.experts_for("r") == ["b"]
    override = assign(m, [RequestProfile(id="r", text="family counselling")], capacity={"a": 1})
    assert override.experts_for("r") == ["a"]


def test_vetoes_respected() -> None:
    m = _directory({"a": 2, "b": 2, "c": 2, "d": 2})
    reqs = [
        RequestProfile(
            id="r1", text="counselling for worried parents", excluded={"a": "conflict of interest"}
        ),
        REQUESTS[1],
    ]
    result = assign(m, reqs)
    assert result.feasible
    assert "a" not in result.experts_for("r1")


def test_demand_gives_distinct_experts() -> None:
    m = _directory({"a": 1, "b": 1, "c": 1, "d": 1})
    result = assign(m, [RequestProfile(id="r1", text="parents", demand=3)])
    assert result.feasible
    assert len(set(result.experts_for("r1"))) == 3


def test_infeasible_eligibility_says_which_veto_binds() -> None:
    m = _directory({"a": 1, "b": 1, "c": 1, "d": 1})
    req = RequestProfile(
        id="r1", text="parents", demand=3, excluded={"a": "contracted", "b": "staff", "c": "staff"}
    )
    result = assign(m, [req])
    assert not result.feasible
    assert result.unmet == {"r1": 2}
    assert result.experts_for("r1") == ["d"]  # best partial allocation
    (b,) = result.binding
    assert b.kind == "eligibility" and b.subject == "r1"
    assert "only 1 may serve it" in b.message and "vetoed: a, b, c" in b.message
    assert "lower its demand to 1" in b.relax and "lift a veto" in b.relax
    assert "cannot be filled" in result.message and "Relax:" in result.message


def test_infeasible_language_is_named() -> None:
    m = Matcher().fit(
        [
            ExpertProfile(id="de", documents=["family"], languages={"de"}),
            ExpertProfile(id="es", documents=["x"], languages={"es"}),
        ]
    )
    result = assign(m, [RequestProfile(id="r", text="family", languages={"fr"})])
    assert not result.feasible
    assert "no common language: de, es" in result.binding[0].message
    relaxed = assign(
        m, [RequestProfile(id="r", text="family", languages={"fr"})], require_common_language=False
    )
    assert relaxed.feasible and relaxed.experts_for("r") == ["de"]


def test_infeasible_capacity_names_competing_request() -> None:
    m = Matcher().fit(
        [
            ExpertProfile(
                id="solo", documents=["family counselling"], languages={"es"}, capacity=1
            ),
            ExpertProfile(
                id="other", documents=["family counselling"], languages={"de"}, capacity=5
            ),
        ]
    )
    reqs = [
        RequestProfile(id="r1", text="family counselling", languages={"es"}),
        RequestProfile(id="r2", text="family counselling please", languages={"es"}),
    ]
    result = assign(m, reqs)
    assert not result.feasible
    assert sum(result.unmet.values()) == 1
    (b,) = result.binding
    assert b.kind == "capacity"
    assert "solo (to r" in b.message
    assert "raise the capacity of one of solo" in b.relax


def test_total_capacity_binds() -> None:
    m = _directory({"a": 1, "b": 0, "c": 0, "d": 1})
    reqs = [RequestProfile(id=f"q{i}", text="parents") for i in range(3)]
    result = assign(m, reqs)
    assert not result.feasible
    assert result.binding[0].kind == "total_capacity"
    assert "exceeds the directory's remaining capacity (2)" in result.binding[0].message
    assert len(result.allocations) == 2


def test_min_score_floor() -> None:
    m = _directory({"a": 3, "b": 3, "c": 3, "d": 3})
    s = m.score_matrix(REQUESTS[:1])[0]
    floor = float(np.sort(s)[-1]) - 1e-9
    result = assign(
        m,
        [
            RequestProfile(
                id="r1", text="counselling for worried parents", languages={"en"}, demand=2
            )
        ],
        min_score=floor,
    )
    assert not result.feasible
    assert "below the score floor" in result.binding[0].message


def test_assign_bad_inputs() -> None:
    m = _directory({"a": 1, "b": 1, "c": 1, "d": 1})
    with pytest.raises(ValueError, match="has no id"):
        assign(m, [RequestProfile(text="x")])
    with pytest.raises(ValueError, match="duplicate request ids"):
        assign(m, [RequestProfile(id="r", text="x"), RequestProfile(id="r", text="y")])
    with pytest.raises(ValueError, match="unknown expert"):
        assign(m, REQUESTS, capacity={"zz": 1})
    with pytest.raises(ValueError, match="non-negative integer"):
        assign(m, REQUESTS, capacity={"a": -1})
    assert assign(m, []).feasible
