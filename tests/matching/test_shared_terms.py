"""Shared terms worked out for many experts at once are the ones a scan of each expert gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from matching import ExpertProfile, Matcher, RequestProfile
from matching.concepts import CONCEPT_PREFIX
from matching.evaluate import EvalSet
from matching.text import COMBINERS, TextIndex


def scanned_terms(
    index: TextIndex,
    query: sp.csr_matrix,
    expert: int,
    surface: dict[str, str] | None = None,
    n: int | None = 3,
    concepts: bool = False,
) -> list[str]:
    """The obvious way, kept in ``TextIndex`` for queries the batch cannot take: scan each of
    the expert's documents for the query's terms, one expert at a time."""
    return index._shared_terms_one(query, expert, surface, n, concepts)


def documents(data: EvalSet) -> list[list[str]]:
    # The evaluation set's experts (several have activity reports: more than one
    # document) and one without documents.
    return [list(e.documents) for e in data.experts] + [[]]


def queries(data: EvalSet) -> list[str]:
    return [r.text for r in data.requests if r.text.strip()]


@pytest.mark.parametrize(
    "params",
    [
        *({"combine": c} for c in COMBINERS),
        {"concepts": True},
        {"concepts": True, "combine": "max", "concept_weight": 2.0},
        {"analyzer": "word", "concepts": True, "combine": "mean"},
        {"analyzer": "word+char", "combine": "max"},
        {"max_features": 200, "concepts": True, "combine": "max+centroid"},
    ],
)
def test_many_experts_at_once_match_a_scan_of_each(eval_set: EvalSet, params: dict) -> None:
    index = TextIndex(**params).fit(documents(eval_set))
    everyone = list(range(index.n_experts_))
    checked = 0
    for text in queries(eval_set):
        q = index.transform([text])
        surface = index.query_words(text)
        for n, concepts in (
            *((3, False), (2, True), (1, False), (0, False)),
            *((-1, False), (None, False), (20, False), (20, True)),
        ):
            got = index.shared_terms_many(q, everyone, surface, n=n, concepts=concepts)
            want = [scanned_terms(index, q, j, surface, n, concepts) for j in everyone]
            assert got == want, (params, text[:40], n, concepts)
            checked += sum(map(bool, want))
        # Any subset, in any order, repeats included; and one expert at a time.
        some = [5, 2, 5, index.n_experts_ - 1, 0]
        assert index.shared_terms_many(q, some, surface) == [
            scanned_terms(index, q, j, surface) for j in some
        ]
        assert index.shared_terms(q, 3, surface) == scanned_terms(index, q, 3, surface)
    assert checked > 100  # the comparison is not between empty lists


def test_documents_stored_out_of_column_order_are_scanned_in_their_order(
    eval_set: EvalSet,
) -> None:
    # Concept weighting multiplies by a diagonal matrix, which leaves each document's
    # columns unsorted: the document "max" picks depends on the order they are summed in.
    index = TextIndex(concepts=True, concept_weight=1.5, combine="max").fit(documents(eval_set))
    assert not index.doc_matrix_.has_sorted_indices
    for text in queries(eval_set):
        q = index.transform([text])
        got = index.shared_terms_many(q, range(index.n_experts_), n=5)
        assert got == [scanned_terms(index, q, j, n=5) for j in range(index.n_experts_)]


def handmade(rows: list[list[tuple[int, float]]]) -> TextIndex:
    """An index of one expert with two documents (and another with one) whose stored
    entries are ``rows``: ``(column, value)`` pairs in stored order, columns 0-4 being the
    words alpha, beta, delta, gamma, zebra."""
    index = TextIndex(analyzer="word", combine="max").fit(
        [["alpha", "beta gamma delta"], ["zebra"]]
    )
    assert list(index.feature_names_) == ["alpha", "beta", "delta", "gamma", "zebra"]
    index.doc_matrix_ = sp.csr_matrix(
        (
            np.array([v for row in rows for _, v in row], dtype=np.float32),
            np.array([c for row in rows for c, _ in row], dtype=np.int32),
            np.cumsum([0] + [len(row) for row in rows]),
        ),
        shape=(3, 5),
    )
    return index


ALL_WORDS = sp.csr_matrix(np.array([[1, 1, 1, 1, 1]], dtype=np.float32))


def test_max_sums_each_document_in_stored_order() -> None:
    # The second document sums to 1 + 2**-23 in stored order, to 1.0 by column (1.0 plus
    # 2**-24 rounds back to 1.0): the order decides which document "max" quotes.
    tiny = 2.0**-24
    index = handmade([[(0, 1.0)], [(2, tiny), (3, tiny), (1, 1.0)], [(4, 1.0)]])
    assert index.shared_terms_many(ALL_WORDS, [0, 1]) == [["beta", "delta", "gamma"], ["zebra"]]
    assert index.shared_terms(ALL_WORDS, 0) == scanned_terms(index, ALL_WORDS, 0)


def test_max_quotes_the_first_of_equal_documents() -> None:
    index = handmade([[(0, 0.5)], [(1, 0.25), (3, 0.25)], [(4, 1.0)]])
    assert index.shared_terms_many(ALL_WORDS, [0]) == [["alpha"]]
    index = handmade([[(4, 0.5)], [(1, 0.25), (3, 0.25)], [(4, 1.0)]])
    query = sp.csr_matrix(np.array([[1, 1, 1, 1, 0]], dtype=np.float32))
    assert index.shared_terms_many(query, [0]) == [["beta", "gamma"]]  # the other has none
    assert index.shared_terms(query, 0) == scanned_terms(index, query, 0)


def test_queries_not_from_transform_take_the_scan(eval_set: EvalSet) -> None:
    index = TextIndex(concepts=True, combine="mean").fit(documents(eval_set))
    q = index.transform([queries(eval_set)[0]])
    # The same row with its columns stored in reverse order.
    backwards = sp.csr_matrix((q.data[::-1], q.indices[::-1], q.indptr), shape=q.shape)
    assert not backwards.has_canonical_format
    want = [scanned_terms(index, q, j) for j in range(index.n_experts_)]
    assert any(want)
    assert index.shared_terms_many(backwards, range(index.n_experts_)) == want
    assert index.shared_terms_many(q, range(index.n_experts_)) == want
    assert index.shared_terms_many(sp.csr_matrix(q.shape, dtype=np.float32), [0, 1]) == [[], []]
    with pytest.raises(IndexError):
        index.shared_terms(q, index.n_experts_)


def test_ranked_reasons_quote_the_terms_a_scan_finds(eval_set: EvalSet) -> None:
    experts = [*eval_set.experts, ExpertProfile(id="nothing-written", languages={"en"})]
    matcher = Matcher(combine="max", n_terms=4).fit(experts)
    index = matcher.text_
    assert index is not None
    quoted = 0
    for request in eval_set.requests:
        vetoed = RequestProfile(
            text=request.text,
            themes=request.themes,
            languages=request.languages,
            country=request.country,
            excluded={experts[0].id: "conflict of interest"},
        )
        matches = matcher.rank(vetoed, k=None, include_excluded=True)
        assert len(matches) == len(experts)
        q = index.transform([request.text]) if request.text.strip() else None
        for match in matches:
            j = matcher.index_[match.expert_id]
            assert match == matcher.explain(vetoed, match.expert_id)
            text = [r for r in match.explanations if r.code == "text"]
            if q is None or match.contributions["text"] <= 0:
                assert not text
                continue
            words = scanned_terms(index, q, j, index.query_words(request.text), n=4)
            found = scanned_terms(index, q, j, n=2, concepts=True)
            assert text[0].values["terms"] == tuple(words)
            assert text[0].values["concepts"] == tuple(c[len(CONCEPT_PREFIX) :] for c in found)
            quoted += bool(words)
    assert quoted > 50
