"""Score fusion: the Matcher ranks experts for a request and explains each rank."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from matching.concepts import CONCEPT_PREFIX, default_lexicon
from matching.profiles import (
    Decision,
    ExpertProfile,
    FrozenMap,
    Match,
    Reason,
    RequestProfile,
)
from matching.signals import DEFAULT_WEIGHTS, SIGNALS, TAG_FIELDS, SignalTable
from matching.text import BASELINES, CSLS_K, TextIndex

__all__ = ["CAPACITY_PENALTY", "LANGUAGE_PENALTY", "LearnResult", "Matcher"]

#: Subtracted when both sides gave languages and share none. Fused scores before
#: penalties lie in [0, 1] (weights sum to 1), so this puts every such expert below
#: every expert that shares a language or whose languages are unknown.
LANGUAGE_PENALTY = 1.0
#: Subtracted when an expert's declared capacity is fully booked.
CAPACITY_PENALTY = 0.05

LANGUAGE_NAMES: Mapping[str, str] = {
    "ar": "Arabic", "ca": "Catalan", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "eu": "Basque", "fi": "Finnish", "fr": "French",
    "gl": "Galician", "it": "Italian", "nb": "Norwegian", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "sv": "Swedish", "tr": "Turkish",
}  # fmt: skip
COUNTRY_NAMES: Mapping[str, str] = {
    "AT": "Austria", "BE": "Belgium", "CH": "Switzerland", "DE": "Germany", "DK": "Denmark",
    "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "the United Kingdom", "IE": "Ireland",
    "IT": "Italy", "LU": "Luxembourg", "NL": "the Netherlands", "NO": "Norway", "PL": "Poland",
    "PT": "Portugal", "SE": "Sweden", "TN": "Tunisia",
}  # fmt: skip
_TAG_REASON = {"themes": "shares themes", "target_groups": "works with", "formats": "offers"}


@dataclass(frozen=True)
class LearnResult:
    """Outcome of :meth:`Matcher.learn`.

    Attributes
    ----------
    updated : bool
        Whether the weights were replaced by learned ones.
    n_decisions : int
        Decisions that could be used (chosen expert known, at least one known
        expert passed over, chosen expert not vetoed).
    weights : mapping of str to float
        The weights now in use.
    message : str
        What happened, for a log line or the staff view.
    """

    updated: bool
    n_decisions: int
    weights: Mapping[str, float]
    message: str


def _validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(weights) - set(SIGNALS))
    if unknown:
        raise ValueError(
            f"unknown signal(s) in weights: {unknown}; known signals are {list(SIGNALS)}"
        )
    out = {}
    for name in SIGNALS:
        w = weights.get(name, 0.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not np.isfinite(w) or w < 0:
            raise ValueError(f"weight of {name!r} must be a non-negative number, got {w!r}")
        out[name] = float(w)
    total = sum(out.values())
    if total <= 0:
        raise ValueError("at least one weight must be positive")
    # Normalised to sum to 1 so the language penalty stays lexicographic.
    return {k: v / total for k, v in out.items()}


@dataclass(frozen=True)
class _Context:
    """What the matches of one request share, worked out once (see ``Matcher._matches``)."""

    request: RequestProfile
    query: Any  # the request's text vector, None without text or text index
    terms: dict[int, tuple[tuple[str, ...], tuple[str, ...]]]  # j -> (words, concept codes)
    weights: tuple[float, ...]  # weights_ in SIGNALS order
    base: float  # weights_["text"] times the request's text baseline
    tail: tuple[Reason, str] | None  # the text baseline's reason and its text, if base > 0
    tags: dict[str, frozenset[str]]  # the request's codes per TAG_FIELDS
    languages: tuple[str, ...]  # the request's languages, sorted


class Matcher(BaseEstimator):
    """Rank expert organisations for a technical-assistance request, with reasons.

    The score is a weighted sum of signals in [0, 1] (text similarity, theme,
    target-group and format overlap, shared language, country experience,
    availability, feedback) minus the request's text baseline (its typical
    text similarity to the directory, times the text weight) and fixed
    penalties for no common working language and a fully booked expert.
    Nothing is rescaled per request, so an expert's scores for different
    requests can be compared; the baseline makes them more comparable, because
    a request written in generic words no longer scores high with everyone.

    Parameters
    ----------
    analyzer : {"word", "prefix", "word+char"}, default="prefix"
        Text features; see :class:`matching.text.TextIndex`.
    prefix_length : int, default=5
        Word truncation length for ``analyzer="prefix"``.
    combine : {"concat", "centroid", "max", "mean", "max+centroid"}, default="max+centroid"
        How an expert's documents combine into one text score.
    lsa_components : int, default=0
        Components of an optional latent semantic layer (0 disables it).
    lsa_weight : float, default=0.3
        Share of the LSA similarity in the text score.
    max_features : int or None, default=None
        Cap on the text vocabulary.
    weights : mapping of str to float or None, default=None
        Signal weights; missing signals get 0 and the rest is normalised to
        sum to 1. ``None`` uses :data:`matching.signals.DEFAULT_WEIGHTS`.
    vocabulary : mapping of str to collection of str or None, default=None
        Known codes per field (``"themes"``, ``"target_groups"``, ``"formats"``).
        When given, unknown codes raise ``ValueError``.
    labels : mapping of str to str or None, default=None
        Human labels for codes (taxonomy, languages, countries) used in reasons.
    min_decisions : int, default=20
        Usable decisions :meth:`learn` needs before it replaces the weights.
    n_terms : int, default=3
        Shared terms quoted in the text reason.
    text_baseline : {"mean", "csls"} or None, default="mean"
        What is subtracted from each request's text similarities before they
        are weighted: ``"mean"``, the request's mean similarity over the
        experts with documents; ``"csls"``, its mean over its 10 most similar
        experts (the query term of CSLS hubness reduction); ``None``, nothing.
        The same value is subtracted for every expert of a request, so it never
        changes a request's ranking; it changes how an expert's scores for
        different requests compare. It depends only on the request and the
        fitted directory, not on the other requests scored with it.
    concepts : bool, default=True
        Add concept features from the domain lexicon (``matching/lexicon.json``)
        to the text model, so that requests and documents in different
        languages that name the same concept share a feature.
    concept_weight : float, default=1.0
        Factor on the weight of concept features in the text vectors.

    Attributes
    ----------
    expert_ids_ : list of str
        Expert ids in fit order (the columns of :meth:`score_matrix`).
    experts_ : list of ExpertProfile
    text_ : TextIndex or None
        ``None`` when no expert has documents.
    signals_ : SignalTable
    weights_ : dict of str to float
        Weights in use (defaults or learned), summing to 1.
    weights_source_ : {"default", "learned"}
    """

    def __init__(
        self,
        *,
        analyzer: str = "prefix",
        prefix_length: int = 5,
        combine: str = "max+centroid",
        lsa_components: int = 0,
        lsa_weight: float = 0.3,
        max_features: int | None = None,
        weights: Mapping[str, float] | None = None,
        vocabulary: Mapping[str, Collection[str]] | None = None,
        labels: Mapping[str, str] | None = None,
        min_decisions: int = 20,
        n_terms: int = 3,
        text_baseline: str | None = "mean",
        concepts: bool = True,
        concept_weight: float = 1.0,
    ) -> None:
        self.analyzer = analyzer
        self.prefix_length = prefix_length
        self.combine = combine
        self.lsa_components = lsa_components
        self.lsa_weight = lsa_weight
        self.max_features = max_features
        self.weights = weights
        self.vocabulary = vocabulary
        self.labels = labels
        self.min_decisions = min_decisions
        self.n_terms = n_terms
        self.text_baseline = text_baseline
        self.concepts = concepts
        self.concept_weight = concept_weight

    # ------------------------------------------------------------------ fit
    def fit(self, experts: Sequence[ExpertProfile]) -> Matcher:
        """Index a directory of experts.

        Parameters
        ----------
        experts : sequence of ExpertProfile
            The directory. Order defines the columns of :meth:`score_matrix`.

        Returns
        -------
        self : Matcher

        Raises
        ------
        ValueError
            No experts, an item that is not an ExpertProfile, duplicate ids, or
            a code outside ``vocabulary``.
        """
        if isinstance(experts, (str, bytes, ExpertProfile)) or not isinstance(experts, Sequence):
            raise ValueError("experts must be a list of ExpertProfile")
        if len(experts) == 0:
            raise ValueError("no experts to fit: the directory is empty")
        seen: set[str] = set()
        dupes: list[str] = []
        for i, e in enumerate(experts):
            if not isinstance(e, ExpertProfile):
                raise ValueError(f"experts[{i}] is a {type(e).__name__}, not an ExpertProfile")
            if e.id in seen:
                dupes.append(e.id)
            seen.add(e.id)
        if dupes:
            raise ValueError(f"duplicate expert ids: {sorted(set(dupes))}")
        vocab = self._vocabulary()
        for e in experts:
            self._check_codes(e, vocab, f"expert {e.id!r}")
        weights = _validate_weights(DEFAULT_WEIGHTS if self.weights is None else self.weights)
        if not isinstance(self.min_decisions, int) or self.min_decisions < 1:
            raise ValueError(
                f"min_decisions must be a positive integer, got {self.min_decisions!r}"
            )
        if self.text_baseline is not None and self.text_baseline not in BASELINES:
            raise ValueError(
                f"text_baseline must be one of {BASELINES} or None, got {self.text_baseline!r}"
            )

        docs = [list(e.documents) for e in experts]
        text: TextIndex | None = None
        if any(docs):
            text = TextIndex(
                analyzer=self.analyzer,
                prefix_length=self.prefix_length,
                combine=self.combine,
                lsa_components=self.lsa_components,
                lsa_weight=self.lsa_weight,
                max_features=self.max_features,
                concepts=self.concepts,
                concept_weight=self.concept_weight,
            ).fit(docs)
        self.experts_ = list(experts)
        self.expert_ids_ = [e.id for e in experts]
        self.index_ = {eid: j for j, eid in enumerate(self.expert_ids_)}
        self.text_ = text
        self.signals_ = SignalTable().fit(experts)
        self.weights_ = weights
        self.weights_source_ = "default"
        return self

    def _vocabulary(self) -> dict[str, frozenset[str]] | None:
        if self.vocabulary is None:
            return None
        if not isinstance(self.vocabulary, Mapping):
            raise ValueError("vocabulary must map a field name to its known codes")
        unknown = sorted(set(self.vocabulary) - set(TAG_FIELDS))
        if unknown:
            raise ValueError(f"vocabulary has unknown field(s) {unknown}; use {list(TAG_FIELDS)}")
        return {k: frozenset(v) for k, v in self.vocabulary.items()}

    @staticmethod
    def _check_codes(
        profile: ExpertProfile | RequestProfile,
        vocab: Mapping[str, frozenset[str]] | None,
        owner: str,
    ) -> None:
        if vocab is None:
            return
        for name, known in vocab.items():
            bad = sorted(set(getattr(profile, name)) - known)
            if bad:
                raise ValueError(f"{owner}: unknown {name.replace('_', ' ')} code(s) {bad}")

    # -------------------------------------------------------------- scoring
    def _check_requests(self, requests: Sequence[RequestProfile]) -> None:
        if isinstance(requests, RequestProfile) or not isinstance(requests, Sequence):
            raise ValueError("requests must be a list of RequestProfile")
        vocab = self._vocabulary()
        for i, r in enumerate(requests):
            if not isinstance(r, RequestProfile):
                raise ValueError(f"requests[{i}] is a {type(r).__name__}, not a RequestProfile")
            self._check_codes(r, vocab, f"request {r.id or i!r}")

    def _signal_values(
        self, requests: Sequence[RequestProfile], queries: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Signals (n_req, n_exp, n_sig), common-language status, capacity flags and
        each request's text baseline (n_req,), 0 without text or ``text_baseline``."""
        block = self.signals_.transform(requests)
        values = block.values
        baseline = np.zeros(len(requests), dtype=np.float64)
        if self.text_ is not None:
            has_text = np.array([bool(r.text.strip()) for r in requests])
            if has_text.any():
                if queries is None:
                    queries = self.text_.transform([r.text for r in requests if r.text.strip()])
                sims = self.text_.similarity(queries)
                values[has_text, :, 0] = sims
                if self.text_baseline is not None:
                    baseline[has_text] = self.text_.baseline(sims, self.text_baseline)
        return values, block.common_language, block.at_capacity, baseline

    def _fuse(
        self, values: np.ndarray, common: np.ndarray, at_cap: np.ndarray, baseline: np.ndarray
    ) -> np.ndarray:
        w = np.array([self.weights_[s] for s in SIGNALS])
        scores = values @ w
        scores -= (self.weights_["text"] * baseline)[:, None]
        scores -= LANGUAGE_PENALTY * (common == 0)
        scores -= CAPACITY_PENALTY * at_cap[None, :]
        return scores

    def score_matrix(
        self, requests: Sequence[RequestProfile], *, apply_vetoes: bool = False
    ) -> np.ndarray:
        """Scores of every request against every expert.

        Parameters
        ----------
        requests : sequence of RequestProfile
        apply_vetoes : bool, default=False
            If True, vetoed pairs (``request.excluded``) are ``-inf``.

        Returns
        -------
        ndarray of shape (n_requests, n_experts)
            Columns follow ``expert_ids_`` (fit order). Scores are comparable
            across rows: nothing is rescaled per request. The text baseline
            subtracts the same amount from every expert of a request, so it
            leaves each row's order alone and measures text fit relative to the
            directory, which is what makes a column's values comparable.
        """
        check_is_fitted(self, "weights_")
        self._check_requests(requests)
        n = len(requests)
        out = np.zeros((n, len(self.expert_ids_)), dtype=np.float64)
        step = max(1, 2_000_000 // max(len(self.expert_ids_) * len(SIGNALS), 1))
        for lo in range(0, n, step):
            chunk = requests[lo : lo + step]
            out[lo : lo + step] = self._fuse(*self._signal_values(chunk))
        if apply_vetoes:
            for i, r in enumerate(requests):
                for eid in r.excluded:
                    j = self.index_.get(eid)
                    if j is not None:
                        out[i, j] = -np.inf
        return out

    def rank(
        self, request: RequestProfile, k: int | None = 10, *, include_excluded: bool = False
    ) -> list[Match]:
        """Rank experts for one request, best first, with reasons.

        Parameters
        ----------
        request : RequestProfile
        k : int or None, default=10
            How many non-vetoed experts to return; ``None`` returns all.
        include_excluded : bool, default=False
            If True, vetoed experts follow the ranking (after the top ``k``),
            each with ``excluded_reason`` set and the veto as first reason.

        Returns
        -------
        list of Match
            Sorted by descending score; ties keep fit order.
        """
        check_is_fitted(self, "weights_")
        if not isinstance(request, RequestProfile):
            raise ValueError(f"request must be a RequestProfile, got {type(request).__name__}")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be a positive integer or None, got {k!r}")
        self._check_requests([request])
        query = None
        if self.text_ is not None and request.text.strip():
            query = self.text_.transform([request.text])
        values, common, at_cap, baseline = self._signal_values([request], query)
        scores = self._fuse(values, common, at_cap, baseline)[0]
        vetoed = np.zeros(scores.size, dtype=bool)
        for eid in request.excluded:
            j = self.index_.get(eid)
            if j is not None:
                vetoed[j] = True
        allowed = np.flatnonzero(~vetoed)
        kk = allowed.size if k is None else min(k, allowed.size)
        if kk < allowed.size:
            part = allowed[np.argpartition(-scores[allowed], kk - 1)[:kk]]
        else:
            part = allowed
        order = part[np.lexsort((part, -scores[part]))]
        if include_excluded:
            bad = np.flatnonzero(vetoed)
            order = np.concatenate([order, bad[np.lexsort((bad, -scores[bad]))]])
        return self._matches(request, query, order, values[0], common[0], at_cap, baseline[0])

    def explain(self, request: RequestProfile, expert_id: str) -> Match:
        """The Match of one expert for a request, whether or not it ranks in the top.

        Parameters
        ----------
        request : RequestProfile
        expert_id : str

        Returns
        -------
        Match
        """
        check_is_fitted(self, "weights_")
        self._check_requests([request])
        j = self.index_.get(expert_id)
        if j is None:
            raise ValueError(f"unknown expert id {expert_id!r}")
        query = None
        if self.text_ is not None and request.text.strip():
            query = self.text_.transform([request.text])
        values, common, at_cap, baseline = self._signal_values([request], query)
        order = np.array([j], dtype=np.intp)
        return self._matches(request, query, order, values[0], common[0], at_cap, baseline[0])[0]

    def _matches(
        self,
        request: RequestProfile,
        query: Any,
        order: np.ndarray,
        values: np.ndarray,
        common: np.ndarray,
        at_cap: np.ndarray,
        baseline: float,
    ) -> list[Match]:
        """The Match of each expert of ``order`` (positions), in that order.

        ``values`` (n_experts, n_signals), ``common`` and ``at_cap`` (n_experts,) are one
        request's rows of :meth:`_signal_values`. What every match of the request shares is
        worked out once here; so are the shared terms of the text reasons, for all the
        experts that get one at once (:meth:`TextIndex.shared_terms_many`).
        """
        baseline = float(baseline)
        terms: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        if query is not None and self.text_ is not None and self.weights_["text"] > 0:
            surface = self.text_.query_words(request.text)
            # The experts whose text contribution is positive: their text reason quotes terms.
            told = order[values[order, 0] > 0].tolist()
            if told:
                words = self.text_.shared_terms_many(query, told, surface, n=self.n_terms)
                concepts = self.text_.shared_terms_many(query, told, n=2, concepts=True)
                cut = len(CONCEPT_PREFIX)
                for j, w, c in zip(told, words, concepts, strict=True):
                    terms[j] = (tuple(w), tuple(code[cut:] for code in c))
        base = self.weights_["text"] * baseline
        tail = None
        if base > 0:
            reason = Reason(
                "text_baseline",
                {"baseline": baseline, "kind": self.text_baseline, "k": CSLS_K},
                -base,
            )
            tail = (reason, self._describe(reason))
        ctx = _Context(
            request=request,
            query=query,
            terms=terms,
            weights=tuple(self.weights_[s] for s in SIGNALS),
            base=base,
            tail=tail,
            tags={name: frozenset(getattr(request, name)) for name in TAG_FIELDS},
            languages=tuple(sorted(request.languages)),
        )
        return [
            self._match(ctx, j, row, c, a)
            for j, row, c, a in zip(
                order.tolist(),
                values[order].tolist(),
                common[order].tolist(),
                at_cap[order].tolist(),
                strict=True,
            )
        ]

    # -------------------------------------------------------------- reasons
    def _label(self, code: str) -> str:
        if self.labels and code in self.labels:
            return str(self.labels[code])
        return code.replace("_", " ")

    def _concept_label(self, code: str) -> str:
        if self.labels and code in self.labels:
            return str(self.labels[code])
        return default_lexicon().label(code)

    def _language(self, code: str) -> str:
        if self.labels and code in self.labels:
            return str(self.labels[code])
        return LANGUAGE_NAMES.get(code, code)

    def _country(self, code: str) -> str:
        if self.labels and code in self.labels:
            return str(self.labels[code])
        return COUNTRY_NAMES.get(code, code)

    def _match(
        self, ctx: _Context, j: int, values: Sequence[float], common: int, at_cap: bool
    ) -> Match:
        request, expert = ctx.request, self.experts_[j]
        contributions = {s: w * v for s, w, v in zip(SIGNALS, ctx.weights, values, strict=True)}
        base = ctx.base
        if base > 0:
            contributions["text_baseline"] = -base
        if common == 0:
            contributions["no_common_language"] = -LANGUAGE_PENALTY
        if at_cap:
            contributions["at_capacity"] = -CAPACITY_PENALTY
        score = float(sum(contributions.values()))
        signals = dict(zip(SIGNALS, values, strict=True))

        head: list[Reason] = []
        veto = request.excluded.get(expert.id)
        if veto is not None:
            head.append(Reason("excluded", {"reason": veto}))
        if common == 0:
            head.append(
                Reason(
                    "no_common_language",
                    {
                        "expert_languages": tuple(sorted(expert.languages)),
                        "request_languages": ctx.languages,
                    },
                    -LANGUAGE_PENALTY,
                )
            )
        if at_cap:
            head.append(
                Reason(
                    "at_capacity",
                    {"active": expert.active_engagements, "capacity": expert.capacity},
                    -CAPACITY_PENALTY,
                )
            )

        ranked: list[Reason] = []
        for s, v in signals.items():
            c = contributions[s]
            if c > 0:
                reason = self._reason(s, v, ctx, expert, j, c)
                if reason is not None:
                    ranked.append(reason)
        ranked.sort(key=lambda r: -(r.contribution or 0.0))
        head.extend(ranked)
        reasons = [self._describe(r) for r in head]
        if ctx.tail is not None:  # the text baseline: the same for every expert
            head.append(ctx.tail[0])
            reasons.append(ctx.tail[1])
        return Match(
            expert_id=expert.id,
            score=score,
            reasons=tuple(reasons),
            contributions=FrozenMap(contributions),
            signals=FrozenMap(signals),
            has_common_language=None if common == -1 else bool(common),
            at_capacity=at_cap,
            excluded_reason=veto,
            explanations=tuple(head),
        )

    def _reason(
        self,
        signal: str,
        value: float,
        ctx: _Context,
        expert: ExpertProfile,
        j: int,
        contribution: float,
    ) -> Reason | None:
        """The reason behind one signal's contribution, or None when it has nothing to say."""
        request = ctx.request
        if signal == "text":
            if value <= 0 or ctx.query is None or self.text_ is None:
                return None
            words, concepts = ctx.terms[j]  # every expert with a positive text contribution
            values = {"similarity": value, "terms": words, "concepts": concepts}
            return Reason("text", values, contribution)
        if signal in TAG_FIELDS:
            shared = sorted(ctx.tags[signal].intersection(getattr(expert, signal)))
            if not shared:
                return None
            return Reason(signal, {"codes": tuple(shared)}, contribution)
        if signal == "language":
            shared = sorted(request.languages & expert.languages)  # type: ignore[operator]
            if shared:
                return Reason("language", {"codes": tuple(shared)}, contribution)
            if request.languages and not expert.languages:
                return Reason("languages_not_given", {}, contribution)
            return None
        if signal == "country":
            if not request.country or value <= 0:
                return None
            return Reason("country", {"code": request.country}, contribution)
        if signal == "availability":
            if expert.capacity is None:
                return None
            values = {"free": expert.remaining_capacity, "capacity": expert.capacity}
            return Reason("availability", values, contribution)
        if signal == "feedback":
            if not expert.feedback:
                return None
            mean = sum(expert.feedback) / len(expert.feedback)
            return Reason("feedback", {"mean": mean, "n": len(expert.feedback)}, contribution)
        return None

    def _describe(self, reason: Reason) -> str:
        """The English text of a reason (``Match.reasons``), from the reason's own data."""
        code, v = reason.code, reason.values
        if code == "excluded":
            return f"excluded: {v['reason']}"
        if code == "no_common_language":
            return "no common working language (expert: {}; request: {})".format(
                ", ".join(v["expert_languages"]), ", ".join(v["request_languages"])
            )
        if code == "at_capacity":
            return f"at capacity ({v['active']} of {v['capacity']} engagements)"
        if code == "text_baseline":
            which = "mean" if v["kind"] == "mean" else f"top-{v['k']} mean"
            return (
                f"less this request's {which} text similarity to the directory, "
                f"{v['baseline']:.2f} (-{-(reason.contribution or 0.0):.3f})"
            )
        if code == "text":
            text = f"text similarity {v['similarity']:.2f}"
            if v["terms"]:
                text += f"; top shared terms: {', '.join(v['terms'])}"
            if v["concepts"]:
                names = ", ".join(self._concept_label(c) for c in v["concepts"])
                text += f"; shared concept: {names}"
        elif code in TAG_FIELDS:
            text = f"{_TAG_REASON[code]}: {', '.join(self._label(c) for c in v['codes'])}"
        elif code == "language":
            text = "works in " + ", ".join(self._language(c) for c in v["codes"])
        elif code == "languages_not_given":
            text = "working languages not given by the expert"
        elif code == "country":
            text = f"has worked in {self._country(v['code'])}"
        elif code == "availability":
            text = f"{v['free']} of {v['capacity']} engagement slots free"
        elif code == "feedback":
            n = v["n"]
            text = f"feedback {v['mean']:.1f}/5 from {n} engagement{'s' if n != 1 else ''}"
        else:  # pragma: no cover - REASON_CODES and this method change together
            raise ValueError(f"no English text for reason code {code!r}")
        return f"{text} (+{reason.contribution or 0.0:.3f})"

    # ------------------------------------------------------------- learning
    def learn(self, decisions: Sequence[Decision]) -> LearnResult:
        """Fit signal weights from staff decisions (chosen vs. passed-over experts).

        Uses a pairwise logistic regression without intercept on the
        difference of the chosen and each passed-over expert's signal vectors.
        Negative coefficients are set to 0 and the rest normalised to sum to 1.
        With fewer than ``min_decisions`` usable decisions the weights are kept.

        Parameters
        ----------
        decisions : sequence of Decision

        Returns
        -------
        LearnResult
            Also sets ``weights_`` and ``weights_source_`` when updated.
        """
        check_is_fitted(self, "weights_")
        if isinstance(decisions, Decision) or not isinstance(decisions, Sequence):
            raise ValueError("decisions must be a list of Decision")
        usable: list[tuple[int, int, list[int]]] = []
        requests: list[RequestProfile] = []
        for i, d in enumerate(decisions):
            if not isinstance(d, Decision):
                raise ValueError(f"decisions[{i}] is a {type(d).__name__}, not a Decision")
            chosen = self.index_.get(d.chosen)
            passed = [
                self.index_[p]
                for p in d.passed_over
                if p in self.index_ and p not in d.request.excluded
            ]
            if chosen is None or not passed or d.chosen in d.request.excluded:
                continue
            usable.append((len(requests), chosen, passed))
            requests.append(d.request)
        n = len(usable)
        if n < self.min_decisions:
            return LearnResult(
                updated=False,
                n_decisions=n,
                weights=dict(self.weights_),
                message=(
                    f"kept {self.weights_source_} weights: {n} usable decision(s), "
                    f"at least {self.min_decisions} needed"
                ),
            )
        self._check_requests(requests)
        values = self._signal_values(requests)[0]
        diffs = np.array([values[r, c] - values[r, p] for r, c, ps in usable for p in ps])
        x = np.vstack([diffs, -diffs])
        y = np.concatenate([np.ones(len(diffs)), np.zeros(len(diffs))])
        model = LogisticRegression(fit_intercept=False, C=1.0, max_iter=1000)
        model.fit(x, y)
        coef = np.clip(model.coef_.ravel(), 0.0, None)
        if coef.sum() <= 0:
            return LearnResult(
                updated=False,
                n_decisions=n,
                weights=dict(self.weights_),
                message=(
                    f"kept {self.weights_source_} weights: no signal predicts the {n} decisions"
                ),
            )
        self.weights_ = {s: float(c) for s, c in zip(SIGNALS, coef / coef.sum(), strict=True)}
        self.weights_source_ = "learned"
        return LearnResult(
            updated=True,
            n_decisions=n,
            weights=dict(self.weights_),
            message=f"learned weights from {n} decisions",
        )
