"""Measure ranking quality on a labelled set: ``python -m matching.evaluate PATH``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from matching.matcher import Matcher
from matching.profiles import ExpertProfile, RequestProfile

__all__ = [
    "VARIANTS",
    "EvalSet",
    "compare",
    "cross_lingual",
    "cross_lingual_table",
    "evaluate",
    "expert_side",
    "halves_table",
    "load_cross_lingual",
    "load_eval_set",
    "main",
    "mrr",
    "ndcg_at_k",
    "recall_at_k",
    "text_only",
]

#: A grade at or above this counts as relevant for MRR and recall.
RELEVANT = 2

#: Matcher parameters of each variant compared; the first is the default.
VARIANTS: Mapping[str, Mapping[str, Any]] = {
    "prefix5 max+centroid, mean baseline (default)": {
        "analyzer": "prefix",
        "prefix_length": 5,
        "combine": "max+centroid",
        "text_baseline": "mean",
    },
    "prefix5 max+centroid, mean baseline, no lexicon": {
        "analyzer": "prefix",
        "prefix_length": 5,
        "combine": "max+centroid",
        "text_baseline": "mean",
        "concepts": False,
    },
    "prefix5 max+centroid, no baseline": {
        "analyzer": "prefix",
        "prefix_length": 5,
        "combine": "max+centroid",
        "text_baseline": None,
    },
    "prefix5 max+centroid, CSLS-10 baseline": {
        "analyzer": "prefix",
        "prefix_length": 5,
        "combine": "max+centroid",
        "text_baseline": "csls",
    },
    "word concat": {"analyzer": "word", "combine": "concat"},
    "word max": {"analyzer": "word", "combine": "max"},
    "word+char concat": {"analyzer": "word+char", "combine": "concat"},
    "word+char max+centroid": {"analyzer": "word+char", "combine": "max+centroid"},
    "prefix5 concat": {"analyzer": "prefix", "prefix_length": 5, "combine": "concat"},
    "prefix5 centroid": {"analyzer": "prefix", "prefix_length": 5, "combine": "centroid"},
    "prefix5 max": {"analyzer": "prefix", "prefix_length": 5, "combine": "max"},
    "prefix5 mean": {"analyzer": "prefix", "prefix_length": 5, "combine": "mean"},
    "prefix4 max+centroid": {"analyzer": "prefix", "prefix_length": 4, "combine": "max+centroid"},
    "prefix6 max+centroid": {"analyzer": "prefix", "prefix_length": 6, "combine": "max+centroid"},
    "prefix5 max+centroid +LSA": {
        "analyzer": "prefix",
        "prefix_length": 5,
        "combine": "max+centroid",
        "lsa_components": 30,
    },
}


@dataclass(frozen=True)
class EvalSet:
    """Experts, requests and graded judgements (``relevance[i]``: expert id -> 0-3)."""

    experts: tuple[ExpertProfile, ...]
    requests: tuple[RequestProfile, ...]
    relevance: tuple[Mapping[str, int], ...]

    def grades(self) -> np.ndarray:
        """Grade matrix of shape (n_requests, n_experts), experts in set order."""
        ids = [e.id for e in self.experts]
        return np.array([[rel.get(eid, 0) for eid in ids] for rel in self.relevance], dtype=float)

    def subset(self, rows: Sequence[int]) -> EvalSet:
        """The same experts with only the given requests."""
        return replace(
            self,
            requests=tuple(self.requests[i] for i in rows),
            relevance=tuple(self.relevance[i] for i in rows),
        )


_EXPERT_FIELDS = (
    "id", "documents", "themes", "target_groups", "formats", "languages", "countries",
    "capacity", "active_engagements", "feedback",
)  # fmt: skip
_REQUEST_FIELDS = (
    "id",
    "text",
    "themes",
    "target_groups",
    "formats",
    "languages",
    "country",
    "excluded",
    "demand",
)


def load_eval_set(path: str | Path) -> EvalSet:
    """Read an evaluation set from JSON.

    Parameters
    ----------
    path : str or Path
        A JSON file with ``experts`` and ``requests`` lists; each request has
        a ``relevance`` object mapping expert ids to grades 0-3.

    Returns
    -------
    EvalSet
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    experts = tuple(
        ExpertProfile(**{k: v for k, v in e.items() if k in _EXPERT_FIELDS})
        for e in data["experts"]
    )
    known = {e.id for e in experts}
    requests, relevance = [], []
    for r in data["requests"]:
        rel = {str(k): int(v) for k, v in r.get("relevance", {}).items()}
        unknown = sorted(set(rel) - known)
        if unknown:
            raise ValueError(f"request {r.get('id')!r} grades unknown experts {unknown}")
        requests.append(RequestProfile(**{k: v for k, v in r.items() if k in _REQUEST_FIELDS}))
        relevance.append(rel)
    return EvalSet(experts=experts, requests=tuple(requests), relevance=tuple(relevance))


def text_only(data: EvalSet) -> EvalSet:
    """Drop every structured field: experts keep documents, requests keep text."""
    return replace(
        data,
        experts=tuple(ExpertProfile(id=e.id, documents=e.documents) for e in data.experts),
        requests=tuple(RequestProfile(id=r.id, text=r.text) for r in data.requests),
    )


def _dcg(gains: np.ndarray) -> float:
    return float(np.sum((2.0**gains - 1.0) / np.log2(np.arange(2, gains.size + 2))))


def ndcg_at_k(scores: np.ndarray, grades: np.ndarray, k: int = 5) -> float:
    """nDCG@k (exponential gain) of items ordered by descending score; ties keep order."""
    order = np.argsort(-scores, kind="stable")[:k]
    ideal = _dcg(np.sort(grades)[::-1][:k])
    return _dcg(grades[order]) / ideal if ideal > 0 else float("nan")


def mrr(scores: np.ndarray, grades: np.ndarray, threshold: int = RELEVANT) -> float:
    """Reciprocal rank of the first item with grade >= threshold."""
    order = np.argsort(-scores, kind="stable")
    hits = np.flatnonzero(grades[order] >= threshold)
    return 1.0 / (hits[0] + 1) if hits.size else float("nan")


def recall_at_k(
    scores: np.ndarray, grades: np.ndarray, k: int = 3, threshold: int = RELEVANT
) -> float:
    """Share of items with grade >= threshold that appear in the top k."""
    relevant = grades >= threshold
    if not relevant.any():
        return float("nan")
    top = np.argsort(-scores, kind="stable")[:k]
    return float(relevant[top].sum() / relevant.sum())


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return 0.0 if np.ptp(ry) > 0 else float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def expert_side(scores: np.ndarray, grades: np.ndarray) -> dict[str, float]:
    """How well each expert's own scores order the requests by its grades.

    Parameters
    ----------
    scores, grades : ndarray of shape (n_requests, n_experts)

    Returns
    -------
    dict
        ``expert_spearman``: mean per-expert Spearman correlation between
        scores and grades over all requests; ``expert_ndcg@5``: mean per-expert
        nDCG@5 of the requests ordered by that expert's scores. Experts with a
        single grade value are skipped.
    """
    rhos, ndcgs = [], []
    for j in range(scores.shape[1]):
        g = grades[:, j]
        if np.ptp(g) == 0:
            continue
        rhos.append(_spearman(scores[:, j], g))
        ndcgs.append(ndcg_at_k(scores[:, j], g, 5))
    return {"expert_spearman": float(np.nanmean(rhos)), "expert_ndcg@5": float(np.nanmean(ndcgs))}


def evaluate(
    matcher: Matcher, data: EvalSet, rows: Sequence[int] | None = None
) -> dict[str, float]:
    """Fit ``matcher`` on the set's experts and score its requests.

    Parameters
    ----------
    matcher : Matcher
        Unfitted or fitted; it is (re)fitted on ``data.experts``.
    data : EvalSet
    rows : sequence of int or None
        Requests to score (all by default).

    Returns
    -------
    dict
        ``ndcg@5``, ``mrr``, ``recall@3`` (means over requests) and the
        :func:`expert_side` measures.
    """
    sub = data if rows is None else data.subset(rows)
    matcher.fit(list(sub.experts))
    scores = matcher.score_matrix(list(sub.requests))
    grades = sub.grades()
    per = np.array(
        [
            [ndcg_at_k(s, g, 5), mrr(s, g), recall_at_k(s, g, 3)]
            for s, g in zip(scores, grades, strict=True)
        ]
    )
    out = dict(zip(("ndcg@5", "mrr", "recall@3"), np.nanmean(per, axis=0).tolist(), strict=True))
    out.update(expert_side(scores, grades))
    return out


#: Variants compared on the cross-lingual set: the default with and without the lexicon.
CROSS_LINGUAL_VARIANTS: Mapping[str, Mapping[str, Any]] = {
    "lexicon (default)": {},
    "no lexicon": {"concepts": False},
}


def load_cross_lingual(path: str | Path, data: EvalSet) -> dict[str, EvalSet]:
    """Read translated requests and pair them with their originals in ``data``.

    Parameters
    ----------
    path : str or Path
        JSON with a ``requests`` list; each item has ``id``, ``source`` (the id
        of the original request in ``data``), ``language`` and ``text``.
    data : EvalSet
        The evaluation set the originals come from.

    Returns
    -------
    dict of str to EvalSet
        ``"en"``: the originals that were translated, in order; then one set
        per language, each translation taking its original's grades and
        structured fields, so only the text differs.
    """
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    pos = {r.id: i for i, r in enumerate(data.requests)}
    by_lang: dict[str, list[tuple[int, str, str]]] = {}
    sources: list[int] = []
    for item in raw["requests"]:
        src = str(item["source"])
        if src not in pos:
            raise ValueError(f"translation {item.get('id')!r} names unknown source {src!r}")
        i = pos[src]
        if i not in sources:
            sources.append(i)
        by_lang.setdefault(str(item["language"]), []).append((i, str(item["id"]), item["text"]))
    out = {"en": data.subset(sources)}
    for lang, items in by_lang.items():
        requests = tuple(replace(data.requests[i], id=rid, text=text) for i, rid, text in items)
        out[lang] = replace(
            data,
            requests=requests,
            relevance=tuple(data.relevance[i] for i, _, _ in items),
        )
    return out


def cross_lingual(
    sets: Mapping[str, EvalSet],
    variants: Mapping[str, Mapping[str, Any]] = CROSS_LINGUAL_VARIANTS,
) -> list[tuple[str, str, dict[str, float]]]:
    """nDCG@5 per language, in text-only and structured mode, for each variant.

    Returns
    -------
    list of (mode, variant, {language: nDCG@5, ...})
        Languages in the order of ``sets`` (English originals first).
    """
    out = []
    for mode in ("text-only", "structured"):
        for name, params in variants.items():
            row = {}
            for lang, d in sets.items():
                sub = text_only(d) if mode == "text-only" else d
                row[lang] = evaluate(Matcher(**params), sub)["ndcg@5"]
            out.append((mode, name, row))
    return out


def cross_lingual_table(rows: list[tuple[str, str, dict[str, float]]], markdown: bool) -> str:
    """Format :func:`cross_lingual` rows: nDCG@5 per language and the gap to English."""
    langs = list(rows[0][2])
    others = [lang for lang in langs if lang != "en"]
    head = ("mode", "variant", *langs, *(f"gap {lang}" for lang in others), "mean gap")
    body = []
    for mode, name, r in rows:
        gaps = [r[lang] - r["en"] for lang in others]
        body.append(
            (
                mode,
                name,
                *(f"{r[lang]:.3f}" for lang in langs),
                *(f"{g:+.3f}" for g in gaps),
                f"{float(np.mean(gaps)):+.3f}" if gaps else "-",
            )
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [head, *body])


_COLUMNS = ("ndcg@5", "mrr", "recall@3", "expert_spearman", "expert_ndcg@5")


def compare(
    data: EvalSet, variants: Mapping[str, Mapping[str, Any]] = VARIANTS
) -> list[tuple[str, str, dict[str, float]]]:
    """Evaluate every variant in text-only and structured mode.

    Returns
    -------
    list of (mode, variant, metrics)
    """
    out = []
    for mode, d in (("text-only", text_only(data)), ("structured", data)):
        for name, params in variants.items():
            out.append((mode, name, evaluate(Matcher(**params), d)))
    return out


def split_check(data: EvalSet, variants: Mapping[str, Mapping[str, Any]] = VARIANTS) -> list[str]:
    """Choose the best variant on one half of the requests and report it on the other.

    The halves are the even and odd request positions; selection is by the
    sum of nDCG@5 and expert-side Spearman in text-only mode.
    """
    d = text_only(data)
    halves = (list(range(0, len(d.requests), 2)), list(range(1, len(d.requests), 2)))
    lines = []
    for a, b, label in ((0, 1, "A->B"), (1, 0, "B->A")):
        scored = {name: evaluate(Matcher(**p), d, halves[a]) for name, p in variants.items()}
        best = max(scored, key=lambda n: scored[n]["ndcg@5"] + scored[n]["expert_spearman"])
        held = evaluate(Matcher(**variants[best]), d, halves[b])
        default = evaluate(Matcher(**next(iter(variants.values()))), d, halves[b])
        lines.append(
            f"{label}: chose {best!r} on half {'AB'[a]}; on held-out half {'AB'[b]}: "
            f"nDCG@5 {held['ndcg@5']:.3f}, expert Spearman {held['expert_spearman']:.3f} "
            f"(default variant: {default['ndcg@5']:.3f}, {default['expert_spearman']:.3f})"
        )
    return lines


def halves_table(
    data: EvalSet, variants: Mapping[str, Mapping[str, Any]] = VARIANTS
) -> list[tuple[str, str, dict[str, float]]]:
    """Every variant on each half of the requests (even / odd positions), both modes.

    Returns
    -------
    list of (mode, "variant [half]", metrics)
    """
    halves = {"A": range(0, len(data.requests), 2), "B": range(1, len(data.requests), 2)}
    out = []
    for mode, d in (("text-only", text_only(data)), ("structured", data)):
        for name, params in variants.items():
            for half, rows in halves.items():
                out.append((mode, f"{name} [{half}]", evaluate(Matcher(**params), d, list(rows))))
    return out


def _table(rows: list[tuple[str, str, dict[str, float]]], markdown: bool) -> str:
    head = ("mode", "variant", *_COLUMNS)
    body = [
        (m, v, *(f"{r[c]:.3f}" if not math.isnan(r[c]) else "-" for c in _COLUMNS))
        for m, v, r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [head, *body])


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints the comparison table."""
    parser = argparse.ArgumentParser(prog="python -m matching.evaluate", description=__doc__)
    parser.add_argument("path", help="evaluation set (JSON), e.g. tests/data/eval_set.json")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--no-split", action="store_true", help="skip the held-out split check")
    parser.add_argument(
        "--halves", action="store_true", help="also print every variant on each half"
    )
    parser.add_argument(
        "--cross-lingual",
        metavar="PATH",
        help="translated requests (JSON); default: <name>_crosslingual.json next to PATH, if any",
    )
    args = parser.parse_args(argv)
    data = load_eval_set(args.path)
    xl_path = args.cross_lingual
    if xl_path is None:
        guess = Path(args.path).with_name(Path(args.path).stem + "_crosslingual.json")
        xl_path = guess if guess.exists() else None
    print(
        f"{len(data.experts)} experts, {len(data.requests)} requests; "
        f"relevant = grade >= {RELEVANT}"
    )
    print(_table(compare(data), args.markdown))
    if args.halves:
        print()
        print(_table(halves_table(data), args.markdown))
    if not args.no_split:
        print()
        print("\n".join(split_check(data)))
    if xl_path is not None:
        sets = load_cross_lingual(xl_path, data)
        print()
        print(
            f"cross-lingual ({xl_path}): nDCG@5 of {len(sets['en'].requests)} English requests "
            "and their translations; gap = language - en"
        )
        print(cross_lingual_table(cross_lingual(sets), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
