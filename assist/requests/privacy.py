"""Identifiability guard: refuse free text that looks like it describes a person, not a context.

Requests are criminal-justice data (GDPR Art. 9/10): they must describe structures and needs.
The patterns below look for what makes a text identifying (contact details, dates of birth,
ID or case numbers, a full name next to an offence) in the partners' languages. Each finding
says what was found and how to rephrase. Pure Python, so any caller (form, API, CLI) can use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# What each kind of finding is called in the message (``kind`` itself stays English: a stable
# name for code, tests and logs). %(excerpt)s is the text found, quoted as typed.
_LOOKS_LIKE: dict[str, Callable[[str], str]] = {
    "an e-mail address": lambda excerpt: _(
        "This looks like an e-mail address (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a phone number": lambda excerpt: _(
        "This looks like a phone number (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a date of birth": lambda excerpt: _(
        "This looks like a date of birth (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a person's release date": lambda excerpt: _(
        "This looks like a person's release date (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a year of birth": lambda excerpt: _(
        "This looks like a year of birth (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a national ID number": lambda excerpt: _(
        "This looks like a national ID number (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a case or file number": lambda excerpt: _(
        "This looks like a case or file number (“%(excerpt)s”).", excerpt=excerpt
    ),
    "a person's name next to an offence": lambda excerpt: _(
        "This looks like a person's name next to an offence (“%(excerpt)s”).", excerpt=excerpt
    ),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    excerpt: str
    #: What to do instead: a lazy translatable string, read in the reader's language.
    advice: Any

    def message(self) -> str:
        """What was found and how to rephrase, in the reader's language."""
        looks_like = _LOOKS_LIKE[self.kind](self.excerpt)
        return f"{looks_like} {self.advice}"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International or national phone numbers: 9+ digits with optional separators.
_PHONE = re.compile(r"(?<![\w/.-])(?:\+|00)?\d(?:[\s.-]?\d){8,13}(?![\w/-])")
_DATE_NUMERIC = r"\b(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:19|20)\d{2}\b"
_MONTHS = (
    r"jan\w*|feb\w*|f[eé]v\w*|mar\w*|m[aä]r\w*|apr\w*|avr\w*|abr\w*|may\w*|mai\w*|mei|"
    r"jun\w*|jui\w*|jul\w*|aug\w*|ao[uû]t|ago\w*|sep\w*|set\w*|oct\w*|okt\w*|out\w*|"
    r"nov\w*|dec\w*|d[eé]c\w*|dez\w*|dic\w*|gen\w*|ene\w*|des\w*"
)
_DATE_WORDS = (
    rf"\b(?:0?[1-9]|[12]\d|3[01])\.?\s+(?:de\s+)?(?:{_MONTHS})\.?\s+(?:de\s+)?(?:19|20)\d{{2}}\b"
)
_ANY_DATE = re.compile(rf"{_DATE_NUMERIC}|{_DATE_WORDS}|\b(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}\b", re.I)
_BIRTH_WORDS = re.compile(
    r"\b(?:born|birth|DOB|d\.o\.b|née?|naissance|nacid[oa]|nacimiento|naixement|nascut|"
    r"geboren|geb\.|geboortedatum|geburtsdatum|född)\b",
    re.I,
)
_BIRTH_YEAR = re.compile(
    r"\b(?:born|née?|nacid[oa]|nascut|geboren|född)\s+(?:in|en|em|le|el|am|op|i)?\s*(?:19|20)\d{2}\b",
    re.I,
)
_RELEASE_WORDS = re.compile(
    r"\b(?:releas\w*|libér\w*|liber\w*|excarcel\w*|sortie|salida|vrijlating|vrijgelaten|"
    r"entlass\w*|frigiv\w*|utsläpp\w*)\b",
    re.I,
)
_ID_NUMBERS = [
    # Spanish DNI / NIE
    (
        "a national ID number",
        re.compile(r"\b(?:\d{8}[-\s]?[A-HJ-NP-TV-Z]|[XYZ][-\s]?\d{7}[-\s]?[A-Z])\b"),
    ),
    # Belgian national register number
    ("a national ID number", re.compile(r"\b\d{2}[.\s]?\d{2}[.\s]?\d{2}[-\s]\d{3}[.\s]?\d{2}\b")),
    # French NIR (social-security number)
    (
        "a national ID number",
        re.compile(
            r"\b[12][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[AB])[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?\b"
        ),
    ),
]
_CASE_NUMBER = re.compile(
    r"\b(?:case|file|docket|ref(?:erence)?|dossier|affaire|expediente|sumario|procedimiento|"
    r"expedient|zaak(?:nummer)?|parketnummer|aktenzeichen|az\.?|akte|ärende|målnummer)"
    r"\s*(?:no\.?|nr\.?|n[°º]|num(?:ber|ero|éro)?\.?|#|:)?\s*[A-Z]{0,4}[-/ ]?\d[\d/.-]{2,}",
    re.I,
)
_OFFENCE = re.compile(
    r"\b(?:convicted|sentenced|offender|charged|arrested|jailed|imprisoned|prisoner|inmate|"
    r"terroris\w+|condamn\w+|détenu\w*|incarcér\w+|conden\w+|pres[oa]s?|recluso|intern[oa]|"
    r"veroordeeld\w*|gedetineerde|gevangene|verurteilt\w*|häftling|inhaftiert\w*|straftäter\w*|"
    r"dömd|intagen)\b",
    re.I,
)
# Capitalised words that are places, institutions and roles, never a person's name.
_NOT_NAMES = frozenset(
    """
    the a an this that our we in on at for of and with since from during after before
    el la los las les le un une des del de en y o para por con sin
    het een die der das ein eine und für mit van voor
    city council municipality region regional department ministry service services team
    probation prison police justice court courts house houses care safety security network
    forum foundation association centre center office unit programme program project plan
    european europe union national local state federal public social youth health
    prevention violence radicalisation radicalization exit restorative
    malaga málaga catalonia catalunya generalitat barcelona hospitalet llobregat rotterdam
    hague haag rennes bagnolet vilvoorde avignon brussels bruxelles paris berlin stockholm
    malmö copenhagen leuven madrid spain france belgium netherlands germany sweden
    mossos esquadra efus prepare vpn denkzeit fryshuset face cep ran vera spip pjj clspd
    livc csil nctv ter pga mr mrs ms dr monday tuesday wednesday thursday friday
    january february march april june july august september october november december
    """.split()
)
_NAME_WINDOW = 60  # characters between a name and an offence word
# A title before one capitalised word is a name too ("Mr Benali", "Sra. García").
_HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Sr|Sra|Srta|Señor|Señora|Mme|Mlle|Monsieur|Madame|Dhr|Mevr|"
    r"Meneer|Mevrouw|Herr|Frau|Hr|Fr)\.?\s+[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]{1,20}"
)
_CAPITALISED_RUN = re.compile(
    r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'-]+(?:\s+(?:(?:van|der|den|de|del|la|le|el|al|ben|bin|von|du|da|dos|"
    r"ter|ten)\s+)*[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'-]+)+"
)


def _excerpt(text: str, start: int, end: int) -> str:
    snippet = text[start:end].strip()
    return snippet if len(snippet) <= 60 else snippet[:57] + "…"


def _name_candidates(text: str) -> list[tuple[int, int, str]]:
    """Spans that look like a person's name: two capitalised words in a row that are not
    places, institutions or titles, or a title followed by a capitalised word."""
    found = [(m.start(), m.end(), m.group(0)) for m in _HONORIFIC.finditer(text)]
    for run in _CAPITALISED_RUN.finditer(text):
        words = list(re.finditer(r"\S+", run.group(0)))
        previous = None
        for w in words:
            token = w.group(0)
            if not token[0].isupper() or token.lower().strip(".,;:") in _NOT_NAMES:
                if not token[0].isupper():
                    continue  # a particle (van, de, …) keeps the run going
                previous = None
                continue
            if previous is not None:
                start = run.start() + previous.start()
                end = run.start() + w.end()
                found.append((start, end, text[start:end]))
            previous = w
    merged: list[tuple[int, int, str]] = []
    for start, end, _text in sorted(found):
        if merged and start <= merged[-1][1]:
            start = merged[-1][0]
            end = max(end, merged.pop()[1])
        merged.append((start, end, text[start:end]))
    return merged


def screen(text: str) -> list[Finding]:
    """Every piece of ``text`` that could identify a person, with advice on rephrasing."""
    if not text:
        return []
    findings: list[Finding] = []
    for m in _EMAIL.finditer(text):
        findings.append(
            Finding(
                "an e-mail address",
                _excerpt(text, m.start(), m.end()),
                _l("Remove it: contact details belong in your account, not in the request."),
            )
        )
    for m in _PHONE.finditer(text):
        findings.append(
            Finding(
                "a phone number",
                _excerpt(text, m.start(), m.end()),
                _l("Remove it: Efus contacts you through your account."),
            )
        )
    for m in _ANY_DATE.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if _BIRTH_WORDS.search(before):
            kind = "a date of birth"
        elif _RELEASE_WORDS.search(before):
            kind = "a person's release date"
        else:
            continue
        findings.append(
            Finding(
                kind,
                _excerpt(text, max(0, m.start() - 20), m.end()),
                _l(
                    "Give a period instead (e.g. 'releases expected in 2026') "
                    "and no personal dates."
                ),
            )
        )
    for m in _BIRTH_YEAR.finditer(text):
        findings.append(
            Finding(
                "a year of birth",
                _excerpt(text, m.start(), m.end()),
                _l("Describe the group instead (e.g. 'young adults aged 18 to 25')."),
            )
        )
    for kind, pattern in _ID_NUMBERS:
        for m in pattern.finditer(text):
            findings.append(
                Finding(
                    kind,
                    _excerpt(text, m.start(), m.end()),
                    _l("Remove it: identity numbers must never be entered here."),
                )
            )
    for m in _CASE_NUMBER.finditer(text):
        findings.append(
            Finding(
                "a case or file number",
                _excerpt(text, m.start(), m.end()),
                _l("Remove it: describe the kind of situation, not a case file."),
            )
        )
    offences = [m.span() for m in _OFFENCE.finditer(text)]
    if offences:
        for start, end, name in _name_candidates(text):
            near = any(s - _NAME_WINDOW <= end and start <= e + _NAME_WINDOW for s, e in offences)
            if near:
                findings.append(
                    Finding(
                        "a person's name next to an offence",
                        name,
                        _l(
                            "Do not name people: write e.g. 'a young adult convicted of a "
                            "terrorist offence' instead."
                        ),
                    )
                )
    return findings
