"""The account page's language preference: saved on the account, and "Follow my browser" (None)
really follows the browser again, whatever the header switcher chose before."""

from __future__ import annotations

from assist.extensions import db
from assist.i18n import SESSION_KEY
from assist.roles import Role
from tests.factories import make_user
from tests.stand_in_catalogue import tag_with_locale, use_stand_in


def page_language(client, path: str = "/account", **headers) -> str:
    html = client.get(path, headers=headers).get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_account_page_shows_the_current_choice(app, login_as) -> None:
    client = login_as(make_user(Role.EXPERT, language="de"))
    html = client.get("/account").get_data(as_text=True)
    assert 'action="/account/language"' in html
    assert '<option lang="de" selected value="de">Deutsch</option>' in html
    browser = login_as(make_user()).get("/account").get_data(as_text=True)
    assert '<option selected value="">' in browser  # no preference: follows the browser


def test_a_chosen_language_is_saved_and_used(app, login_as) -> None:
    user = make_user(language=None)
    client = login_as(user)
    saved = client.post("/account/language", data={"language": "ca"})
    assert saved.status_code == 302 and saved.location.endswith("/account#language-preference")
    db.session.refresh(user)
    assert user.language == "ca"
    assert page_language(client, **{"Accept-Language": "de"}) == "ca"


def test_follow_my_browser_forgets_every_earlier_choice(app, login_as) -> None:
    user = make_user(language="fr")
    client = login_as(user)
    with client.session_transaction() as session:
        session[SESSION_KEY] = "fr"  # as the header switcher leaves it
    assert client.post("/account/language", data={"language": ""}).status_code == 302
    db.session.refresh(user)
    assert user.language is None
    with client.session_transaction() as session:
        assert SESSION_KEY not in session
    assert page_language(client, **{"Accept-Language": "nl"}) == "nl"


def test_a_language_outside_the_list_changes_nothing(app, login_as) -> None:
    user = make_user(language="en")
    client = login_as(user)
    refused = client.post("/account/language", data={"language": "xx"}, follow_redirects=True)
    assert "Choose a language from the list." in refused.get_data(as_text=True)
    missing = client.post("/account/language", data={})
    assert missing.status_code == 302
    db.session.refresh(user)
    assert user.language == "en"


def test_the_confirmation_is_in_the_new_language(app, login_as, monkeypatch) -> None:
    use_stand_in(monkeypatch, tag_with_locale)
    client = login_as(make_user(language="en"))
    page = client.post("/account/language", data={"language": "nl"}, follow_redirects=True)
    assert "[nl] Saved." in page.get_data(as_text=True)
