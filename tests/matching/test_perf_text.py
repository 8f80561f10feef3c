"""The per-process cache of analysed documents (matching/text.py): same tokens, bounded memory."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from matching import Matcher, RequestProfile
from matching.concepts import default_lexicon
from matching.text import Analyzer, TextIndex, _AnalysisCache, clear_analysis_cache
from tests.matching.conftest import small_directory

TEXTS = [
    "Exit mentoring and family counselling after release; 2024 evaluation.",
    "Asesoramiento familiar y mentoría de salida para jóvenes radicalizados.",
    "Formation des agents de probation à la justice restaurative.",
    "  ",
    "the and of 123",
    "Exit mentoring and family counselling after release; 2024 evaluation.",
]


@pytest.mark.parametrize("prefix", [None, 4, 5])
@pytest.mark.parametrize("lexicon", [None, default_lexicon()])
def test_cached_analysis_is_what_analysing_returns(prefix, lexicon) -> None:
    clear_analysis_cache()
    analyzer = Analyzer(prefix, lexicon)
    for text in TEXTS * 2:  # misses, then hits
        assert analyzer(text) == list(analyzer._analyse(text))


def test_analyzers_with_other_settings_do_not_share_entries() -> None:
    text = "Radicalisation prevention with families"
    whole, cut = Analyzer(None), Analyzer(5)
    concepts = Analyzer(5, default_lexicon())
    assert whole(text) != cut(text)
    assert cut(text) == ["radic", "preve", "famil"]
    assert concepts(text)[:3] == ["radic", "preve", "famil"] and len(concepts(text)) > 3
    assert cut(text) == ["radic", "preve", "famil"]


def test_callers_get_a_copy() -> None:
    analyzer = Analyzer(5)
    tokens = analyzer("exit mentoring")
    tokens.append("tampered")
    assert analyzer("exit mentoring") == ["exit", "mento"]


def test_a_warm_cache_fits_the_same_index_and_scores() -> None:
    experts = small_directory()
    req = RequestProfile(text="family counselling after release", languages={"en"})
    clear_analysis_cache()
    cold = Matcher().fit(experts)
    warm = Matcher().fit(experts)
    for name in ("doc_matrix_", "centroid_matrix_", "postings_"):
        a, b = getattr(cold.text_, name), getattr(warm.text_, name)
        assert (a != b).nnz == 0
    assert cold.text_.vectorizer_.vocabulary_ == warm.text_.vectorizer_.vocabulary_
    np.testing.assert_array_equal(cold.score_matrix([req]), warm.score_matrix([req]))
    assert cold.rank(req) == warm.rank(req)


def test_index_fitted_with_and_without_cache_matches_for_every_variant() -> None:
    docs = [list(e.documents) for e in small_directory()]
    for params in ({"analyzer": "word"}, {"combine": "concat"}, {"concepts": True}):
        clear_analysis_cache()
        a = TextIndex(**params).fit(docs)
        b = TextIndex(**params).fit(docs)
        assert (a.doc_matrix_ != b.doc_matrix_).nnz == 0


def test_memory_bound_evicts_least_recently_used() -> None:
    cache = _AnalysisCache(max_bytes=16 * 1024)
    keys = [(5, None, f"document number {i} " + "x" * 200) for i in range(200)]
    for key in keys:
        cache.put(key, ("a", "b"))
        assert cache.size <= cache.max_bytes
    assert 0 < len(cache) < 200
    assert cache.get(keys[0]) is None  # the oldest went first
    assert cache.get(keys[-1]) == ("a", "b")
    # A hit makes an entry recent again: it survives the next insertions.
    survivor = next(k for k in keys if cache.get(k) is not None)
    for i in range(len(cache) - 1):
        cache.get(survivor)
        cache.put((5, None, f"newer {i} " + "y" * 200), ("c",))
    assert cache.get(survivor) == ("a", "b")


def test_a_text_larger_than_a_sixteenth_of_the_bound_is_not_kept() -> None:
    cache = _AnalysisCache(max_bytes=16 * 1024)
    cache.put((5, None, "small"), ("small",))
    cache.put((5, None, "z" * 2000), ("z",))
    assert cache.get((5, None, "z" * 2000)) is None
    assert cache.get((5, None, "small")) == ("small",)


def test_threads_share_the_cache_safely() -> None:
    clear_analysis_cache()
    analyzer = Analyzer(5, default_lexicon())
    texts = [f"{t} {i}" for i in range(50) for t in TEXTS]
    expected = [list(analyzer._analyse(t)) for t in texts]
    errors: list[str] = []

    def work() -> None:
        for text, want in zip(texts, expected, strict=True):
            if analyzer(text) != want:
                errors.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
