"""Notifications and e-mails are written in each recipient's language, not the actor's.

No catalogue can be relied on here (translators fill them later), so the tests look at the
locale in effect while a message is rendered, and at CLDR formats, which need no catalogue.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from assist.extensions import db
from assist.notifications import delivery
from assist.notifications.models import Notification, OutboxEmail
from assist.notifications.services import notify, queue_email
from assist.roles import Role
from tests.factories import make_user


def locale_spy(seen: list[str]) -> LazyString:
    """A lazy message that says which locale it was rendered under."""

    def render() -> str:
        code = str(get_locale())
        seen.append(code)
        return f"rendered under {code}"

    return LazyString(render)


def rows_for(user: Any) -> tuple[Notification, OutboxEmail]:
    note = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).one()
    email = db.session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.notification_id == note.id)
    ).one()
    return note, email


def test_each_recipient_gets_the_message_in_their_own_language(app) -> None:
    french = make_user(Role.STAFF, language="fr")
    dutch = make_user(Role.STAFF, language="nl")
    no_choice = make_user(Role.STAFF, language=None)
    seen: list[str] = []

    with force_locale("de"):  # the actor reads German
        assert notify([french, dutch, no_choice], locale_spy(seen), "/x") == 3
        assert str(get_locale()) == "de"  # the actor's locale is back afterwards
    db.session.flush()

    assert seen == ["fr", "nl", "en"]
    for user, code in ((french, "fr"), (dutch, "nl"), (no_choice, "en")):
        note, email = rows_for(user)
        assert note.message == f"rendered under {code}"
        assert email.subject == f"[PREPARE Assist] rendered under {code}"
        assert email.body == f"rendered under {code}"


def test_a_lazy_message_keeps_its_placeholders(app) -> None:
    user = make_user(Role.STAFF, language="fr")
    notify([user], _l("Activity planned on engagement #%(id)s.", id=42), "/engagements/42")
    db.session.flush()
    note, _email = rows_for(user)
    # The number is filled in (the wording may already be French, once translated).
    assert "42" in note.message and "%(" not in note.message


def test_a_plain_string_is_still_accepted(app) -> None:
    user = make_user(Role.STAFF, language="fr")
    notify([user], "Request #7 was submitted", "/requests/7")
    db.session.flush()
    note, email = rows_for(user)
    assert note.message == "Request #7 was submitted"
    assert email.subject == "[PREPARE Assist] Request #7 was submitted"


def test_the_emails_own_lines_are_in_the_recipients_language(app, monkeypatch) -> None:
    french = make_user(Role.STAFF, language="fr", email="fr@city.example")
    notify([french], "Something changed", "/requests/7")
    # An e-mail without a notification (account links) goes by the address's account.
    queue_email("FR@city.example", "Subject", "Body")
    db.session.flush()

    def spy(text: str, **variables: Any) -> str:
        return f"[{get_locale()}] " + (text % variables if variables else text)

    monkeypatch.setattr(delivery, "_", spy)
    config = {"PUBLIC_URL": "https://assist.example.org"}
    for email in db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)):
        body = delivery.build_message(email, config).get_content()
        assert "[fr] This is an automatic message" in body, body
    _note, with_link = rows_for(french)
    body = delivery.build_message(with_link, config).get_content()
    assert "[fr] Open: https://assist.example.org/requests/7" in body


def test_an_unknown_address_gets_the_source_language(app, monkeypatch) -> None:
    queue_email("nobody@elsewhere.example", "Subject", "Body")
    db.session.flush()
    monkeypatch.setattr(delivery, "_", lambda text, **v: f"[{get_locale()}] {text}")
    email = db.session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.to_address == "nobody@elsewhere.example")
    ).one()
    assert "[en] This is an automatic message" in delivery.build_message(email, {}).get_content()
