"""A stand-in gettext catalogue: every message comes back as ``mark(locale, message)``.

Tests use it to see which text went through gettext, and under which locale, without depending
on the wording of the real catalogues (e.g. "[fr] Saved." proves the confirmation was looked up
in French). Flask-Babel's gettext, ngettext, pgettext, the lazy strings and the Jinja callables
all ask the app's domain (``assist.i18n.CatalogueDomain.get_translations``); WTForms' own
messages come from their own catalogue.
"""

from __future__ import annotations

from collections.abc import Callable

import flask_babel
import flask_wtf.i18n
import pytest
from babel.support import NullTranslations

from assist.i18n import CatalogueDomain

Mark = Callable[[str, str], str]


class StandInCatalogue(NullTranslations):
    def __init__(self, mark: Callable[[str], str]) -> None:
        super().__init__()
        self._mark = mark

    def gettext(self, message: str) -> str:
        return self._mark(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._mark(singular if n == 1 else plural)

    def pgettext(self, context: str, message: str) -> str:
        return self._mark(message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self._mark(singular if n == 1 else plural)

    ugettext = gettext
    ungettext = ngettext
    upgettext = pgettext
    unpgettext = npgettext


def use_stand_in(monkeypatch: pytest.MonkeyPatch, mark: Mark, *, wtforms: bool = False) -> None:
    """From now on in this test, each lookup returns ``mark(current locale, message)``."""

    def marked(message: str) -> str:
        return mark(str(flask_babel.get_locale()), message)

    catalogue = StandInCatalogue(marked)
    monkeypatch.setattr(CatalogueDomain, "get_translations", lambda self: catalogue)
    if wtforms:
        monkeypatch.setattr(flask_wtf.i18n, "_get_translations", lambda: catalogue)


def tag_with_locale(locale: str, message: str) -> str:
    """ "[fr] Saved.": every message tagged with the locale it was looked up in."""
    return f"[{locale}] {message}"
