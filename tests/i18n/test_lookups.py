"""The app's own catalogue lookup and date/number formats give what Flask-Babel's give.

``assist.i18n`` keeps each locale's catalogue and parsed CLDR patterns instead of finding them
again on every call (see ``CatalogueDomain``); these tests hold it to Flask-Babel's answers, in
every interface language, and to the locale of the moment (``force_locale``, ``refresh``).
"""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

import flask_babel
import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale, gettext, lazy_gettext, ngettext, pgettext

from assist import i18n
from assist.i18n import LANGUAGES
from tests.i18n.test_locale import translation

MESSAGE = "Requests"


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_dates_and_numbers_match_flask_babel(app: Flask, code: str) -> None:
    rng = random.Random(code)
    with app.test_request_context("/", headers={"Accept-Language": code}):
        assert str(flask_babel.get_locale()) == code
        for _ in range(200):
            moment = datetime(
                rng.randint(1990, 2040),
                rng.randint(1, 12),
                rng.randint(1, 28),
                rng.randint(0, 23),
                rng.randint(0, 59),
                rng.randint(0, 59),
            )
            expected = (
                f"{flask_babel.format_date(moment, 'medium')} "
                f"{flask_babel.format_time(moment, 'short')} UTC"
            )
            assert i18n._format_datetime(moment) == expected
            assert i18n._format_date(moment.date()) == flask_babel.format_date(moment, "medium")
            assert i18n._format_month(moment.date()) == flask_babel.format_date(
                moment.date(), "LLLL yyyy"
            )
            number = rng.choice([rng.random() * 10**6, rng.randint(-(10**7), 10**7)])
            for pattern in (None, "0.000", "#,##0.#", "#,##0"):
                assert i18n.format_decimal(number, pattern) == flask_babel.format_decimal(
                    number, pattern
                )
            assert i18n.format_decimal(Decimal("1234.5")) == flask_babel.format_decimal(
                Decimal("1234.5")
            )
            assert i18n.format_percent(number / 10**6) == flask_babel.format_percent(number / 10**6)
        assert i18n._format_datetime(None) == i18n._format_date(None) == ""


def test_messages_follow_the_locale_of_the_moment(app: Flask) -> None:
    french, german = translation("fr", MESSAGE), translation("de", MESSAGE)
    assert french != german
    lazy = lazy_gettext(MESSAGE)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert gettext(MESSAGE) == str(lazy) == french
        assert render_template_string("{{ _('Requests') }}") == french
        with force_locale("de"):  # e-mails to a German reader, from a French page
            assert gettext(MESSAGE) == str(lazy) == german
            assert render_template_string("{{ _('Requests') }}") == german
        assert gettext(MESSAGE) == french
        flask_babel.refresh()  # the reader changed language in this request
        assert gettext(MESSAGE) == french
    # (A fresh app context each time: an app context already pushed would keep its ``g``.)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert gettext(MESSAGE) == german
    with app.app_context():  # no request: the source language
        assert gettext(MESSAGE) == MESSAGE


def test_plural_and_context_lookups_use_the_same_catalogue(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        catalogue = i18n.DOMAIN.get_translations()
        assert catalogue is i18n.DOMAIN.get_translations()  # kept, not read again
        one = ngettext("%(num)d request.", "%(num)d requests.", 1)
        many = ngettext("%(num)d request.", "%(num)d requests.", 3)
        assert one != many and "3" in many and one != "1 request."
        status = pgettext("request status", "Submitted")
        assert status == catalogue.upgettext("request status", "Submitted")
        assert status != "Submitted"


def test_a_locale_outside_the_interface_falls_back_without_error(app: Flask) -> None:
    with app.test_request_context("/"), force_locale("pt"):
        assert gettext(MESSAGE) == MESSAGE
        assert i18n.format_decimal(12345.5) == flask_babel.format_decimal(12345.5)
        assert i18n._format_month(date(2026, 3, 1)) == flask_babel.format_date(
            date(2026, 3, 1), "LLLL yyyy"
        )


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_fixed_decimals_match_babels_pattern(app: Flask, code: str) -> None:
    rng = random.Random(code)
    values = [0.0, -0.0, 0.0004, 0.0005, 0.9996, 1.0, -2.5, 12345.6789, -0.12]
    values += [rng.uniform(-1000, 1000) for _ in range(300)]
    with app.test_request_context("/", headers={"Accept-Language": code}):
        for value in values:
            for digits in (1, 2, 3):
                expected = flask_babel.format_decimal(
                    Decimal(f"{value:.{digits}f}"), "0." + "0" * digits
                )
                assert i18n.format_fixed(value, digits) == expected, (value, digits)
