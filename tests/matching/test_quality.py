"""Quality floors on the illustrative evaluation set (a little below measured figures)."""

from __future__ import annotations

import pytest

from matching import Matcher
from matching.evaluate import EvalSet, evaluate, mrr, ndcg_at_k, recall_at_k, text_only

# Measured with the default Matcher (see matching/README.md); floors sit a little below.
FLOORS = {
    "text-only": {
        "ndcg@5": 0.76,
        "mrr": 0.84,
        "recall@3": 0.68,
        "expert_spearman": 0.42,
        "expert_ndcg@5": 0.78,
    },
    "structured": {
        "ndcg@5": 0.85,
        "mrr": 0.94,
        "recall@3": 0.78,
        "expert_spearman": 0.48,
        "expert_ndcg@5": 0.85,
    },
}


@pytest.mark.parametrize("mode", ["text-only", "structured"])
def test_quality_floors(eval_set: EvalSet, mode: str) -> None:
    data = text_only(eval_set) if mode == "text-only" else eval_set
    got = evaluate(Matcher(), data)
    for metric, floor in FLOORS[mode].items():
        assert got[metric] >= floor, (mode, metric, got[metric])


def test_default_beats_plain_word_tfidf_text_only(eval_set: EvalSet) -> None:
    data = text_only(eval_set)
    # The analyzers compared on their own, without the concept layer on either side.
    default = evaluate(Matcher(concepts=False), data)
    word = evaluate(Matcher(analyzer="word", combine="concat", concepts=False), data)
    assert default["ndcg@5"] > word["ndcg@5"]
    assert default["expert_spearman"] > word["expert_spearman"]


def test_text_baseline_helps_the_expert_side_only(eval_set: EvalSet) -> None:
    data = text_only(eval_set)
    default = evaluate(Matcher(), data)
    plain = evaluate(Matcher(text_baseline=None), data)
    assert default["expert_spearman"] > plain["expert_spearman"]
    # One constant per request: the request-side figures cannot move.
    for metric in ("ndcg@5", "mrr", "recall@3"):
        assert default[metric] == pytest.approx(plain[metric], abs=1e-12)


def test_eval_set_is_marked_and_graded(eval_set: EvalSet) -> None:
    assert len(eval_set.experts) >= 12 and len(eval_set.requests) >= 30
    assert all(any(g >= 2 for g in rel.values()) for rel in eval_set.relevance)
    assert all(len(e.documents) >= 2 for e in eval_set.experts)


def test_metrics_on_known_cases() -> None:
    import numpy as np

    grades = np.array([3.0, 0.0, 2.0, 0.0])
    perfect = np.array([4.0, 1.0, 3.0, 0.0])
    assert ndcg_at_k(perfect, grades, 5) == pytest.approx(1.0)
    assert mrr(np.array([0.0, 1.0, 0.5, 0.2]), grades) == pytest.approx(1 / 2)
    assert recall_at_k(np.array([0.0, 1.0, 0.9, 0.8]), grades, 3) == pytest.approx(0.5)
