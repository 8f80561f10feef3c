"""Frozen input and output records of the matcher, validated at the edge."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "REASON_CODES",
    "Decision",
    "ExpertProfile",
    "FrozenMap",
    "Match",
    "Reason",
    "RequestProfile",
]

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping used inside the frozen records.

    Parameters
    ----------
    data : mapping or iterable of pairs, default=()
        The items to hold. They are copied.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self._data: dict[str, Any] = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # The dict's own lookups: Mapping's generic ones go through __getitem__ and, for a
    # missing key, a KeyError caught (the matcher asks every vetoes map once per expert).
    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __getstate__(self) -> dict[str, Any]:
        return self._data

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data = dict(state)


def _codes(value: Any, what: str, owner: str) -> frozenset[str]:
    """Normalise an optional collection of non-empty string codes to a frozenset."""
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)):
        raise ValueError(
            f"{owner}: {what} must be a collection of codes such as {{'{value!s}'}}, "
            "not a single string"
        )
    if not isinstance(value, Iterable):
        raise ValueError(
            f"{owner}: {what} must be a collection of strings, got {type(value).__name__}"
        )
    out = set()
    for code in value:
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"{owner}: {what} contains {code!r}; codes must be non-empty strings")
        out.add(code.strip())
    return frozenset(out)


def _languages(value: Any, owner: str) -> frozenset[str]:
    codes = frozenset(c.lower() for c in _codes(value, "languages", owner))
    bad = sorted(c for c in codes if not _LANGUAGE.match(c))
    if bad:
        raise ValueError(
            f"{owner}: languages must be ISO 639-1 codes such as 'en' or 'es', got {bad}"
        )
    return codes


def _country(value: Any, owner: str) -> str:
    if not isinstance(value, str) or not _COUNTRY.match(value.strip().upper()):
        raise ValueError(
            f"{owner}: country must be an ISO 3166 alpha-2 code such as 'ES', got {value!r}"
        )
    return value.strip().upper()


def _countries(value: Any, owner: str) -> frozenset[str]:
    return frozenset(_country(c, owner) for c in _codes(value, "countries", owner))


def _count(value: Any, what: str, owner: str, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{owner}: {what} must be a non-negative integer, got {value!r}")
    return int(value)


def _identifier(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


@dataclass(frozen=True)
class ExpertProfile:
    """What the matcher knows about one expert organisation.

    Only ``id`` is required; every structured field is optional, so a profile
    made of ``documents`` alone is valid. A profile with nothing at all (a new
    organisation) is accepted too: it gets no text or tag score and ranks on
    the neutral signals only.

    Parameters
    ----------
    id : str
        Stable identifier, unique within a directory.
    documents : sequence of str, default=()
        The organisation's profile text followed by the reports of activities it
        delivered. Blank documents are dropped.
    themes, target_groups, formats : collection of str, default=()
        Taxonomy codes (for example ``"exit_mentoring"``, ``"returnees"``,
        ``"training"``).
    languages : collection of str, default=()
        ISO 639-1 working languages, for example ``{"de", "en"}``.
    countries : collection of str, default=()
        ISO 3166 alpha-2 codes of countries the expert has worked in.
    capacity : int or None, default=None
        Engagements the expert can run at once; ``None`` means unknown.
    active_engagements : int, default=0
        Engagements currently running.
    feedback : sequence of float, default=()
        Ratings from past engagements on a 1-5 scale.
    """

    id: str
    documents: Sequence[str] = ()
    themes: Collection[str] = frozenset()
    target_groups: Collection[str] = frozenset()
    formats: Collection[str] = frozenset()
    languages: Collection[str] = frozenset()
    countries: Collection[str] = frozenset()
    capacity: int | None = None
    active_engagements: int = 0
    feedback: Sequence[float] = ()

    def __post_init__(self) -> None:
        ident = _identifier(self.id, "ExpertProfile.id")
        owner = f"expert {ident!r}"
        docs = self.documents
        if isinstance(docs, (str, bytes)):
            raise ValueError(f"{owner}: documents must be a list of strings, not a single string")
        if not isinstance(docs, Iterable):
            raise ValueError(
                f"{owner}: documents must be a list of strings, got {type(docs).__name__}"
            )
        kept = []
        for i, doc in enumerate(docs):
            if not isinstance(doc, str):
                raise ValueError(
                    f"{owner}: document {i} is a {type(doc).__name__}; documents must be strings"
                )
            if doc.strip():
                kept.append(doc)
        ratings = []
        if isinstance(self.feedback, (str, bytes)) or not isinstance(self.feedback, Iterable):
            raise ValueError(f"{owner}: feedback must be a list of ratings from 1 to 5")
        for r in self.feedback:
            if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r):
                raise ValueError(f"{owner}: feedback rating {r!r} is not a number")
            if not 1 <= r <= 5:
                raise ValueError(f"{owner}: feedback rating {r!r} is outside 1-5")
            ratings.append(float(r))
        object.__setattr__(self, "id", ident)
        object.__setattr__(self, "documents", tuple(kept))
        object.__setattr__(self, "themes", _codes(self.themes, "themes", owner))
        object.__setattr__(
            self, "target_groups", _codes(self.target_groups, "target_groups", owner)
        )
        object.__setattr__(self, "formats", _codes(self.formats, "formats", owner))
        object.__setattr__(self, "languages", _languages(self.languages, owner))
        object.__setattr__(self, "countries", _countries(self.countries, owner))
        object.__setattr__(
            self, "capacity", _count(self.capacity, "capacity", owner, allow_none=True)
        )
        object.__setattr__(
            self,
            "active_engagements",
            _count(self.active_engagements, "active_engagements", owner, allow_none=False),
        )
        object.__setattr__(self, "feedback", tuple(ratings))

    @property
    def remaining_capacity(self) -> int | None:
        """Engagements the expert can still take, or ``None`` when capacity is unknown."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.active_engagements, 0)


@dataclass(frozen=True)
class RequestProfile:
    """A local authority's request for technical assistance.

    Parameters
    ----------
    text : str, default=""
        Context and needs in the city's words, in any partner language.
    themes, target_groups, formats : collection of str, default=()
        Taxonomy codes.
    languages : collection of str, default=()
        ISO 639-1 languages the city can work in.
    country : str or None, default=None
        ISO 3166 alpha-2 code of the city's country.
    excluded : mapping of str to str, default={}
        Vetoes: expert id -> reason (conflict of interest, excluded by staff).
    id : str or None, default=None
        Identifier used by :func:`matching.assign` and in messages.
    demand : int, default=1
        Number of experts the request needs (used by :func:`matching.assign`).

    Raises
    ------
    ValueError
        If the request has neither text nor themes, target groups or formats,
        or a field has the wrong type.
    """

    text: str = ""
    themes: Collection[str] = frozenset()
    target_groups: Collection[str] = frozenset()
    formats: Collection[str] = frozenset()
    languages: Collection[str] = frozenset()
    country: str | None = None
    excluded: Mapping[str, str] = field(default_factory=FrozenMap)
    id: str | None = None
    demand: int = 1

    def __post_init__(self) -> None:
        ident = None if self.id is None else _identifier(self.id, "RequestProfile.id")
        owner = "request" if ident is None else f"request {ident!r}"
        if not isinstance(self.text, str):
            raise ValueError(f"{owner}: text must be a string, got {type(self.text).__name__}")
        excluded = self.excluded if self.excluded is not None else {}
        if not isinstance(excluded, Mapping):
            raise ValueError(f"{owner}: excluded must map expert id -> reason")
        for key, reason in excluded.items():
            if not isinstance(key, str) or not key.strip():
                raise ValueError(
                    f"{owner}: excluded has expert id {key!r}; ids must be non-empty strings"
                )
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(
                    f"{owner}: the veto of {key!r} needs a reason (a non-empty string)"
                )
        demand = _count(self.demand, "demand", owner, allow_none=False)
        if demand == 0:
            raise ValueError(f"{owner}: demand must be at least 1")
        object.__setattr__(self, "id", ident)
        object.__setattr__(self, "themes", _codes(self.themes, "themes", owner))
        object.__setattr__(
            self, "target_groups", _codes(self.target_groups, "target_groups", owner)
        )
        object.__setattr__(self, "formats", _codes(self.formats, "formats", owner))
        object.__setattr__(self, "languages", _languages(self.languages, owner))
        object.__setattr__(
            self, "country", None if self.country is None else _country(self.country, owner)
        )
        object.__setattr__(
            self, "excluded", FrozenMap({k.strip(): v.strip() for k, v in excluded.items()})
        )
        object.__setattr__(self, "demand", demand)
        if not (self.text.strip() or self.themes or self.target_groups or self.formats):
            raise ValueError(
                f"{owner} is empty: give some text describing context and needs, "
                "or at least one theme, target group or format"
            )


#: Every ``Reason.code`` the matcher produces, each with the keys of its ``values``.
#: Values are codes and numbers, never prose, except the veto's reason (given by the caller)
#: and the shared ``terms`` (the request's own words).
REASON_CODES: Mapping[str, tuple[str, ...]] = FrozenMap(
    {
        # The request vetoes the expert; ``reason`` is RequestProfile.excluded's text.
        "excluded": ("reason",),
        # Both gave languages and share none (sorted ISO 639-1 codes).
        "no_common_language": ("expert_languages", "request_languages"),
        # Declared capacity fully booked.
        "at_capacity": ("active", "capacity"),
        # Text similarity (raw cosine), the request's own words that weigh most in it, and
        # the lexicon concepts both texts name (codes without the ``CONCEPT:`` prefix).
        "text": ("similarity", "terms", "concepts"),
        # Shared taxonomy codes of one field, sorted.
        "themes": ("codes",),
        "target_groups": ("codes",),
        "formats": ("codes",),
        # Shared working languages (sorted ISO 639-1 codes).
        "language": ("codes",),
        # The request gave languages, the expert none.
        "languages_not_given": (),
        # The expert has worked in the request's country (ISO 3166 alpha-2).
        "country": ("code",),
        # Free engagement slots out of the declared capacity.
        "availability": ("free", "capacity"),
        # Mean rating (1-5) over ``n`` past engagements.
        "feedback": ("mean", "n"),
        # The request's text baseline subtracted from the score: ``kind`` is "mean" or
        # "csls" (mean over the ``k`` most similar experts), ``baseline`` the raw similarity.
        "text_baseline": ("baseline", "kind", "k"),
    }
)


@dataclass(frozen=True)
class Reason:
    """One reason of a :class:`Match`, as data: what a translated interface renders.

    Parameters
    ----------
    code : str
        What kind of reason this is; one of :data:`REASON_CODES`.
    values : mapping of str to object, default={}
        Its data: codes (tuples of taxonomy, language or country codes), counts and
        raw numbers, with the keys listed in :data:`REASON_CODES` for ``code``.
    contribution : float or None, default=None
        The reason's share of the score, as in ``Match.contributions``: positive for
        the signals (quoted as "(+0.108)"), negative for the text baseline (quoted)
        and the two penalties (not quoted); ``None`` for the veto, which changes no
        score.
    """

    code: str
    values: Mapping[str, Any] = field(default_factory=FrozenMap)
    contribution: float | None = None

    def __post_init__(self) -> None:
        if self.code not in REASON_CODES:
            raise ValueError(
                f"unknown reason code {self.code!r}; known codes are {sorted(REASON_CODES)}"
            )
        if not isinstance(self.values, Mapping):
            raise ValueError(f"reason {self.code!r}: values must be a mapping")
        keys = REASON_CODES[self.code]
        if not set(self.values).issuperset(keys):
            missing = sorted(set(keys) - set(self.values))
            raise ValueError(f"reason {self.code!r}: values lack {missing}")
        object.__setattr__(self, "values", FrozenMap(self.values))
        if self.contribution is not None:
            object.__setattr__(self, "contribution", float(self.contribution))


@dataclass(frozen=True)
class Match:
    """One ranked expert for one request.

    Attributes
    ----------
    expert_id : str
        The expert's id.
    score : float
        Fused score; comparable across requests. Experts with no common
        working language carry a penalty that puts them below every expert
        that shares one.
    reasons : tuple of str
        Human-readable reasons in English, built from ``contributions`` and
        ``signals``: the head (veto, no common language, at capacity), then the
        signals that add to the score, largest first, then the text baseline.
    contributions : mapping of str to float
        Weighted contribution of each signal; they sum to ``score``.
    signals : mapping of str to float
        The raw signal values in [0, 1] behind the contributions.
    has_common_language : bool or None
        ``None`` when either side gave no languages.
    at_capacity : bool
        The expert's declared capacity is fully booked.
    excluded_reason : str or None
        The veto's reason, if the request excludes this expert.
    explanations : tuple of Reason
        The same reasons as data, one per item of ``reasons`` and in the same
        order (``reasons[i]`` is the English text of ``explanations[i]``, both
        built from one record). A translated interface renders these: each has a
        ``code`` (see :data:`REASON_CODES`), ``values`` made of codes and numbers,
        and the ``contribution`` it quotes.
    """

    expert_id: str
    score: float
    reasons: tuple[str, ...]
    contributions: Mapping[str, float]
    signals: Mapping[str, float]
    has_common_language: bool | None
    at_capacity: bool
    excluded_reason: str | None = None
    explanations: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        explanations = tuple(self.explanations)
        if explanations and len(explanations) != len(self.reasons):
            raise ValueError(
                f"match {self.expert_id!r}: {len(explanations)} explanations for "
                f"{len(self.reasons)} reasons; give one per reason, in the same order"
            )
        object.__setattr__(self, "explanations", explanations)

    @property
    def excluded(self) -> bool:
        """Whether the request vetoes this expert."""
        return self.excluded_reason is not None


@dataclass(frozen=True)
class Decision:
    """A staff decision on a request: one expert chosen, others passed over.

    Parameters
    ----------
    request : RequestProfile
        The request as it was when decided.
    chosen : str
        Id of the approved expert.
    passed_over : sequence of str
        Ids of candidates shown but not chosen.
    """

    request: RequestProfile
    chosen: str
    passed_over: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.request, RequestProfile):
            raise ValueError("Decision.request must be a RequestProfile")
        chosen = _identifier(self.chosen, "Decision.chosen")
        if isinstance(self.passed_over, (str, bytes)):
            raise ValueError(
                "Decision.passed_over must be a list of expert ids, not a single string"
            )
        passed = tuple(
            dict.fromkeys(_identifier(p, "Decision.passed_over item") for p in self.passed_over)
        )
        if chosen in passed:
            raise ValueError(f"Decision: {chosen!r} is both chosen and passed over")
        object.__setattr__(self, "chosen", chosen)
        object.__setattr__(self, "passed_over", passed)
