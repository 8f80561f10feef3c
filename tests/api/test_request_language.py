"""A request's `language` through the API: detected when not sent, stated when sent."""

from __future__ import annotations

import pytest

from assist.api.openapi import OPENAPI
from assist.i18n import TEXT_LANGUAGES
from assist.roles import Role
from tests.factories import make_request, make_user

SPANISH = {
    "title": "Apoyo a las familias tras la excarcelación",
    "context": "Los servicios sociales municipales y el medio abierto penitenciario no se "
    "coordinan cuando una persona sale de prisión; las familias no reciben apoyo.",
    "needs": "Formación para los profesionales en el trabajo con familias y redes de apoyo.",
}
ENGLISH = {
    "context": "Families of people returning from detention are rarely involved in aftercare.",
    "needs": "A training for case managers on involving relatives and their networks.",
}


@pytest.fixture
def city(app):
    return make_user(Role.CITY_OFFICIAL)


def test_without_language_the_detected_one_is_stored(api, city) -> None:
    response = api.post("requests", city, json=SPANISH)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["language"], body["detected_language"]) == ("es", "es")
    again = api.get(f"requests/{body['id']}", city).get_json()
    assert (again["language"], again["detected_language"]) == ("es", "es")


def test_without_language_and_an_unclear_text_the_answer_is_422(api, city) -> None:
    response = api.post("requests", city, json={"title": "Roundtable"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert list(error["fields"]) == ["language"]
    assert "cannot be detected" in error["fields"]["language"][0]
    assert "Send `language`: one of en, fr, es, nl, de, ca, sv." in error["fields"]["language"][0]
    assert api.get("requests", city).get_json()["total"] == 0  # nothing created


def test_a_stated_language_is_stored_even_against_the_detection(api, city) -> None:
    response = api.post("requests", city, json={**SPANISH, "language": "ca"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["language"], body["detected_language"]) == ("ca", "es")
    short = api.post("requests", city, json={"title": "Roundtable", "language": "nl"})
    assert short.status_code == 201
    assert (short.get_json()["language"], short.get_json()["detected_language"]) == ("nl", None)


def test_patch_keeps_the_stored_language_unless_it_is_sent(api, city) -> None:
    req = api.post("requests", city, json={**SPANISH, "language": "es"}).get_json()
    patched = api.patch(f"requests/{req['id']}", city, json={**ENGLISH, "version": req["version"]})
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert (body["language"], body["detected_language"]) == ("es", "en")
    stated = api.patch(
        f"requests/{req['id']}", city, json={"language": "en", "version": body["version"]}
    )
    assert stated.status_code == 200
    assert stated.get_json()["language"] == "en"


def test_patch_of_a_request_without_a_language_detects_it(api, city) -> None:
    req = make_request(city.authority, created_by=city)  # saved before languages were recorded
    assert req.language is None
    patched = api.patch(f"requests/{req.id}", city, json={"needs": ENGLISH["needs"], "version": 1})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["language"] == "en"


@pytest.mark.parametrize("value", ["pt", "EN", "", 3, None])
def test_an_unknown_language_is_refused(api, city, value) -> None:
    response = api.post("requests", city, json={**SPANISH, "language": value})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["language"]


def test_the_document_describes_the_language_rule() -> None:
    create = OPENAPI["components"]["schemas"]["RequestCreate"]["properties"]["language"]
    assert create["enum"] == list(TEXT_LANGUAGES)
    assert "language" not in OPENAPI["components"]["schemas"]["RequestCreate"]["required"]
    assert "even if detection says otherwise" in create["description"]
    answer = OPENAPI["components"]["schemas"]["Request"]
    assert {"language", "detected_language"} <= set(answer["required"])
    description = OPENAPI["info"]["description"]
    assert "**Language of a request.**" in description
    for code in TEXT_LANGUAGES:
        assert f"(`{code}`)" in description


def test_validation_messages_follow_accept_language(api, city) -> None:
    english = api.post("requests", city, json={"title": "Roundtable"}).get_json()
    french = api.post(
        "requests", city, json={"title": "Roundtable"}, headers={"Accept-Language": "fr"}
    ).get_json()
    message_en = english["error"]["fields"]["language"][0]
    message_fr = french["error"]["fields"]["language"][0]
    assert message_fr != message_en
    assert "`language`" in message_fr  # the field name stays as the API spells it
    assert list(french["error"]["fields"]) == ["language"]
