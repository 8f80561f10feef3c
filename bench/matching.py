"""Benchmark matching/ on a synthetic directory: ``python bench/matching.py [--experts N]``."""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import ExpertProfile, Matcher, RequestProfile

THEMES = [
    *("risk_assessment", "exit_mentoring", "deradicalisation_training", "family_network_support"),
    *("restorative_justice", "multiagency_case_conference", "information_sharing"),
    *("staff_training", "release_transition", "evaluation", "housing", "employment", "education"),
    *("income_debt", "identity_documents", "mental_health", "substance_use", "social_network"),
]
GROUPS = [
    *("released_terrorist_offenders", "radicalised_ordinary_offenders", "juveniles"),
    *("young_adults", "women", "returnees", "families", "professionals"),
]
FORMATS = [
    *("expert_mission", "workshop", "training", "study_visit", "peer_review", "remote_advice"),
    *("co_design", "roundtable", "evaluation_support"),
]
LANGS = ["en", "fr", "es", "ca", "nl", "de", "sv"]
COUNTRIES = ["ES", "NL", "BE", "FR", "DE", "SE"]


def _vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    """Pseudo-words built from syllables, so prefixes collide as in real inflected text."""
    syllables = np.array(
        [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "er")]
    )
    words = set()
    while len(words) < size:
        n = int(rng.integers(2, 6))
        words.add("".join(rng.choice(syllables, size=n)))
    return np.array(sorted(words))


def _texts(rng: np.random.Generator, vocab: np.ndarray, n: int, length: int) -> list[str]:
    # Zipf-like frequencies: a few very common words, a long tail.
    ranks = np.arange(1, vocab.size + 1)
    p = 1.0 / ranks**1.05
    p /= p.sum()
    ids = rng.choice(vocab.size, size=(n, length), p=p)
    return [" ".join(vocab[row]) for row in ids]


def _pick(rng: np.random.Generator, pool: list[str], lo: int, hi: int) -> list[str]:
    return list(rng.choice(pool, size=int(rng.integers(lo, hi + 1)), replace=False))


def build(
    n_experts: int, n_docs: int, n_words: int, seed: int = 0
) -> tuple[list[ExpertProfile], list[RequestProfile]]:
    """A synthetic directory and 200 requests."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng, 40_000)
    docs = _texts(rng, vocab, n_experts * n_docs, n_words)
    experts = [
        ExpertProfile(
            id=f"e{j:05d}",
            documents=docs[j * n_docs : (j + 1) * n_docs],
            themes=_pick(rng, THEMES, 2, 6),
            target_groups=_pick(rng, GROUPS, 1, 4),
            formats=_pick(rng, FORMATS, 1, 4),
            languages=_pick(rng, LANGS, 1, 3),
            countries=_pick(rng, COUNTRIES, 1, 3),
            capacity=int(rng.integers(1, 5)),
            active_engagements=int(rng.integers(0, 4)),
            feedback=[float(x) for x in rng.integers(1, 6, size=int(rng.integers(0, 4)))],
        )
        for j in range(n_experts)
    ]
    texts = _texts(rng, vocab, 200, 80)
    requests = [
        RequestProfile(
            id=f"r{i:03d}",
            text=texts[i],
            themes=_pick(rng, THEMES, 1, 3),
            target_groups=_pick(rng, GROUPS, 1, 2),
            formats=_pick(rng, FORMATS, 1, 2),
            languages=_pick(rng, LANGS, 1, 2),
            country=str(rng.choice(COUNTRIES)),
        )
        for i in range(200)
    ]
    return experts, requests


def _peak_mib() -> float:
    # ru_maxrss is the process's peak resident set size, in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(samples: list[float]) -> tuple[float, float]:
    a = np.array(samples) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--experts", type=int, default=10_000, help="directory size (default 10000)"
    )
    parser.add_argument("--docs", type=int, default=5, help="documents per expert (default 5)")
    parser.add_argument("--words", type=int, default=150, help="words per document (default 150)")
    parser.add_argument("--queries", type=int, default=200, help="rank calls to time (max 200)")
    parser.add_argument(
        "--text-baseline",
        choices=["mean", "csls", "none"],
        default="mean",
        help="Matcher(text_baseline=...) to time (default mean, the Matcher's default)",
    )
    args = parser.parse_args(argv)

    t = time.perf_counter()
    experts, requests = build(args.experts, args.docs, args.words)
    requests = requests[: args.queries]
    print(
        f"synthetic directory: {len(experts)} experts x {args.docs} docs x {args.words} words "
        f"built in {time.perf_counter() - t:.1f} s; peak RSS so far {_peak_mib():.0f} MiB"
    )
    gc.collect()

    t = time.perf_counter()
    baseline = None if args.text_baseline == "none" else args.text_baseline
    matcher = Matcher(text_baseline=baseline).fit(experts)
    fit_s = time.perf_counter() - t

    matcher.rank(requests[0], k=10)  # warm-up
    rank_times = []
    for r in requests:
        t = time.perf_counter()
        matcher.rank(r, k=10)
        rank_times.append(time.perf_counter() - t)
    rank_p50, rank_p99 = _percentiles(rank_times)

    t = time.perf_counter()
    scores = matcher.score_matrix(requests[:100])
    sm_s = time.perf_counter() - t
    if scores.shape != (min(100, len(requests)), len(experts)):
        raise SystemExit(f"unexpected score_matrix shape {scores.shape}")

    # Bare baseline: one word TF-IDF matrix over each expert's documents, a query
    # vector, a sparse dot product and an argpartition top-k. No reasons, no signals.
    corpus = ["\n".join(e.documents) for e in experts]
    t = time.perf_counter()
    vec = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
    x = vec.fit_transform(corpus)
    base_fit_s = time.perf_counter() - t
    del corpus
    base_times = []
    for r in requests:
        t = time.perf_counter()
        q = vec.transform([r.text])
        s = (x @ q.T).toarray().ravel()
        top = np.argpartition(-s, 10)[:10]
        top[np.argsort(-s[top])]
        base_times.append(time.perf_counter() - t)
    base_p50, base_p99 = _percentiles(base_times)
    # The same baseline with an inverted index, which is what the matcher itself uses.
    xt = x.T.tocsr()
    inv_times = []
    for r in requests:
        t = time.perf_counter()
        q = vec.transform([r.text])
        s = (q @ xt).toarray().ravel()
        top = np.argpartition(-s, 10)[:10]
        top[np.argsort(-s[top])]
        inv_times.append(time.perf_counter() - t)
    inv_p50, _ = _percentiles(inv_times)

    rows = [
        ("fit", f"{fit_s:.2f} s", f"target < 30 s; bare TF-IDF fit {base_fit_s:.2f} s"),
        (
            "rank p50 / p99",
            f"{rank_p50:.2f} / {rank_p99:.2f} ms",
            "k=10 with reasons; target p50 <= 10",
        ),
        (
            "baseline p50 / p99",
            f"{base_p50:.2f} / {base_p99:.2f} ms",
            "word TF-IDF, X @ q.T, top-k",
        ),
        ("ratio rank / baseline", f"{rank_p50 / base_p50:.2f} x", "p50; target <= 3x"),
        ("inverted baseline p50", f"{inv_p50:.2f} ms", "same, with a precomputed X.T (CSR)"),
        ("ratio rank / inverted", f"{rank_p50 / inv_p50:.2f} x", "p50; for reference"),
        ("score_matrix 100 req", f"{sm_s:.2f} s", ""),
        ("peak memory", f"{_peak_mib():.0f} MiB", "peak RSS via resource.getrusage; target < 1024"),
    ]
    for label, value, note in rows:
        print(f"{label:<24}{value:>18}   {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
