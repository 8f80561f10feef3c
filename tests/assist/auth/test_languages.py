"""Account e-mails go out in the recipient's language, not the sender's; an invitation's language
(chosen by the inviter) becomes the new account's; administrators set an account's language.

The catalogues are written separately, so these tests do not rely on any translation: a stand-in
catalogue marks every string with the locale it was looked up in ("[fr] …"), which shows whether
each piece of an e-mail was built under the recipient's locale or the sender's.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assist.auth.models import User
from assist.extensions import db
from assist.roles import Role
from tests.assist.auth.conftest import link_token, outbox_to
from tests.factories import make_authority, make_user
from tests.stand_in_catalogue import tag_with_locale, use_stand_in

PASSWORD = "my own chosen passphrase"


@pytest.fixture
def tagged(monkeypatch):
    use_stand_in(monkeypatch, tag_with_locale)


def test_an_invitation_is_written_in_the_language_the_inviter_chose(app, login_as, tagged) -> None:
    authority = make_authority("Lyon")
    staff = make_user(Role.STAFF, language="en")
    sent = login_as(staff).post(
        "/invitations",
        data={
            "email": "camille@lyon.example",
            "name": "Camille Official",
            "role": "city_official",
            "authority_id": str(authority.id),
            "language": "fr",
        },
        follow_redirects=True,
    )
    # The inviter keeps reading their own language...
    assert "[en] Invitation sent to camille@lyon.example." in sent.get_data(as_text=True)
    # ...while every sentence of the e-mail was looked up in French.
    (email,) = outbox_to("camille@lyon.example")
    assert email.subject == "[fr] [PREPARE Assist] You are invited to PREPARE Assist"
    paragraphs = email.body.split("\n\n")
    assert len(paragraphs) == 3 and all(p.startswith("[fr] ") for p in paragraphs)
    assert staff.name in paragraphs[0]
    assert "[fr] Choose your password here within 7 days" in paragraphs[1]
    assert re.search(r"/invitation\?token=[\w-]+&lang=fr\b", email.body)


def test_the_invitee_reads_and_keeps_the_invitation_language(app, login_as) -> None:
    authority = make_authority("Lyon")
    login_as(make_user(Role.STAFF)).post(
        "/invitations",
        data={
            "email": "camille@lyon.example",
            "name": "Camille Official",
            "role": "city_official",
            "authority_id": str(authority.id),
            "language": "fr",
        },
    )
    (email,) = outbox_to("camille@lyon.example")
    link = re.search(r"http://\S+", email.body).group(0)
    invitee = app.test_client()
    page = invitee.get(link[link.index("/invitation") :]).get_data(as_text=True)
    assert '<html lang="fr">' in page  # the page opens in the invitation's language
    token = link_token(email, "/invitation")
    accepted = invitee.post(
        "/invitation", data={"token": token, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert accepted.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "camille@lyon.example"))
    assert user.language == "fr"


def test_an_invitation_without_a_language_follows_the_browser(app, login_as) -> None:
    """An old form (no language field) invites in the inviter's language, and the account made
    from a link without a language follows its owner's browser."""
    authority = make_authority("Lyon")
    staff_client = login_as(make_user(Role.STAFF, language="es"))
    staff_client.post(
        "/invitations",
        data={
            "email": "a@lyon.example",
            "name": "A",
            "role": "city_official",
            "authority_id": str(authority.id),
        },
    )
    (email,) = outbox_to("a@lyon.example")
    assert "&lang=es" in email.body
    invitee = app.test_client()
    token = link_token(email, "/invitation")  # the link without its language
    invitee.post("/invitation", data={"token": token, "password": PASSWORD, "confirm": PASSWORD})
    user = db.session.scalar(sa.select(User).where(User.email == "a@lyon.example"))
    assert user.language is None


def test_the_invitation_form_offers_the_inviters_language_first(app, login_as) -> None:
    page = login_as(make_user(Role.STAFF, language="nl")).get("/invitations")
    html = page.get_data(as_text=True)
    assert re.search(r'<option lang="nl" selected value="nl">Nederlands</option>', html), html
    for code in ("en", "fr", "es", "de", "ca"):
        assert f'value="{code}"' in html


def test_an_unknown_language_is_refused(app, login_as) -> None:
    authority = make_authority("Lyon")
    refused = login_as(make_user(Role.STAFF)).post(
        "/invitations",
        data={
            "email": "b@lyon.example",
            "name": "B",
            "role": "city_official",
            "authority_id": str(authority.id),
            "language": "xx",
        },
    )
    assert refused.status_code == 422
    assert outbox_to("b@lyon.example") == []


@pytest.mark.parametrize(("language", "expected"), [("de", "de"), (None, "en")])
def test_a_reset_email_is_in_the_account_language(app, tagged, language, expected) -> None:
    user = make_user(language=language)
    client = app.test_client()
    app.config["FORGOT_PASSWORD_MIN_SECONDS"], saved = 0, app.config["FORGOT_PASSWORD_MIN_SECONDS"]
    try:
        # The request comes from a browser asking for Spanish: the account's language wins.
        page = client.post(
            "/forgot-password", data={"email": user.email}, headers={"Accept-Language": "es"}
        )
    finally:
        app.config["FORGOT_PASSWORD_MIN_SECONDS"] = saved
    assert "[es] If an account uses this address" in page.get_data(as_text=True)
    (email,) = outbox_to(user.email)
    assert email.subject == f"[{expected}] [PREPARE Assist] Reset your password"
    assert all(p.startswith(f"[{expected}] ") for p in email.body.split("\n\n"))


def test_administrators_set_an_accounts_language(app, login_as) -> None:
    authority = make_authority()
    admin_client = login_as(make_user(Role.ADMIN, language="es"))
    new_page = admin_client.get("/admin/users/new").get_data(as_text=True)
    # A new account starts in the administrator's language; "follow their browser" is offered.
    assert '<option lang="es" selected value="es">Español</option>' in new_page
    assert '<option value="">' in new_page
    created = admin_client.post(
        "/admin/users/new",
        data={
            "email": "new.official@assist.example",
            "name": "New Official",
            "role": "city_official",
            "authority_id": str(authority.id),
            "is_active": "y",
            "language": "fr",
            "password": "violet harbour lantern quietly",
        },
    )
    assert created.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new.official@assist.example"))
    assert user.language == "fr"
    edit_url = f"/admin/users/{user.id}/edit"
    assert '<option lang="fr" selected value="fr">' in admin_client.get(edit_url).get_data(
        as_text=True
    )
    form = {
        "email": user.email,
        "name": user.name,
        "role": "city_official",
        "authority_id": str(authority.id),
        "is_active": "y",
    }
    # A form without the field keeps the language; the empty choice follows the browser.
    assert admin_client.post(edit_url, data=form).status_code == 302
    db.session.refresh(user)
    assert user.language == "fr"
    assert admin_client.post(edit_url, data={**form, "language": ""}).status_code == 302
    db.session.refresh(user)
    assert user.language is None
