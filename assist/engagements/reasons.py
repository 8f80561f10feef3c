"""A match's reasons in the reader's language, rendered from ``Match.explanations``.

``matching/`` gives each reason as data (``matching.Reason``: a code, codes and numbers); here
each code has one translatable sentence with named placeholders. Taxonomy, language and country
codes are shown by their terms' translated labels (``TaxonomyTerm.display_label``), looked up in
one query per page, and numbers are written the reader's way (``format_fixed``). In English the
text is exactly ``Match.reasons``. Every result is a plain ``str`` from ``gettext``, so templates
escape it like any other text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import sqlalchemy as sa
from flask_babel import get_locale, gettext, lazy_pgettext, ngettext

from assist.directory.models import TaxonomyTerm, TermKind
from assist.engagements.ranking import LABEL_KINDS
from assist.extensions import db
from assist.i18n import format_fixed
from matching import Match, Reason
from matching.concepts import default_lexicon

#: The vocabulary of each tag field of matching.
TAG_KINDS: Mapping[str, TermKind] = {
    "themes": TermKind.THEME,
    "target_groups": TermKind.TARGET_GROUP,
    "formats": TermKind.FORMAT,
}


#: The lexicon's concepts that no vocabulary of ``ranking.LABEL_KINDS`` names (ideologies,
#: settings), by their English label in ``matching/lexicon.json``: in English a reason says
#: exactly what matching says, other languages read the label from the catalogue.
# NOTE: a domain concept named in a match's reasons, lower case as in "shared concept: prison".
CONCEPT_LABELS = {
    "jihadist": lazy_pgettext("matching concept", "jihadist"),
    "far right": lazy_pgettext("matching concept", "far right"),
    "far left": lazy_pgettext("matching concept", "far left"),
    "any ideology": lazy_pgettext("matching concept", "any ideology"),
    "prison": lazy_pgettext("matching concept", "prison"),
    "probation and parole": lazy_pgettext("matching concept", "probation and parole"),
    "pre-trial": lazy_pgettext("matching concept", "pre-trial"),
}


def _wanted(reason: Reason) -> Iterable[tuple[TermKind, str]]:
    """The (kind, code) pairs whose labels this reason shows."""
    values = reason.values
    if reason.code in TAG_KINDS:
        yield from ((TAG_KINDS[reason.code], c) for c in values["codes"])
    elif reason.code == "language":
        yield from ((TermKind.LANGUAGE, c) for c in values["codes"])
    elif reason.code == "country":
        yield TermKind.COUNTRY, values["code"]
    elif reason.code == "text":
        # A concept is named by the term with its code, in the vocabularies the ranking's
        # English labels come from (ranking.LABEL_KINDS), so both name it alike.
        yield from ((kind, c) for c in values["concepts"] for kind in LABEL_KINDS)


class Labels:
    """The terms a page's reasons mention, each shown by its translated label."""

    def __init__(self, terms: Mapping[tuple[TermKind, str], TaxonomyTerm]) -> None:
        self.terms = terms

    @classmethod
    def for_reasons(cls, reasons: Iterable[Reason]) -> Labels:
        """Read every term these reasons mention, in one query."""
        wanted = {pair for reason in reasons for pair in _wanted(reason)}
        if not wanted:
            return cls({})
        stmt = sa.select(TaxonomyTerm).where(
            TaxonomyTerm.kind.in_({kind for kind, _ in wanted}),
            TaxonomyTerm.code.in_({code for _, code in wanted}),
        )
        found = {(t.kind, t.code): t for t in db.session.scalars(stmt)}
        return cls({pair: term for pair, term in found.items() if pair in wanted})

    def term(self, kind: TermKind, code: str) -> str:
        term = self.terms.get((kind, code))
        return term.display_label if term is not None else code.replace("_", " ")

    def language(self, code: str) -> str:
        term = self.terms.get((TermKind.LANGUAGE, code))
        if term is not None:
            return term.display_label
        locale = get_locale()  # a code outside the taxonomy: Babel's name for it
        return (locale.languages.get(code) if locale else None) or code

    def country(self, code: str) -> str:
        term = self.terms.get((TermKind.COUNTRY, code))
        if term is not None:
            return term.display_label
        locale = get_locale()
        return (locale.territories.get(code) if locale else None) or code

    def concept(self, code: str) -> str:
        for kind in LABEL_KINDS:
            term = self.terms.get((kind, code))
            if term is not None:
                return term.display_label
        # Not a term of those vocabularies: the lexicon's own label, as in English, translated
        # where the catalogue has it.
        label = default_lexicon().label(code)
        return str(CONCEPT_LABELS[label]) if label in CONCEPT_LABELS else label


def number(value: float, digits: int) -> str:
    """``value`` rounded as the English reasons round it, written with the reader's separator."""
    return format_fixed(value, digits)


def _share(reason: Reason) -> str:
    return number(abs(reason.contribution or 0.0), 3)


def _excluded(reason: Reason, labels: Labels) -> str:
    # NOTE: an organisation the request excludes; the reason is a conflict of interest or an
    # earlier proposal, e.g. "excluded: already proposed".
    return gettext("excluded: %(reason)s", reason=reason.values["reason"])


def _no_common_language(reason: Reason, labels: Labels) -> str:
    # NOTE: the values are lists of language codes, e.g. "(expert: de, en; request: es)".
    return gettext(
        "no common working language (expert: %(expert)s; request: %(request)s)",
        expert=", ".join(reason.values["expert_languages"]),
        request=", ".join(reason.values["request_languages"]),
    )


def _at_capacity(reason: Reason, labels: Labels) -> str:
    # NOTE: an expert organisation fully booked: "3 of 3 engagements" running. The English
    # source uses the plural for every count; the plural follows the capacity (num).
    return ngettext(
        "at capacity (%(active)d of %(num)d engagements)",
        "at capacity (%(active)d of %(num)d engagements)",
        reason.values["capacity"],
        active=reason.values["active"],
    )


def _text(reason: Reason, labels: Labels) -> str:
    values = reason.values
    similarity, share = number(values["similarity"], 2), _share(reason)
    # The terms are the request's own words, in the language it is written in.
    terms = ", ".join(values["terms"])
    concepts = ", ".join(labels.concept(c) for c in values["concepts"])
    # NOTE: why a request's text and an expert's documents fit: their similarity (0 to 1),
    # the request's words that weigh most in it, the domain concepts both name, and the
    # share of the score in brackets.
    if terms and concepts:
        return gettext(
            "text similarity %(similarity)s; top shared terms: %(terms)s; "
            "shared concept: %(concepts)s (+%(contribution)s)",
            similarity=similarity,
            terms=terms,
            concepts=concepts,
            contribution=share,
        )
    if terms:
        return gettext(
            "text similarity %(similarity)s; top shared terms: %(terms)s (+%(contribution)s)",
            similarity=similarity,
            terms=terms,
            contribution=share,
        )
    if concepts:
        return gettext(
            "text similarity %(similarity)s; shared concept: %(concepts)s (+%(contribution)s)",
            similarity=similarity,
            concepts=concepts,
            contribution=share,
        )
    return gettext(
        "text similarity %(similarity)s (+%(contribution)s)",
        similarity=similarity,
        contribution=share,
    )


def _tags(reason: Reason, labels: Labels) -> str:
    names = ", ".join(labels.term(TAG_KINDS[reason.code], c) for c in reason.values["codes"])
    share = _share(reason)
    if reason.code == "themes":
        # NOTE: the themes both the request and the expert organisation have, e.g.
        # "shares themes: Exit work and mentoring (+0.150)" (the share of the score).
        return gettext(
            "shares themes: %(themes)s (+%(contribution)s)", themes=names, contribution=share
        )
    if reason.code == "target_groups":
        # NOTE: the expert organisation works with these target groups of the request.
        return gettext(
            "works with: %(groups)s (+%(contribution)s)", groups=names, contribution=share
        )
    # NOTE: the expert organisation offers these formats the request asks for (training, …).
    return gettext("offers: %(formats)s (+%(contribution)s)", formats=names, contribution=share)


def _language(reason: Reason, labels: Labels) -> str:
    names = ", ".join(labels.language(c) for c in reason.values["codes"])
    # NOTE: the expert organisation works in the request's languages, e.g. "works in Spanish".
    return gettext(
        "works in %(languages)s (+%(contribution)s)", languages=names, contribution=_share(reason)
    )


def _languages_not_given(reason: Reason, labels: Labels) -> str:
    return gettext(
        "working languages not given by the expert (+%(contribution)s)",
        contribution=_share(reason),
    )


def _country(reason: Reason, labels: Labels) -> str:
    # NOTE: the expert organisation has worked in the requesting city's country.
    return gettext(
        "has worked in %(country)s (+%(contribution)s)",
        country=labels.country(reason.values["code"]),
        contribution=_share(reason),
    )


def _availability(reason: Reason, labels: Labels) -> str:
    # NOTE: "2 of 3 engagement slots free": how many more engagements the expert organisation
    # can take (num) out of its capacity. The English source uses the plural for every count.
    return ngettext(
        "%(num)d of %(capacity)d engagement slots free (+%(contribution)s)",
        "%(num)d of %(capacity)d engagement slots free (+%(contribution)s)",
        reason.values["free"],
        capacity=reason.values["capacity"],
        contribution=_share(reason),
    )


def _feedback(reason: Reason, labels: Labels) -> str:
    # NOTE: the cities' mean rating (1 to 5) of the expert organisation's past engagements.
    return ngettext(
        "feedback %(mean)s/5 from %(num)d engagement (+%(contribution)s)",
        "feedback %(mean)s/5 from %(num)d engagements (+%(contribution)s)",
        reason.values["n"],
        mean=number(reason.values["mean"], 1),
        contribution=_share(reason),
    )


def _text_baseline(reason: Reason, labels: Labels) -> str:
    baseline, share = number(reason.values["baseline"], 2), _share(reason)
    if reason.values["kind"] == "mean":
        # NOTE: the last reason of every expert: what is taken off the score, the request's
        # mean text similarity to all expert organisations (so scores compare across requests).
        return gettext(
            "less this request's mean text similarity to the directory, "
            "%(baseline)s (-%(contribution)s)",
            baseline=baseline,
            contribution=share,
        )
    # NOTE: as above, but the mean over the k expert organisations most similar to the request.
    return gettext(
        "less this request's top-%(k)d mean text similarity to the directory, "
        "%(baseline)s (-%(contribution)s)",
        k=reason.values["k"],
        baseline=baseline,
        contribution=share,
    )


#: One renderer per ``matching.REASON_CODES`` code.
RENDERERS: Mapping[str, Callable[[Reason, Labels], str]] = {
    "excluded": _excluded,
    "no_common_language": _no_common_language,
    "at_capacity": _at_capacity,
    "text": _text,
    "themes": _tags,
    "target_groups": _tags,
    "formats": _tags,
    "language": _language,
    "languages_not_given": _languages_not_given,
    "country": _country,
    "availability": _availability,
    "feedback": _feedback,
    "text_baseline": _text_baseline,
}


def render(reason: Reason, labels: Labels) -> str:
    """One reason in the current locale."""
    return RENDERERS[reason.code](reason, labels)


def render_matches(matches: Sequence[Match]) -> list[list[str]]:
    """Each match's reasons in the current locale, in the order of ``matches``.

    All terms are read in one query. A reason whose code has no renderer (a newer ``matching``)
    keeps its English text rather than failing the page.
    """
    labels = Labels.for_reasons(r for m in matches for r in m.explanations)
    return [
        [
            render(reason, labels) if reason.code in RENDERERS else english
            for english, reason in zip(m.reasons, m.explanations, strict=True)
        ]
        if m.explanations
        else list(m.reasons)
        for m in matches
    ]
