"""Language, capacity and veto rules, and reasons that match the numbers."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from matching import SIGNALS, ExpertProfile, Matcher, RequestProfile
from matching.matcher import CAPACITY_PENALTY, LANGUAGE_PENALTY


def test_no_common_language_ranks_below_all_sharing_one(matcher: Matcher) -> None:
    # The text fits vpn best, but only rj works in Spanish.
    req = RequestProfile(
        text="Deradicalisation training and exit coaching for terrorist offenders after release",
        themes={"exit_mentoring", "staff_training"},
        languages={"es"},
        country="ES",
    )
    ranked = matcher.rank(req, k=None)
    assert ranked[0].expert_id == "rj"
    assert ranked[0].has_common_language is True
    for m in ranked[1:]:
        assert m.has_common_language is False
        assert m.score < ranked[0].score
        assert m.contributions["no_common_language"] == -LANGUAGE_PENALTY
    vpn = next(m for m in ranked if m.expert_id == "vpn")
    assert "no common working language (expert: de, en; request: es)" in vpn.reasons
    # Without the language constraint vpn would be first: the rule is what moved it.
    assert matcher.rank(dataclasses.replace(req, languages=frozenset()), k=1)[0].expert_id == "vpn"


def test_unknown_languages_are_not_penalised() -> None:
    m = Matcher().fit(
        [
            ExpertProfile(id="a", documents=["family counselling"]),
            ExpertProfile(id="b", documents=["x y z"], languages={"de"}),
        ]
    )
    ranked = m.rank(RequestProfile(text="family counselling", languages={"es"}), k=None)
    a = next(x for x in ranked if x.expert_id == "a")
    assert a.has_common_language is None
    assert "no_common_language" not in a.contributions
    assert "working languages not given by the expert" in " ".join(a.reasons)


def test_shared_language_reason(matcher: Matcher, family_request: RequestProfile) -> None:
    top = matcher.rank(family_request, k=1)[0]
    assert any(r.startswith("works in English") for r in top.reasons)


def test_capacity_flag_and_lower_rank(experts: list[ExpertProfile]) -> None:
    req = RequestProfile(text="restorative justice mediation with victims", languages={"es"})
    booked = Matcher().fit(experts).rank(req, k=None)
    rj = next(m for m in booked if m.expert_id == "rj")
    assert rj.at_capacity
    assert "at capacity (1 of 1 engagements)" in rj.reasons
    assert rj.contributions["at_capacity"] == -CAPACITY_PENALTY
    freed = [dataclasses.replace(e, capacity=2) if e.id == "rj" else e for e in experts]
    rj_free = next(m for m in Matcher().fit(freed).rank(req, k=None) if m.expert_id == "rj")
    assert not rj_free.at_capacity
    assert rj_free.score > rj.score


def test_vetoed_never_ranked_unless_asked(matcher: Matcher, family_request: RequestProfile) -> None:
    req = dataclasses.replace(
        family_request, excluded={"hayat": "already contracted by the same authority"}
    )
    ranked = matcher.rank(req, k=None)
    assert "hayat" not in [m.expert_id for m in ranked]
    assert len(ranked) == 3
    with_vetoed = matcher.rank(req, k=2, include_excluded=True)
    assert [m.expert_id for m in with_vetoed][-1] == "hayat"
    assert len(with_vetoed) == 3
    last = with_vetoed[-1]
    assert last.excluded and last.excluded_reason == "already contracted by the same authority"
    assert last.reasons[0] == "excluded: already contracted by the same authority"
    # The veto wins even though hayat has the best score.
    assert last.score > with_vetoed[0].score


def test_vetoes_in_score_matrix(matcher: Matcher, family_request: RequestProfile) -> None:
    req = dataclasses.replace(
        family_request, excluded={"hayat": "conflict of interest", "ghost": "gone"}
    )
    s = matcher.score_matrix([req], apply_vetoes=True)
    assert s[0, matcher.expert_ids_.index("hayat")] == -np.inf
    assert np.isfinite(np.delete(s[0], matcher.expert_ids_.index("hayat"))).all()


def test_reasons_are_built_from_the_contributions(
    matcher: Matcher, family_request: RequestProfile
) -> None:
    req = dataclasses.replace(family_request, formats={"training"}, target_groups={"families"})
    scores = matcher.score_matrix([req])[0]
    for m in matcher.rank(req, k=None):
        assert sum(m.contributions.values()) == pytest.approx(m.score, abs=1e-12)
        assert m.score == pytest.approx(scores[matcher.expert_ids_.index(m.expert_id)])
        for s in SIGNALS:
            assert m.contributions[s] == pytest.approx(matcher.weights_[s] * m.signals[s])
        quoted = [float(x) for r in m.reasons for x in re.findall(r"\(\+(\d+\.\d+)\)$", r)]
        positive = sorted(round(c, 3) for s, c in m.contributions.items() if s in SIGNALS and c > 0)
        # Every quoted number is a contribution, and reasons are ordered by it.
        assert quoted == sorted(quoted, reverse=True)
        assert set(quoted) <= set(positive)


def test_theme_reason_uses_labels(experts: list[ExpertProfile]) -> None:
    m = Matcher(labels={"family_network_support": "family support"}).fit(experts)
    top = m.rank(
        RequestProfile(text="families", themes={"family_network_support", "exit_mentoring"}), k=1
    )[0]
    assert "shares themes: family support" in " ".join(top.reasons)
    fallback = Matcher().fit(experts).rank(RequestProfile(themes={"exit_mentoring"}), k=1)[0]
    assert "shares themes: exit mentoring" in " ".join(fallback.reasons)


def test_shared_terms_are_query_words(matcher: Matcher) -> None:
    top = matcher.rank(
        RequestProfile(text="Counselling for worried parents of radicalised youngsters"), k=1
    )[0]
    text_reason = next(r for r in top.reasons if r.startswith("text similarity"))
    assert "counselling" in text_reason and "parents" in text_reason
