"""The Matcher behaves like a scikit-learn estimator and keeps scores comparable."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from matching import ExpertProfile, Match, Matcher, RequestProfile
from tests.matching.conftest import small_directory


def test_init_only_stores_params() -> None:
    m = Matcher(combine="max", weights={"text": 1.0})
    assert m.get_params()["combine"] == "max"
    assert clone(m).get_params() == m.get_params()
    assert not [k for k in vars(m) if k.endswith("_")]


def test_fit_returns_self(experts: list[ExpertProfile]) -> None:
    m = Matcher()
    assert m.fit(experts) is m
    assert m.expert_ids_ == ["vpn", "hayat", "rj", "face"]


def test_refit_replaces_state(experts: list[ExpertProfile], family_request: RequestProfile) -> None:
    m = Matcher().fit(experts)
    m.fit(experts[:2])
    assert m.expert_ids_ == ["vpn", "hayat"]
    assert m.score_matrix([family_request]).shape == (1, 2)
    assert {x.expert_id for x in m.rank(family_request, k=None)} == {"vpn", "hayat"}


@pytest.mark.parametrize("call", ["rank", "score_matrix", "learn", "explain"])
def test_not_fitted(call: str, family_request: RequestProfile) -> None:
    m = Matcher()
    args = {
        "rank": (family_request,),
        "score_matrix": ([family_request],),
        "learn": ([],),
        "explain": (family_request, "vpn"),
    }[call]
    with pytest.raises(NotFittedError):
        getattr(m, call)(*args)


def test_score_matrix_shape_and_order(matcher: Matcher, family_request: RequestProfile) -> None:
    other = RequestProfile(text="restorative justice mediation with victims", languages={"es"})
    s = matcher.score_matrix([family_request, other])
    assert s.shape == (2, 4)
    assert s.dtype == np.float64
    # Columns follow fit order: the family request's best column is hayat's.
    assert matcher.expert_ids_[int(np.argmax(s[0]))] == "hayat"
    assert matcher.expert_ids_[int(np.argmax(s[1]))] == "rj"
    # rank and score_matrix agree.
    ranked = matcher.rank(family_request, k=None)
    assert [m.score for m in ranked] == pytest.approx(sorted(s[0], reverse=True))


def test_rank_sorted_and_typed(matcher: Matcher, family_request: RequestProfile) -> None:
    ranked = matcher.rank(family_request, k=3)
    assert len(ranked) == 3
    assert all(isinstance(m, Match) for m in ranked)
    scores = [m.score for m in ranked]
    assert scores == sorted(scores, reverse=True)
    assert ranked[0].expert_id == "hayat"


def test_deterministic(family_request: RequestProfile) -> None:
    a = Matcher().fit(small_directory())
    b = Matcher().fit(small_directory())
    assert np.array_equal(a.score_matrix([family_request]), b.score_matrix([family_request]))
    assert a.rank(family_request, k=None) == b.rank(family_request, k=None)


def test_ties_keep_fit_order() -> None:
    experts = [ExpertProfile(id=f"x{i}", themes={"housing"}) for i in range(5)]
    m = Matcher().fit(experts)
    ranked = m.rank(RequestProfile(themes={"housing"}), k=None)
    assert [x.expert_id for x in ranked] == [f"x{i}" for i in range(5)]


def test_scores_comparable_across_requests(
    matcher: Matcher, family_request: RequestProfile
) -> None:
    other = RequestProfile(text="employment for young people leaving prison", languages={"fr"})
    weak = RequestProfile(text="Internships with employers", themes={"employment"})
    alone = matcher.score_matrix([family_request])
    batch = matcher.score_matrix([family_request, other, weak])
    # A request's scores do not depend on which other requests are scored with it.
    np.testing.assert_allclose(batch[0], alone[0])
    # An expert's score is higher for the request that fits it better.
    hayat = matcher.expert_ids_.index("hayat")
    assert batch[0, hayat] > batch[1, hayat]
    face = matcher.expert_ids_.index("face")
    assert batch[1, face] > batch[0, face]


def test_fit_order_defines_columns(
    experts: list[ExpertProfile], family_request: RequestProfile
) -> None:
    fwd = Matcher().fit(experts).score_matrix([family_request])[0]
    rev = Matcher().fit(experts[::-1]).score_matrix([family_request])[0]
    np.testing.assert_allclose(fwd, rev[::-1])


def test_text_only_profiles_rank_well() -> None:
    experts = [ExpertProfile(id=e.id, documents=e.documents) for e in small_directory()]
    m = Matcher().fit(experts)
    queries = {
        "hayat": "Mothers fear their sons will join an Islamist group and want counselling",
        "rj": "Could victims meet the offenders? We want mediation and restorative circles",
        "face": "Young people out of prison find no jobs; we want employers to offer internships",
        "vpn": "Probation officers need training to supervise terrorist offenders after release",
    }
    for expected, text in queries.items():
        top = m.rank(RequestProfile(text=text), k=1)[0]
        assert top.expert_id == expected, (text, top)
        assert top.has_common_language is None
        assert any("top shared terms" in r for r in top.reasons)


def test_structured_only_request(matcher: Matcher) -> None:
    ranked = matcher.rank(RequestProfile(themes={"employment"}), k=2)
    assert ranked[0].expert_id == "face"
    assert ranked[0].contributions["text"] == 0.0


def test_experts_without_documents() -> None:
    m = Matcher().fit(
        [ExpertProfile(id="a", themes={"housing"}), ExpertProfile(id="b", themes={"employment"})]
    )
    assert m.text_ is None
    assert (
        m.rank(RequestProfile(text="housing after release", themes={"housing"}), k=1)[0].expert_id
        == "a"
    )


def test_explain_any_expert(matcher: Matcher, family_request: RequestProfile) -> None:
    m = matcher.explain(family_request, "face")
    s = matcher.score_matrix([family_request])[0, matcher.expert_ids_.index("face")]
    assert m.score == pytest.approx(s)
    with pytest.raises(ValueError, match="unknown expert"):
        matcher.explain(family_request, "nobody")
