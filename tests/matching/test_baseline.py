"""The request's text baseline: what it subtracts, what it leaves alone, and why."""

from __future__ import annotations

import re

import numpy as np
import pytest

from matching import ExpertProfile, Matcher, RequestProfile

DIRECTORY = [
    ExpertProfile(
        id="x",
        documents=["Prison release work with families: counselling for mothers of prisoners."],
    ),
    ExpertProfile(
        id="y", documents=["Prison release work: employment, jobs and internships for prisoners."]
    ),
    ExpertProfile(
        id="z", documents=["Prison release work: mediation between victims and prisoners."]
    ),
    ExpertProfile(id="w", documents=["Prison release work: housing and shelters for prisoners."]),
]
GENERIC = RequestProfile(id="generic", text="Prison release work for prisoners")
SPECIFIC = RequestProfile(id="specific", text="Internships for young people")


@pytest.fixture
def requests(family_request: RequestProfile) -> list[RequestProfile]:
    return [
        family_request,
        RequestProfile(id="jobs", text="Jobs and internships for young people out of prison"),
        RequestProfile(id="tags", themes={"employment"}),  # no text: no baseline
        RequestProfile(id="mediation", text="Victim-offender mediation", languages={"es"}),
    ]


def test_a_generic_request_no_longer_tops_an_experts_own_view() -> None:
    """Shared vocabulary lifts every expert alike; the baseline takes that lift away."""
    raw = Matcher(text_baseline=None).fit(DIRECTORY).score_matrix([GENERIC, SPECIFIC])[:, 1]
    based = Matcher().fit(DIRECTORY).score_matrix([GENERIC, SPECIFIC])[:, 1]
    assert raw[0] > raw[1]  # raw cosine: the request everyone matches comes first
    assert based[1] > based[0]  # with the baseline: the request only y can serve


@pytest.mark.parametrize("how", ["mean", "csls"])
def test_baseline_is_one_constant_per_request(
    experts: list[ExpertProfile], requests: list[RequestProfile], how: str
) -> None:
    plain = Matcher(text_baseline=None).fit(experts)
    based = Matcher(text_baseline=how).fit(experts)
    diff = based.score_matrix(requests) - plain.score_matrix(requests)
    # The same amount for every expert of a request, so no request's ranking changes ...
    np.testing.assert_allclose(diff, diff[:, :1] * np.ones_like(diff), atol=1e-12)
    for r in requests:
        assert [m.expert_id for m in based.rank(r, k=None)] == [
            m.expert_id for m in plain.rank(r, k=None)
        ]
    # ... it is at most the text weight, and nothing without request text.
    assert (diff <= 0).all() and (diff >= -based.weights_["text"]).all()
    assert (diff[2] == 0).all()


def test_mean_baseline_centres_the_text_part_over_the_directory(
    experts: list[ExpertProfile], requests: list[RequestProfile]
) -> None:
    m = Matcher().fit(experts)
    for r in requests:
        if not r.text:
            continue
        net = [
            x.contributions["text"] + x.contributions.get("text_baseline", 0.0)
            for x in m.rank(r, k=None)
        ]
        assert np.mean(net) == pytest.approx(0.0, abs=1e-12)


def test_bounds_and_csls_at_least_mean(experts: list[ExpertProfile]) -> None:
    m = Matcher().fit(experts)
    q = m.text_.transform(["families and prisons", "mediation", "nothing known here"])
    sims = m.text_.similarity(q)
    mean, csls = m.text_.baseline(sims, "mean"), m.text_.baseline(sims, "csls")
    assert (mean >= 0).all() and (mean <= sims.max(axis=1)).all()
    assert (csls >= mean - 1e-12).all() and (csls <= sims.max(axis=1) + 1e-12).all()
    assert mean[2] == 0.0  # no known word: nothing to subtract
    with pytest.raises(ValueError, match="baseline"):
        m.text_.baseline(sims, "median")


def test_scores_do_not_depend_on_the_other_requests(
    experts: list[ExpertProfile], requests: list[RequestProfile]
) -> None:
    m = Matcher().fit(experts)
    batch = m.score_matrix(requests)
    for i, r in enumerate(requests):
        np.testing.assert_allclose(m.score_matrix([r])[0], batch[i], atol=1e-12)
        np.testing.assert_allclose(m.score_matrix([r, *requests[::-1]])[0], batch[i], atol=1e-12)
        for match in m.rank(r, k=None):
            j = m.expert_ids_.index(match.expert_id)
            assert match.score == pytest.approx(batch[i, j], abs=1e-12)
            assert m.explain(r, match.expert_id).score == pytest.approx(batch[i, j], abs=1e-12)


def test_contributions_and_reason(matcher: Matcher, family_request: RequestProfile) -> None:
    for m in matcher.rank(family_request, k=None):
        base = m.contributions["text_baseline"]
        assert -matcher.weights_["text"] <= base < 0
        assert sum(m.contributions.values()) == pytest.approx(m.score, abs=1e-12)
        last = m.reasons[-1]
        assert last.startswith("less this request's mean text similarity")
        assert re.search(r"\(-(\d+\.\d+)\)$", last).group(1) == f"{-base:.3f}"
    structured_only = matcher.rank(RequestProfile(themes={"employment"}), k=1)[0]
    assert "text_baseline" not in structured_only.contributions


def test_a_single_expert_with_documents_keeps_its_text_ordering() -> None:
    """With nothing to compare against, no baseline: subtracting its own similarity
    would make every request look the same to it."""
    m = Matcher().fit(
        [ExpertProfile(id="only", documents=["Exit work with families"]), ExpertProfile(id="b")]
    )
    s = m.score_matrix(
        [RequestProfile(text="exit work with families"), RequestProfile(text="exit")]
    )
    assert s[0, 0] > s[1, 0]
    assert "text_baseline" not in m.explain(RequestProfile(text="exit"), "only").contributions


def test_invalid_text_baseline(experts: list[ExpertProfile]) -> None:
    with pytest.raises(ValueError, match="text_baseline"):
        Matcher(text_baseline="median").fit(experts)
