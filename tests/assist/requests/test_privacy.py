"""The identifiability guard: personal data is caught in the partners' languages; context is not."""

from __future__ import annotations

import pytest

from assist.requests.privacy import screen

IDENTIFYING = [
    ("Write to j.devries@rotterdam.nl for details.", "an e-mail address"),
    ("Call our coordinator on +34 952 13 50 00.", "a phone number"),
    ("He was born 14 March 1998 in a suburb.", "a date of birth"),
    ("Fecha de nacimiento: 03/07/2001.", "a date of birth"),
    ("Geboren am 3. Mai 1999 in Berlin.", "a date of birth"),
    ("né le 12/05/1995 à Avignon", "a date of birth"),
    ("She was born in 1997 and radicalised online.", "a year of birth"),
    ("He will be released on 12/03/2026 from prison.", "a person's release date"),
    ("DNI 12345678Z", "a national ID number"),
    ("NIE X1234567L", "a national ID number"),
    ("rijksregisternummer 85.07.30-033.61", "a national ID number"),
    ("Expediente 2019/00451 del juzgado.", "a case or file number"),
    ("Case no. 2021-0457 at the district court.", "a case or file number"),
    ("Parketnummer 10/123456-19 is relevant.", "a case or file number"),
    (
        "Ahmed Benali was convicted of a terrorist offence in 2017.",
        "a person's name next to an offence",
    ),
    (
        "Jean Dupont, condamné pour association de malfaiteurs.",
        "a person's name next to an offence",
    ),
    ("El tribunal condenó a Juan García por enaltecimiento.", "a person's name next to an offence"),
    ("Pieter Jansen werd veroordeeld voor terrorisme.", "a person's name next to an offence"),
]

CONTEXTS = [
    "The Hague approach: Team TER supervises convicted terrorist offenders after release.",
    "The Generalitat de Catalunya and the Mossos d'Esquadra prepare the release of offenders "
    "convicted of terrorism, together with L'Hospitalet de Llobregat.",
    "Violence Prevention Network trained 25 Rotterdam probation staff in 2019.",
    "We expect two releases in 2026 of young adults convicted of terrorist offences.",
    "Our CLSPD in Rennes has met since 2004 and includes the SPIP and the PJJ.",
    "Between 2012 and 2014, 28 residents left for Syria; no departures since.",
    "Budget of 15000 euros for 2026-2027, with 3 training days per quarter.",
    "El Plan de Convivencia de Málaga coordina servicios sociales y policía local.",
    "Le Conseil Local de Sécurité suit les détenus radicalisés à leur sortie.",
]


@pytest.mark.parametrize(("text", "kind"), IDENTIFYING)
def test_identifying_text_is_caught(text: str, kind: str) -> None:
    kinds = [f.kind for f in screen(text)]
    assert kind in kinds


@pytest.mark.parametrize("text", CONTEXTS)
def test_context_text_passes(text: str) -> None:
    assert screen(text) == []


def test_message_explains_and_advises() -> None:
    (finding,) = [f for f in screen("Mail ana@example.org") if f.kind == "an e-mail address"]
    message = finding.message()
    assert "ana@example.org" in message
    assert "Remove it" in message


@pytest.mark.parametrize(
    "text",
    [
        "Mr Ahmed Benali, convicted in 2017, attended.",
        "Mr Benali was convicted in 2017.",
        "Sra. Martínez fue condenada por enaltecimiento.",
        "El tribunal condenó a Juan García Pérez por enaltecimiento.",
    ],
)
def test_titles_and_long_names_next_to_offences_are_caught(text: str) -> None:
    kinds = [f.kind for f in screen(text)]
    assert kinds.count("a person's name next to an offence") == 1
