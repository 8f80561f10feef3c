"""Text features: a multilingual TF-IDF index over experts' documents and its similarities."""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer, strip_accents_unicode
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from matching.concepts import CONCEPT_PREFIX, ConceptLexicon, default_lexicon

__all__ = [
    "ANALYSIS_CACHE_BYTES",
    "ANALYZERS",
    "BASELINES",
    "COMBINERS",
    "CSLS_K",
    "Analyzer",
    "TextIndex",
    "clear_analysis_cache",
]

ANALYZERS = ("word", "prefix", "word+char")
COMBINERS = ("concat", "centroid", "max", "mean", "max+centroid")
#: How a request's text baseline is taken from its similarities to the directory.
BASELINES = ("mean", "csls")
#: Neighbourhood size of the ``"csls"`` baseline (the CSLS paper's default).
CSLS_K = 10

# Function words of the partners' languages, written without accents because the
# analyzer strips them first. Kept short on purpose: IDF handles the rest.
_STOPWORD_TEXT = """
    a about all also an and any are as at be been being both but by can could did do does
    each for from had has have he her his how i if in into is it its just may might more
    most must my no not of on only or other our out over own per same she should so such
    than that the their them then there these they this those to under up us very via was
    we were what when where which who whom will with would you your
    after again against because before during further here once through until while why
    within without one two three four five six first second new several many some few
    get got make made set way well even still yet however therefore thus whether among
    au aux avec ce ces cet cette d dans de des du elle elles en est et etre ete il ils l la
    le les leur leurs mais ne nos notre nous on ont ou par pas plus pour qu que qui sa sans
    deux trois apres avant pendant entre quand comme aussi tout tous toute toutes autre autres
    se ses son sont sur tres un une vos votre vous
    al como con del el es esta estas este estos fue ha han hay las lo los mas muy nuestra
    nuestras nuestro nuestros para pero por se ser sin sobre su sus tambien unas uno unos y ya
    dos tres despues antes durante entre cuando donde hasta desde otro otra otros otras
    amb aquesta aquestes aquest aquests els hi i amb molt nostra nostre nostres per seu seus
    seva seves tambe uns unes
    aan al bij dan dat deze die dit door een er geen het hij hun is maar met naar niet nog
    of om onze ook op over te tot uit van voor was wel wij wordt worden zijn ze zo
    twee drie na tijdens tussen wanneer waar hoe andere alle
    als auch auf aus bei dass dem den der dich dies diese dieser ein eine einem einen einer
    eines er fur hat haben ihr ihre im ist mit nach nicht noch oder sich sie sind uber um und
    unser unsere vom von wie wir wird zu zum zur
    zwei drei nach vor wahrend zwischen wenn wo andere alle
    ar att av de den det efter en ett fran for har hon inte man med men nar och om pa sin
    sina sitt som till under var vara vi
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


class Analyzer:
    """Lowercase, strip accents, drop function words and digits, optionally truncate.

    Truncating words to their first ``prefix_length`` characters is a crude but
    language-independent stemmer: it folds inflection ("radicalised",
    "radicalisation") and many cognates across the partners' languages
    ("radicalización", "radicalisering") onto one feature, at the cost of a
    word TF-IDF, which the char n-gram alternative does not have.

    Parameters
    ----------
    prefix_length : int or None, default=None
        Keep only this many leading characters of each word; ``None`` keeps words whole.
    lexicon : ConceptLexicon or None, default=None
        If given, append one ``CONCEPT:<code>`` token per lexicon match to the
        words, so that texts in different languages share concept features.
    """

    def __init__(
        self, prefix_length: int | None = None, lexicon: ConceptLexicon | None = None
    ) -> None:
        self.prefix_length = prefix_length
        self.lexicon = lexicon

    def pairs(self, text: str) -> list[tuple[str, str]]:
        """Return ``(feature, surface word)`` pairs, the surface word lowercased."""
        out = []
        for word in _TOKEN.findall(text.lower()):
            plain = strip_accents_unicode(word)
            if plain in _STOPWORDS or plain.isdigit():
                continue
            out.append((self._cut(plain), word))
        if self.lexicon is not None:
            out.extend(
                (CONCEPT_PREFIX + code, CONCEPT_PREFIX + code)
                for code, _ in self.lexicon.match(text)
            )
        return out

    def _cut(self, word: str) -> str:
        p = self.prefix_length
        return word if p is None else word[:p]

    def __call__(self, text: str) -> list[str]:
        key = (self.prefix_length, self.lexicon, text)
        tokens = _CACHE.get(key)
        if tokens is None:
            tokens = self._analyse(text)
            _CACHE.put(key, tokens)
        return list(tokens)

    def _analyse(self, text: str) -> tuple[str, ...]:
        p = self.prefix_length
        words = _TOKEN.findall(strip_accents_unicode(text.lower()))
        if p is None:
            out = [w for w in words if w not in _STOPWORDS and not w.isdigit()]
        else:
            out = [w[:p] for w in words if w not in _STOPWORDS and not w.isdigit()]
        if self.lexicon is not None:
            out.extend(self.lexicon.tokens(text))
        # Interned: the cache then holds each distinct feature name once, not once per use.
        return tuple(map(sys.intern, out))


class _AnalysisCache:
    """Least recently used analyses of documents, bounded by an estimate of their memory.

    The app refits its index whenever a document is added (every delivered report), and
    analysing the texts (tokenising and the lexicon) was three quarters of a fit; almost all
    of them are the same texts as in the previous fit. Entries are keyed by the analyzer's
    settings (prefix length and lexicon object, compared by identity) and the full text, so a
    hit returns exactly what analysing would. Thread-safe: one lock around dict operations.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._data: OrderedDict[tuple[Any, ...], tuple[tuple[str, ...], int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[str, ...] | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: tuple[Any, ...], tokens: tuple[str, ...]) -> None:
        # The text, the tuple of references and ~200 bytes of key and dict entry; the token
        # strings are interned, shared with the vectorizer's vocabulary, and not counted.
        cost = sys.getsizeof(key[-1]) + sys.getsizeof(tokens) + 200
        if cost > self.max_bytes // 16:
            return  # one huge text would evict everything else
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._data[key] = (tokens, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, freed) = self._data.popitem(last=False)
                self.size -= freed

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._data)


#: Memory bound of the per-process cache of analysed documents (estimated bytes). 64 MiB
#: holds about 40,000 documents of the bench's size (~110 words, ~800 characters).
ANALYSIS_CACHE_BYTES = 64 * 1024 * 1024
_CACHE = _AnalysisCache(ANALYSIS_CACHE_BYTES)


def clear_analysis_cache() -> None:
    """Forget every cached analysis (tests and benchmarks; results never depend on it)."""
    _CACHE.clear()


def _segment_reduce(sims: np.ndarray, offsets: np.ndarray, how: str) -> np.ndarray:
    """Reduce per-document columns to per-expert columns (experts own contiguous docs)."""
    starts = offsets[:-1]
    counts = np.diff(offsets)
    has = counts > 0
    out = np.zeros((sims.shape[0], counts.size), dtype=np.float64)
    if not has.any():
        return out
    if how == "max":
        out[:, has] = np.maximum.reduceat(sims, starts[has], axis=1)
    else:
        out[:, has] = np.add.reduceat(sims, starts[has], axis=1) / counts[has]
    return out


def _position(j: object) -> bool:
    return isinstance(j, (int, np.integer)) and not isinstance(j, bool)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])``, without a loop."""
    lens = ends - starts
    return np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())


def _top_in_segments(
    values: np.ndarray, starts: np.ndarray, n: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ``n`` largest values of each segment, largest first, the first of
    equal values first: for each segment ``seg``, ``np.argsort(-seg, kind="stable")[:n]``.

    Segments start at ``starts`` (increasing, the first 0) and run to the next start or
    the end of ``values``. Returns the positions, segment after segment, and how many
    each segment has.
    """
    lens = np.diff(np.r_[starts, values.size])
    if n is not None and 0 <= n <= 16 and np.isfinite(values).all():
        # A handful of passes, each taking every segment's first largest remaining value.
        k = min(n, int(lens.max(initial=0)))
        seg = np.repeat(np.arange(starts.size), lens)
        position = np.arange(values.size)
        work = values.astype(np.float64)
        picks = np.full((starts.size, k), -1, dtype=np.int64)
        for p in range(k):
            live = lens > p
            top = np.maximum.reduceat(work, starts)
            first = np.minimum.reduceat(np.where(work == top[seg], position, values.size), starts)
            picks[live, p] = first[live]
            work[first[live]] = -np.inf
        return picks[picks >= 0], np.minimum(lens, k)
    chunks = [
        a + np.argsort(-values[a : a + m], kind="stable")[:n]
        for a, m in zip(starts.tolist(), lens.tolist(), strict=True)
    ]
    counts = np.array([c.size for c in chunks], dtype=np.int64)
    return np.concatenate(chunks).astype(np.int64), counts


class TextIndex(BaseEstimator):
    """TF-IDF index of experts' documents, scoring a query against each expert.

    Parameters
    ----------
    analyzer : {"word", "prefix", "word+char"}, default="prefix"
        ``"word"``: whole words. ``"prefix"``: words truncated to
        ``prefix_length`` characters. ``"word+char"``: whole words plus
        ``char_wb`` 3-5-grams (slow on large directories; kept for comparison).
    prefix_length : int, default=5
        Truncation length for ``analyzer="prefix"``.
    combine : {"concat", "centroid", "max", "mean", "max+centroid"}, default="max"
        How an expert's documents become one score: one concatenated
        document, the cosine to the centroid of its documents, the best
        document, the mean over documents, or the average of max and centroid.
    lsa_components : int, default=0
        If positive, add a latent semantic (TruncatedSVD) similarity with this
        many components, mixed in with weight ``lsa_weight``.
    lsa_weight : float, default=0.3
        Weight of the LSA similarity when ``lsa_components > 0``.
    max_features : int or None, default=None
        Cap on the TF-IDF vocabulary (most frequent terms kept).
    concepts : bool, default=False
        Add ``CONCEPT:<code>`` features from the domain lexicon
        (:mod:`matching.concepts`) to documents and queries.
    concept_weight : float, default=1.0
        Factor on the TF-IDF weight of concept features before normalisation.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted word (or truncated word) vectorizer.
    char_vectorizer_ : TfidfVectorizer or None
        The char n-gram vectorizer for ``analyzer="word+char"``.
    doc_matrix_ : scipy.sparse.csr_matrix of shape (n_rows, n_features)
        L2-normalised rows: one per document, or one per expert for
        ``combine`` in ``{"concat", "centroid"}``.
    postings_ : scipy.sparse.csr_matrix of shape (n_features, n_rows)
        The transpose of ``doc_matrix_`` in CSR form: an inverted index that
        makes a query cost the length of its terms' postings.
    offsets_ : ndarray of shape (n_experts + 1,)
        Row ``offsets_[j]:offsets_[j+1]`` of ``doc_matrix_`` belong to expert ``j``.
    lsa_ : TruncatedSVD or None
    lsa_matrix_ : ndarray or None
        Normalised LSA embedding of each row of ``doc_matrix_``.
    """

    def __init__(
        self,
        *,
        analyzer: str = "prefix",
        prefix_length: int = 5,
        combine: str = "max",
        lsa_components: int = 0,
        lsa_weight: float = 0.3,
        max_features: int | None = None,
        concepts: bool = False,
        concept_weight: float = 1.0,
    ) -> None:
        self.analyzer = analyzer
        self.prefix_length = prefix_length
        self.combine = combine
        self.lsa_components = lsa_components
        self.lsa_weight = lsa_weight
        self.max_features = max_features
        self.concepts = concepts
        self.concept_weight = concept_weight

    def _check_params(self) -> None:
        if self.analyzer not in ANALYZERS:
            raise ValueError(f"analyzer must be one of {ANALYZERS}, got {self.analyzer!r}")
        if self.combine not in COMBINERS:
            raise ValueError(f"combine must be one of {COMBINERS}, got {self.combine!r}")
        if not isinstance(self.prefix_length, int) or self.prefix_length < 2:
            raise ValueError(f"prefix_length must be an integer >= 2, got {self.prefix_length!r}")
        if not isinstance(self.lsa_components, int) or self.lsa_components < 0:
            raise ValueError(
                f"lsa_components must be a non-negative integer, got {self.lsa_components!r}"
            )
        if not 0.0 <= self.lsa_weight <= 1.0:
            raise ValueError(f"lsa_weight must be in [0, 1], got {self.lsa_weight!r}")
        if not isinstance(self.concept_weight, (int, float)) or not self.concept_weight >= 0:
            raise ValueError(f"concept_weight must be >= 0, got {self.concept_weight!r}")

    def fit(self, documents: Sequence[Sequence[str]]) -> TextIndex:
        """Build the index.

        Parameters
        ----------
        documents : sequence of sequence of str
            For each expert, in order, its documents (possibly none).

        Returns
        -------
        self : TextIndex
        """
        self._check_params()
        per_doc = self.combine in ("max", "mean", "max+centroid")
        if per_doc:
            rows = [doc for docs in documents for doc in docs]
            counts = [len(docs) for docs in documents]
        else:
            rows = ["\n".join(docs) for docs in documents]
            counts = [1] * len(documents)
        self.offsets_ = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.analyzer_ = Analyzer(
            self.prefix_length if self.analyzer == "prefix" else None,
            default_lexicon() if self.concepts else None,
        )
        self.vectorizer_ = TfidfVectorizer(
            analyzer=self.analyzer_,
            sublinear_tf=True,
            dtype=np.float32,
            max_features=self.max_features,
        )
        self.char_vectorizer_ = None
        if not any(self.analyzer_(r) for r in rows):
            raise ValueError(
                "the experts' documents contain no usable words (only function words, digits "
                "or punctuation); give profile text or rely on structured fields"
            )
        matrix = self.vectorizer_.fit_transform(rows)
        self.feature_names_ = self.vectorizer_.get_feature_names_out()
        self.concept_mask_ = np.char.startswith(self.feature_names_.astype(str), CONCEPT_PREFIX)
        scale = np.where(self.concept_mask_, np.float32(self.concept_weight), np.float32(1.0))
        self.scale_ = scale.astype(np.float32) if self.concept_mask_.any() else None
        if self.scale_ is not None:
            matrix = sp.csr_matrix(matrix @ sp.diags(self.scale_))
        if self.analyzer == "word+char":
            self.char_vectorizer_ = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(3, 5),
                sublinear_tf=True,
                strip_accents="unicode",
                dtype=np.float32,
                max_features=self.max_features,
            )
            chars = self.char_vectorizer_.fit_transform(rows)
            matrix = sp.hstack([matrix, chars], format="csr")
        matrix = normalize(matrix).astype(np.float32)
        self.idf_ = self.vectorizer_.idf_.astype(np.float32)
        if self.scale_ is not None:
            self.idf_ = self.idf_ * self.scale_
        self.doc_matrix_ = sp.csr_matrix(matrix)
        if self.combine in ("centroid", "max+centroid"):
            self.centroid_matrix_ = self._centroids(documents)
        else:
            self.centroid_matrix_ = None
        self.centroid_postings_ = (
            None if self.centroid_matrix_ is None else self.centroid_matrix_.T.tocsr()
        )
        self.postings_ = self.doc_matrix_.T.tocsr()
        self.lsa_ = None
        self.lsa_matrix_ = None
        k = min(self.lsa_components, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if self.lsa_components and k >= 2:
            self.lsa_ = TruncatedSVD(n_components=k, random_state=0)
            self.lsa_matrix_ = normalize(self.lsa_.fit_transform(self.doc_matrix_)).astype(
                np.float32
            )
        self.n_experts_ = len(documents)
        return self

    def _centroids(self, documents: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Per-expert normalised mean of its normalised document vectors."""
        if self.combine == "centroid":
            # Rows are concatenations; rebuild per-document vectors to average them.
            docs = [doc for d in documents for doc in d]
            counts = np.array([len(d) for d in documents])
            mat = normalize(self._vectorize(docs))
        else:
            mat = self.doc_matrix_
            counts = np.diff(self.offsets_)
        owner = np.repeat(np.arange(len(documents)), counts)
        agg = sp.csr_matrix(
            (np.ones(owner.size, dtype=np.float32), (owner, np.arange(owner.size))),
            shape=(len(documents), mat.shape[0]),
        )
        return sp.csr_matrix(normalize(agg @ mat).astype(np.float32))

    def _vectorize(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self.char_vectorizer_ is not None:
            words = self.vectorizer_.transform(texts)
            if self.scale_ is not None:
                words = words @ sp.diags(self.scale_)
            matrix = sp.hstack([words, self.char_vectorizer_.transform(texts)], format="csr")
            return sp.csr_matrix(matrix, dtype=np.float32)
        # Same result as vectorizer_.transform (sublinear tf x idf, then L2 norm by the
        # caller) without its per-call validation, which dominates for one short query.
        vocab = self.vectorizer_.vocabulary_
        idf = self.idf_
        indptr, indices, data = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for token in self.analyzer_(text):
                j = vocab.get(token)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
            tf = np.array([counts[c] for c in cols], dtype=np.float32)
            indices.append(cols)
            data.append((np.log(tf) + 1.0) * idf[cols])
            indptr.append(indptr[-1] + cols.size)
        return sp.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(texts), self.doc_matrix_.shape[1]),
        )

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Return L2-normalised query vectors, one row per text."""
        check_is_fitted(self, "doc_matrix_")
        return sp.csr_matrix(normalize(self._vectorize(texts)), dtype=np.float32)

    def row_similarity(self, queries: sp.csr_matrix) -> np.ndarray:
        """Cosine of each query to each row of ``doc_matrix_`` (documents or experts)."""
        check_is_fitted(self, "doc_matrix_")
        sims = (queries @ self.postings_).toarray()
        if self.lsa_ is not None:
            q = normalize(self.lsa_.transform(queries)).astype(np.float32)
            lsa = np.clip(q @ self.lsa_matrix_.T, 0.0, 1.0)
            sims = (1.0 - self.lsa_weight) * sims + self.lsa_weight * lsa
        return sims

    def similarity(self, queries: sp.csr_matrix) -> np.ndarray:
        """Text similarity in [0, 1] of each query to each expert.

        Parameters
        ----------
        queries : sparse matrix of shape (n_queries, n_features)
            Output of :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_queries, n_experts), float64
        """
        if self.combine == "centroid":
            sims = (queries @ self.centroid_postings_).toarray().astype(np.float64)
            return np.clip(sims, 0.0, 1.0)
        rows = self.row_similarity(queries)
        if self.combine == "concat":
            out = rows.astype(np.float64)
        elif self.combine in ("max", "mean"):
            out = _segment_reduce(rows, self.offsets_, self.combine)
        else:
            best = _segment_reduce(rows, self.offsets_, "max")
            cent = (queries @ self.centroid_postings_).toarray()
            out = 0.5 * best + 0.5 * cent
        return np.clip(out, 0.0, 1.0)

    def baseline(self, sims: np.ndarray, how: str = "mean") -> np.ndarray:
        """A request's typical text similarity to the directory, one value per row.

        Parameters
        ----------
        sims : ndarray of shape (n_queries, n_experts)
            Output of :meth:`similarity`.
        how : {"mean", "csls"}, default="mean"
            ``"mean"``: the mean similarity over the experts that have
            documents. ``"csls"``: the mean over the query's ``CSLS_K`` most
            similar experts (the query term of cross-domain similarity local
            scaling).

        Returns
        -------
        ndarray of shape (n_queries,)
            In [0, 1] and never above the row's best similarity. Zero when
            fewer than two experts have documents: with one there is nothing
            to compare against, and subtracting its own similarity would make
            every request look the same to it.
        """
        check_is_fitted(self, "doc_matrix_")
        if how not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}, got {how!r}")
        has = np.diff(self.offsets_) > 0
        n = int(has.sum())
        if n < 2 or sims.shape[0] == 0:
            return np.zeros(sims.shape[0], dtype=np.float64)
        own = np.asarray(sims, dtype=np.float64)[:, has]
        if how == "mean":
            return own.mean(axis=1)
        k = min(CSLS_K, n)
        return np.partition(own, n - k, axis=1)[:, n - k :].mean(axis=1)

    def query_words(self, text: str) -> dict[str, str]:
        """Map each feature of ``text`` to the first word of ``text`` that produced it."""
        check_is_fitted(self, "doc_matrix_")
        surface: dict[str, str] = {}
        for feature, word in self.analyzer_.pairs(text):
            surface.setdefault(feature, word)
        return surface

    def shared_terms(
        self,
        query: sp.csr_matrix,
        expert: int,
        surface: dict[str, str] | None = None,
        n: int = 3,
        concepts: bool = False,
    ) -> list[str]:
        """The query's terms that contribute most to its similarity with one expert.

        Parameters
        ----------
        query : sparse matrix of shape (1, n_features)
            One row of :meth:`transform`.
        expert : int
            Position of the expert in fit order.
        surface : dict of str to str or None
            :meth:`query_words` of the query text, to report words as the
            query spells them rather than as truncated features.
        n : int, default=3
            How many terms at most.
        concepts : bool, default=False
            Return concept features (``CONCEPT:<code>``) instead of words.

        Returns
        -------
        list of str
        """
        return self.shared_terms_many(query, [expert], surface, n=n, concepts=concepts)[0]

    def shared_terms_many(
        self,
        query: sp.csr_matrix,
        experts: Sequence[int] | np.ndarray,
        surface: dict[str, str] | None = None,
        n: int = 3,
        concepts: bool = False,
    ) -> list[list[str]]:
        """:meth:`shared_terms` of several experts for one query, in one pass.

        The same lists as ``[shared_terms(query, j, surface, n, concepts) for j in
        experts]``, worked out with array operations over all their documents at once
        instead of one scan of each expert's documents after another (a ranked page
        explains every expert of the directory).

        Parameters
        ----------
        query : sparse matrix of shape (1, n_features)
            One row of :meth:`transform`.
        experts : sequence of int
            Positions of experts in fit order.
        surface, n, concepts
            As for :meth:`shared_terms`.

        Returns
        -------
        list of list of str
            One list per item of ``experts``, in that order.
        """
        check_is_fitted(self, "doc_matrix_")
        wanted = list(experts)
        if not self._batchable(query):
            return [self._shared_terms_one(query, j, surface, n, concepts) for j in wanted]
        ok = [_position(j) and 0 <= j < self.n_experts_ for j in wanted]
        found = self._top_terms(
            self._query_hits(query, [int(j) for j, y in zip(wanted, ok, strict=True) if y]),
            n,
            concepts,
        )
        out = []
        for j, y in zip(wanted, ok, strict=True):
            if not y:  # whatever the scan makes of it (an IndexError, or nothing)
                out.append(self._shared_terms_one(query, j, surface, n, concepts))
                continue
            names = found.get(j, [])
            out.append([surface.get(f, f) for f in names] if surface else list(names))
        return out

    def _batchable(self, query: Any) -> bool:
        """Whether :meth:`_query_hits` finds what the scan of :meth:`_shared_terms_one` does:
        a query of one row whose columns are sorted and distinct (as :meth:`transform` gives)."""
        return (
            sp.issparse(query)
            and query.format == "csr"
            and query.shape == (1, self.doc_matrix_.shape[1])
            and bool(query.has_canonical_format)
        )

    def _query_hits(
        self, query: sp.csr_matrix, experts: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The experts' stored entries in the query's columns, as ``(expert, feature,
        contribution)`` arrays in the order the scan of each document meets them (experts
        and documents in fit order, entries in stored order); for ``combine="max"`` only the
        document that :meth:`_shared_terms_one` picks (the first with the largest sum)."""
        m = self.doc_matrix_
        js = np.unique(np.asarray(experts, dtype=np.int64))
        lo, hi = self.offsets_[js], self.offsets_[js + 1]
        rows = _ranges(lo, hi)
        starts, ends = m.indptr[rows].astype(np.int64), m.indptr[rows + 1].astype(np.int64)
        pos = _ranges(starts, ends)
        # Position in the query of each entry's column, -1 when the query lacks it.
        where = np.full(m.shape[1], -1, dtype=np.int64)
        where[query.indices] = np.arange(query.indices.size)
        at = where[m.indices[pos]]
        hit = at >= 0
        pos, at = pos[hit], at[hit]
        rows = np.repeat(rows, ends - starts)[hit]
        owner = np.repeat(np.repeat(js, hi - lo), ends - starts)[hit]
        feats = m.indices[pos]
        contrib = m.data[pos] * query.data[at]
        if self.combine == "max" and rows.size:
            rows_start = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            bounds = np.r_[rows_start, rows.size]
            chosen = np.full(self.n_experts_, -1, dtype=np.int64)
            seg_owner = owner[rows_start]
            j_start = np.flatnonzero(np.r_[True, seg_owner[1:] != seg_owner[:-1]])
            for a, b in zip(j_start, np.r_[j_start[1:], seg_owner.size], strict=True):
                j = int(seg_owner[a])
                first, n_docs = int(self.offsets_[j]), int(self.offsets_[j + 1] - self.offsets_[j])
                if n_docs == 1:
                    chosen[j] = first
                    continue
                # max() over the expert's documents by the sum of their contributions (each
                # summed alone, as the scan does), 0.0 without any; the first maximum wins.
                sums = [0.0] * n_docs
                for r in range(a, b):
                    seg = contrib[bounds[r] : bounds[r + 1]]
                    sums[int(rows[bounds[r]]) - first] = float(seg.sum())
                chosen[j] = first + max(range(n_docs), key=sums.__getitem__)
            keep = rows == chosen[owner]
            feats, contrib, owner = feats[keep], contrib[keep], owner[keep]
        return owner, feats, contrib

    def _top_terms(
        self, hits: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, concepts: bool
    ) -> dict[int, list[str]]:
        """The feature names :meth:`_shared_terms_one` returns (before ``surface``), per
        expert with any: contributions summed per (expert, feature) in the order met, then
        the ``n`` largest sums, ties by feature position."""
        owner, feats, contrib = hits
        keep = feats < len(self.vectorizer_.vocabulary_)  # word-vectorizer features only
        keep &= self.concept_mask_[np.minimum(feats, self.concept_mask_.size - 1)] == concepts
        owner, feats, contrib = owner[keep], feats[keep], contrib[keep]
        if owner.size == 0:
            return {}
        # One group per (expert, feature); bincount adds each group's contributions in the
        # order they come, as np.bincount over one expert's terms does.
        key = owner * np.int64(self.concept_mask_.size + 1) + feats
        by_key = np.argsort(key, kind="stable")
        k_key = key[by_key]
        new = np.r_[True, k_key[1:] != k_key[:-1]]
        group_sorted = np.cumsum(new) - 1
        group = np.empty_like(group_sorted)
        group[by_key] = group_sorted
        total = np.bincount(group, weights=contrib)
        g_owner, g_feat = owner[by_key][new], feats[by_key][new]
        starts = np.flatnonzero(np.r_[True, g_owner[1:] != g_owner[:-1]])
        # Each expert's groups come in feature order, so the first of equal totals is the
        # one the stable argsort of that expert's totals puts first.
        picked, counts = _top_in_segments(total, starts, n)
        names = [str(f) for f in self.feature_names_[g_feat[picked]].tolist()]
        out, at = {}, 0
        for j, c in zip(g_owner[starts].tolist(), counts.tolist(), strict=True):
            out[j] = names[at : at + c]
            at += c
        return out

    def _shared_terms_one(
        self,
        query: sp.csr_matrix,
        expert: int,
        surface: dict[str, str] | None,
        n: int,
        concepts: bool,
    ) -> list[str]:
        """:meth:`shared_terms` by scanning the expert's documents, for any query."""
        lo, hi = int(self.offsets_[expert]), int(self.offsets_[expert + 1])
        if hi <= lo or query.nnz == 0:
            return []
        q_idx, q_val = query.indices, query.data
        order = np.argsort(q_idx)
        q_idx, q_val = q_idx[order], q_val[order]
        m = self.doc_matrix_
        per_row = []
        for r in range(lo, hi):
            idx = m.indices[m.indptr[r] : m.indptr[r + 1]]
            val = m.data[m.indptr[r] : m.indptr[r + 1]]
            pos = np.minimum(np.searchsorted(q_idx, idx), q_idx.size - 1)
            hit = q_idx[pos] == idx
            per_row.append((idx[hit], val[hit] * q_val[pos[hit]]))
        if self.combine == "max":
            feats, contrib = max(per_row, key=lambda t: float(t[1].sum()))
        else:
            feats = np.concatenate([f for f, _ in per_row])
            contrib = np.concatenate([c for _, c in per_row])
        keep = feats < len(self.vectorizer_.vocabulary_)  # word-vectorizer features only
        keep &= self.concept_mask_[np.minimum(feats, self.concept_mask_.size - 1)] == concepts
        feats, contrib = feats[keep], contrib[keep]
        if feats.size == 0:
            return []
        uniq, inv = np.unique(feats, return_inverse=True)
        total = np.bincount(inv, weights=contrib)
        top = uniq[np.argsort(-total, kind="stable")[:n]]
        names = [str(self.feature_names_[i]) for i in top]
        return [surface.get(f, f) if surface else f for f in names]
