"""Which language a page is in: the user's choice, then the switcher, then Accept-Language.

(The switcher's CSRF check is in the sweep over every POST route: tests/assist/test_csrf.py.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

import pytest
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale
from markupsafe import escape

from assist.auth.models import User
from assist.extensions import db
from assist.i18n import LANGUAGES, detect_language
from assist.roles import Role
from tests.factories import make_user
from tests.i18n.test_catalogues import TRANSLATIONS

LANG = re.compile(rb'<html lang="(\w+)">')


def page_language(client: FlaskClient, path: str = "/login", **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    match = LANG.search(response.data)
    assert match, "the page does not declare its language"
    return match.group(1).decode()


def translation(locale: str, msgid: str) -> str:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        message = read_po(handle).get(msgid)
    assert message is not None and message.string, f"{locale} has no translation of {msgid!r}"
    return message.string


def switch(client: FlaskClient, language: str, next_url: str = "/login") -> None:
    response = client.post("/language", data={"language": language, "next": next_url})
    assert response.status_code == 302, response.data[:300]
    assert response.headers["Location"] == next_url


def test_english_by_default(client: FlaskClient) -> None:
    assert page_language(client) == "en"


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != "en"])
def test_the_browser_language_is_followed(client: FlaskClient, code: str) -> None:
    assert page_language(client, **{"Accept-Language": f"{code}-XX,{code};q=0.9,en;q=0.5"}) == code


def test_an_unsupported_browser_language_falls_back(client: FlaskClient) -> None:
    assert page_language(client, **{"Accept-Language": "ja,pt;q=0.8,nl;q=0.3"}) == "nl"
    assert page_language(client, **{"Accept-Language": "ja"}) == "en"


def test_the_switcher_beats_the_browser(client: FlaskClient) -> None:
    switch(client, "es")
    assert page_language(client, **{"Accept-Language": "de"}) == "es"


def test_the_switcher_refuses_unknown_languages_and_foreign_redirects(client: FlaskClient) -> None:
    response = client.post(
        "/language",
        data={"language": "xx", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert page_language(client) == "en"


def test_a_signed_in_users_choice_is_saved_and_follows_them(
    app: Flask, login_as: Callable[[User], FlaskClient]
) -> None:
    user = make_user(Role.CITY_OFFICIAL)
    client = login_as(user)
    switch(client, "nl", next_url="/requests/")
    db.session.refresh(user)
    assert user.language == "nl"
    # Another browser, asking for German: the account's choice wins.
    other = app.test_client()
    from assist.auth.sessions import start_session

    _, token = start_session(user, user_agent="pytest", second_factor=True)
    with other.session_transaction() as session:
        session.update({"_user_id": user.session_token, "_sid": token, "_fresh": True})
    assert page_language(other, "/requests/", **{"Accept-Language": "de"}) == "nl"


def test_every_page_has_the_switcher(login_as: Callable[[User], FlaskClient]) -> None:
    client = login_as(make_user(Role.STAFF))
    anonymous = client.application.test_client()
    assert 'action="/language"' in anonymous.get("/login").data.decode()
    for path in ("/requests/", "/requests/review", "/engagements/", "/notifications/"):
        page = client.get(path).data.decode()
        assert 'action="/language"' in page, path
        assert all(f'value="{code}"' in page for code in LANGUAGES), path


def test_pages_are_translated(login_as: Callable[[User], FlaskClient]) -> None:
    user = make_user(Role.CITY_OFFICIAL, language="fr")
    page = login_as(user).get("/requests/").data.decode()
    assert translation("fr", "Sign out") in page
    assert ">Sign out<" not in page


@pytest.mark.parametrize(
    ("locale", "expected_date", "expected_number"),
    [
        ("en", "Nov 26, 2026", "1,234.5"),
        ("fr", "26 nov. 2026", "1\u202f234,5"),
        ("de", "26.11.2026", "1.234,5"),
        ("es", "26 nov 2026", "1.234,5"),
    ],
)
def test_dates_and_numbers_follow_the_locale(
    app: Flask, locale: str, expected_date: str, expected_number: str
) -> None:
    with app.test_request_context(), force_locale(locale):
        rendered = render_template_string(
            "{{ day|date }}|{{ moment|datetime }}|{{ format_decimal(1234.5) }}",
            day=date(2026, 11, 26),
            moment=datetime(2026, 11, 26, 14, 5),
        )
    day, moment, number = rendered.split("|")
    assert day == expected_date
    assert moment.endswith("UTC") and "2026" in moment
    assert number == expected_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("El ayuntamiento necesita formación para los profesionales de libertad vigilada.", "es"),
        ("La ville a besoin d'une formation pour les conseillers pénitentiaires.", "fr"),
        ("De gemeente wil een training voor reclasseringswerkers en wijkteams.", "nl"),
        ("Die Stadt braucht eine Fortbildung für Bewährungshelfer und Sozialarbeiter.", "de"),
        ("L'ajuntament necessita formació per als professionals d'execució penal.", "ca"),
        ("The city needs training for probation officers and social workers.", "en"),
        ("Staden behöver utbildning för frivårdsinspektörer och socialsekreterare.", "sv"),
    ],
)
def test_a_texts_language_is_detected(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_too_little_text_is_not_guessed() -> None:
    assert detect_language("Training", "") is None


def test_session_devices_are_named_in_the_readers_language(app: Flask) -> None:
    from assist.auth.sessions import describe_user_agent, device_label

    stored = describe_user_agent("Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/133.0")
    assert stored == "Firefox on Windows"  # kept in English in the database
    with app.test_request_context():
        assert device_label(stored) == "Firefox on Windows"
        with force_locale("fr"):
            french = device_label(stored)
            unknown = device_label(describe_user_agent(""))
    assert french != stored and "Firefox" in french and "Windows" in french
    assert unknown == translation("fr", "Unknown browser")


@pytest.mark.parametrize("locale", ["fr", "es", "nl", "de", "ca"])
def test_wtforms_own_messages_follow_the_locale(
    login_as: Callable[[User], FlaskClient], locale: str
) -> None:
    from babel.support import Translations
    from wtforms.i18n import messages_path

    expected = Translations.load(messages_path(), [locale], domain="wtforms").gettext(
        "Not a valid integer value."
    )
    assert expected != "Not a valid integer value."
    client = login_as(make_user(Role.CITY_OFFICIAL, language=locale))
    response = client.post("/requests/new", data={"title": "x", "expected_participants": "many"})
    assert response.status_code == 422
    assert str(escape(expected)) in response.get_data(as_text=True)
