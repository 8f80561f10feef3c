"""Map text onto the shared concepts of a domain lexicon kept as data (``lexicon.json``).

Every taxonomy concept lists its terms in each partner language. A text is
lowercased, stripped of accents and split into words; at each word the longest
lexicon term starting there is taken (terms are whole words, multi-word terms
allowed) and yields a ``CONCEPT:<code>`` token for each concept it names. A
Spanish "asesoramiento familiar" and an English "family counselling" thus share
the token ``CONCEPT:family_network_support`` although they share no prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from sklearn.feature_extraction.text import strip_accents_unicode

__all__ = ["CONCEPT_PREFIX", "LEXICON_PATH", "ConceptLexicon", "default_lexicon"]

#: Prefix of concept features; cannot collide with analyzer words (those have no ":").
CONCEPT_PREFIX = "CONCEPT:"
LEXICON_PATH = Path(__file__).with_name("lexicon.json")
_WORD = re.compile(r"(?u)\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(strip_accents_unicode(text.lower()))


class ConceptLexicon:
    """Longest-match lookup of lexicon terms in normalised text.

    Parameters
    ----------
    concepts : mapping of str to mapping
        Concept code -> ``{"label": str, "<lang>": [term, ...], ...}``.
    """

    def __init__(self, concepts: Mapping[str, Mapping[str, object]]) -> None:
        table: dict[tuple[str, ...], set[str]] = {}
        labels: dict[str, str] = {}
        for code, entry in concepts.items():
            labels[code] = str(entry.get("label", code.replace("_", " ")))
            for lang, terms in entry.items():
                if lang == "label":
                    continue
                for term in terms:  # type: ignore[union-attr]
                    key = tuple(_words(str(term)))
                    if key:
                        table.setdefault(key, set()).add(code)
        self.table = {k: tuple(sorted(v)) for k, v in table.items()}
        self.labels = labels
        self.max_len = max((len(k) for k in self.table), default=0)
        # Longest term starting with each first word: most words start no term.
        self.first: dict[str, int] = {}
        for key in self.table:
            self.first[key[0]] = max(self.first.get(key[0], 0), len(key))

    @classmethod
    def load(cls, path: str | Path = LEXICON_PATH) -> ConceptLexicon:
        """Read a lexicon file (``{"concepts": {code: {...}}}``)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["concepts"])

    def match_words(self, words: list[str]) -> list[tuple[str, str]]:
        """``(concept code, matched term)`` pairs of already normalised words, in text order."""
        out: list[tuple[str, str]] = []
        table, first, n, i = self.table, self.first, len(words), 0
        while i < n:
            longest = first.get(words[i], 0)
            for size in range(min(longest, n - i), 0, -1):
                codes = table.get(tuple(words[i : i + size]))
                if codes is not None:
                    term = " ".join(words[i : i + size])
                    out.extend((code, term) for code in codes)
                    i += size
                    break
            else:
                i += 1
        return out

    def match(self, text: str) -> list[tuple[str, str]]:
        """``(concept code, matched term)`` pairs of ``text``, in text order."""
        return self.match_words(_words(text))

    def tokens(self, text: str) -> list[str]:
        """``CONCEPT:<code>`` tokens of ``text``, one per match."""
        return [CONCEPT_PREFIX + code for code, _ in self.match(text)]

    def label(self, code: str) -> str:
        """A concept's readable label."""
        label = self.labels.get(code)  # labels are strings: None means none given
        return code.replace("_", " ") if label is None else label


@lru_cache(maxsize=1)
def default_lexicon() -> ConceptLexicon:
    """The lexicon shipped with the package (``matching/lexicon.json``), loaded once."""
    return ConceptLexicon.load(LEXICON_PATH)
