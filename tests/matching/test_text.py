"""The text index: analyzer, fast query path and document combination."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from matching.text import COMBINERS, Analyzer, TextIndex

DOCS = [
    ["Radicalisation in prisons and exit work", "Training for probation officers"],
    ["Familias y radicalización", "Apoyo a las familias"],
    [],
    ["Restorative justice mediation"],
]


def test_analyzer_folds_case_accents_and_inflection() -> None:
    a = Analyzer(prefix_length=5)
    assert a("Radicalización radicalisation RADICALISERING") == ["radic", "radic", "radic"]
    assert a("the and of 2024 el la de") == []
    assert Analyzer()("Éducateurs") == ["educateurs"]
    assert a.pairs("Las Familias") == [("famil", "familias")]


@pytest.mark.parametrize("analyzer", ["word", "prefix"])
def test_fast_transform_matches_tfidf_vectorizer(analyzer: str) -> None:
    index = TextIndex(analyzer=analyzer).fit(DOCS)
    texts = ["Exit work in prisons and prisons", "familias", "", "nothing known here"]
    ours = index.transform(texts)
    ref = normalize(index.vectorizer_.transform(texts))
    np.testing.assert_allclose(ours.toarray(), ref.toarray(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("combine", COMBINERS)
def test_similarity_shape_range_and_empty_expert(combine: str) -> None:
    index = TextIndex(combine=combine).fit(DOCS)
    sims = index.similarity(index.transform(["radicalisation of families", "mediation"]))
    assert sims.shape == (2, 4)
    assert ((sims >= 0) & (sims <= 1)).all()
    assert (sims[:, 2] == 0).all()  # the expert with no documents
    assert np.argmax(sims[1]) == 3


def test_max_combination_rewards_one_matching_document() -> None:
    docs = [
        ["prison exit work", "unrelated gardening notes " * 5],
        ["prison exit work and gardening"],
    ]
    sims = TextIndex(combine="max", analyzer="word").fit(docs)
    q = sims.transform(["prison exit work"])
    out = sims.similarity(q)[0]
    assert out[0] == pytest.approx(1.0, abs=1e-6)


def test_lsa_variant_runs() -> None:
    index = TextIndex(lsa_components=3).fit(DOCS)
    assert index.lsa_ is not None
    sims = index.similarity(index.transform(["families"]))
    assert sims.shape == (1, 4)


def test_word_char_variant_runs() -> None:
    index = TextIndex(analyzer="word+char", combine="max+centroid").fit(DOCS)
    q = index.transform(["famille radicalisée familias"])
    assert sp.issparse(q)
    assert index.similarity(q)[0, 1] > 0
    assert index.shared_terms(q, 1, index.query_words("familias")) == ["familias"]
