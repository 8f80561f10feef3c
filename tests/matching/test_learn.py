"""learn(): keeps defaults with little history, moves weights toward what predicts choices."""

from __future__ import annotations

import numpy as np
import pytest

from matching import DEFAULT_WEIGHTS, Decision, ExpertProfile, Matcher, RequestProfile

COUNTRIES = ["ES", "FR", "NL", "BE", "DE", "SE"]


def _directory(rng: np.random.Generator) -> list[ExpertProfile]:
    words = ["family", "prison", "release", "training", "exit", "employment", "housing", "risk"]
    return [
        ExpertProfile(
            id=f"e{j}",
            documents=[" ".join(rng.choice(words, size=8))],
            themes={str(rng.choice(["housing", "employment", "exit_mentoring"]))},
            languages={"en"},
            countries={COUNTRIES[j % len(COUNTRIES)]},
        )
        for j in range(24)
    ]


def _decisions(experts: list[ExpertProfile], rng: np.random.Generator, n: int) -> list[Decision]:
    """Staff always choose an expert who has worked in the city's country."""
    out = []
    for i in range(n):
        country = COUNTRIES[i % len(COUNTRIES)]
        local = [e.id for e in experts if country in e.countries]
        others = [e.id for e in experts if country not in e.countries]
        req = RequestProfile(
            id=f"r{i}", text="family prison release training", languages={"en"}, country=country
        )
        out.append(
            Decision(
                request=req,
                chosen=str(rng.choice(local)),
                passed_over=list(rng.choice(others, 3, replace=False)),
            )
        )
    return out


def test_too_few_decisions_keep_defaults() -> None:
    rng = np.random.default_rng(0)
    experts = _directory(rng)
    m = Matcher().fit(experts)
    result = m.learn(_decisions(experts, rng, 5))
    assert not result.updated
    assert result.n_decisions == 5
    assert "at least 20" in result.message
    assert m.weights_ == pytest.approx(DEFAULT_WEIGHTS) and m.weights_source_ == "default"


def test_unusable_decisions_are_not_counted() -> None:
    rng = np.random.default_rng(0)
    m = Matcher(min_decisions=1).fit(_directory(rng))
    req = RequestProfile(text="x", excluded={"e1": "conflict"})
    result = m.learn(
        [
            Decision(request=req, chosen="ghost", passed_over=["e2"]),
            Decision(request=req, chosen="e1", passed_over=["e2"]),
            Decision(request=req, chosen="e2", passed_over=[]),
        ]
    )
    assert not result.updated and result.n_decisions == 0


def test_enough_decisions_move_weights_toward_the_predictive_signal() -> None:
    rng = np.random.default_rng(1)
    experts = _directory(rng)
    m = Matcher().fit(experts)
    result = m.learn(_decisions(experts, rng, 40))
    assert result.updated and result.n_decisions == 40
    assert m.weights_source_ == "learned"
    assert m.weights_["country"] > DEFAULT_WEIGHTS["country"]
    assert max(m.weights_, key=m.weights_.get) == "country"
    assert all(w >= 0 for w in m.weights_.values())
    assert sum(m.weights_.values()) == pytest.approx(1.0)
    # The learned weights now rank a local expert first.
    top = m.rank(
        RequestProfile(text="family prison release training", country="SE", languages={"en"}), k=1
    )[0]
    assert "SE" in next(e for e in experts if e.id == top.expert_id).countries


def test_refit_resets_learned_weights() -> None:
    rng = np.random.default_rng(1)
    experts = _directory(rng)
    m = Matcher().fit(experts)
    m.learn(_decisions(experts, rng, 30))
    m.fit(experts)
    assert m.weights_source_ == "default"
