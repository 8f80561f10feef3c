"""The vocabulary is data, but people read its labels in their own language.

The terms' English texts are the msgids (extracted from taxonomy.json); the tests check that
what people see goes through gettext under the reader's locale, with a spy in place of the
catalogues (which translators fill later).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, get_locale

from assist.directory import models
from assist.directory.models import GovernmentLevel, TaxonomyTerm, TermKind
from assist.extensions import db
from assist.roles import Role
from tests.factories import make_organisation, make_user, tag


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """gettext for the taxonomy answers "[locale] text" and records what it was asked."""
    asked: list[str] = []

    def gettext(text: str, **variables: Any) -> str:
        asked.append(text)
        return f"[{get_locale()}] {text}"

    monkeypatch.setattr(models, "gettext", gettext)
    return asked


def term(kind: TermKind, code: str) -> TaxonomyTerm:
    return db.session.scalars(
        sa.select(TaxonomyTerm).where(TaxonomyTerm.kind == kind, TaxonomyTerm.code == code)
    ).one()


def test_a_terms_texts_are_shown_translated_and_stored_in_english(app, spy) -> None:
    housing = term(TermKind.THEME, "housing")
    with force_locale("fr"):
        assert housing.display_label == f"[fr] {housing.label}"
        if housing.group:
            assert housing.display_group == f"[fr] {housing.group}"
    assert housing.label == "Housing"  # the stored text (and the msgid) stays English


def test_an_empty_text_stays_empty(app, spy) -> None:
    # gettext("") would answer the catalogue's header.
    blank = TaxonomyTerm(kind=TermKind.THEME, code="x", label="X", description="", group="")
    assert blank.display_description == "" and blank.display_group == ""
    assert "" not in spy


def test_kind_and_level_labels_follow_the_locale(app) -> None:
    # Real catalogues: a str every time, in the locale in effect (English without a request).
    assert TermKind.THEME.label == "Themes"
    assert GovernmentLevel.REGION.label == "Region"
    with force_locale("fr"):
        assert isinstance(TermKind.THEME.label, str)
        assert isinstance(GovernmentLevel.REGION.label, str)


def test_the_profile_page_shows_the_terms_in_the_readers_language(app, login_as, spy) -> None:
    org = tag(make_organisation("Spied Org"), themes=["housing"])
    reader = make_user(Role.STAFF, language="fr")
    page = login_as(reader).get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "[fr] Housing" in page
