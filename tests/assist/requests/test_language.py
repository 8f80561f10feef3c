"""The language a request is written in: detected at every save, confirmed by its author."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assist.extensions import db
from assist.requests import services
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.factories import make_request, make_user

SPANISH = {
    "title": "Apoyo a las familias tras la excarcelación",
    "context": "Los servicios sociales municipales y el medio abierto penitenciario no se "
    "coordinan cuando una persona sale de prisión; las familias no reciben apoyo.",
    "needs": "Formación para los profesionales en el trabajo con familias y redes de apoyo.",
    "existing_activities": "Mesa de coordinación del barrio.",
    "themes": ["family_network_support"],
    "formats": ["training"],
    "languages": ["es"],
}
ENGLISH = {
    "title": "Family involvement in aftercare",
    "context": "Families of people returning from detention are rarely involved in aftercare.",
    "needs": "A training for case managers on involving relatives.",
    "themes": ["family_network_support"],
    "formats": ["training"],
    "languages": ["en"],
}
MISMATCH = "This text looks written in Spanish, not English."


def spanish_data(**kw: object) -> services.RequestData:
    fields = {k: v for k, v in SPANISH.items() if k not in {"themes", "formats", "languages"}}
    terms = {"themes": SPANISH["themes"], "formats": SPANISH["formats"], "languages": ["es"]}
    return services.RequestData(**{**fields, "terms": terms, **kw})  # type: ignore[arg-type]


def newest() -> AssistanceRequest | None:
    return db.session.scalars(
        sa.select(AssistanceRequest).order_by(AssistanceRequest.id.desc())
    ).first()


def count_requests() -> int:
    return db.session.scalar(sa.select(sa.func.count(AssistanceRequest.id)))


def hidden_detection(html: str) -> str | None:
    match = re.search(
        r'name="confirmed_detection" type="hidden" value="([^"]*)"', html
    ) or re.search(r'type="hidden" name="confirmed_detection" value="([^"]*)"', html)
    return match.group(1) if match else None


# The service: the rule holds for the pages, the API and the CLI alike.


def test_every_save_stores_the_detected_language(app) -> None:
    official = make_user()
    req = services.create_draft(official, spanish_data(language="es"))
    assert (req.language, req.detected_language) == ("es", "es")
    english = {"title": ENGLISH["title"], "context": ENGLISH["context"], "needs": ENGLISH["needs"]}
    services.update_request(req, official, services.RequestData(**english, language="en"))
    assert (req.language, req.detected_language) == ("en", "en")
    # Too short to tell: nothing detected, the author's choice stands.
    services.update_request(req, official, services.RequestData(title="Draft", language="fr"))
    assert (req.language, req.detected_language) == ("fr", None)


def test_a_choice_that_contradicts_the_detection_is_refused_until_confirmed(app) -> None:
    official = make_user()
    before = count_requests()
    with pytest.raises(services.RequestInvalid) as info:
        services.create_draft(official, spanish_data(language="en"))
    assert list(info.value.errors) == ["language"]
    assert MISMATCH in info.value.errors["language"][0]
    assert (
        "Choose the language it is written in, then save again." in info.value.errors["language"][0]
    )
    assert info.value.detected_language == "es"
    assert count_requests() == before
    # The author saw the warning about "es" and saves again: any choice is accepted.
    req = services.create_draft(official, spanish_data(language="en", confirmed_detection="es"))
    assert (req.language, req.detected_language) == ("en", "es")
    # A confirmation given against another detection does not count.
    with pytest.raises(services.RequestInvalid):
        services.create_draft(official, spanish_data(language="en", confirmed_detection="fr"))


def test_a_confirmed_choice_is_not_asked_again_on_the_next_edit(app) -> None:
    official = make_user()
    req = services.create_draft(official, spanish_data(language="ca", confirmed_detection="es"))
    services.update_request(req, official, spanish_data(language="ca", needs=SPANISH["needs"]))
    assert req.language == "ca"
    # Changing the choice is a new choice: asked again.
    with pytest.raises(services.RequestInvalid):
        services.update_request(req, official, spanish_data(language="fr"))


def test_a_stated_language_is_accepted_and_a_missing_one_is_detected_or_refused(app) -> None:
    official = make_user()
    stated = services.create_draft(official, spanish_data(language="en", language_stated=True))
    assert (stated.language, stated.detected_language) == ("en", "es")
    detected = services.create_draft(official, spanish_data())
    assert detected.language == "es"
    with pytest.raises(services.RequestInvalid) as info:
        services.create_draft(official, services.RequestData(title="x"))
    assert "cannot be detected" in info.value.errors["language"][0]
    # Without a language, an edit keeps the stored one even if detection now disagrees.
    english = {"title": ENGLISH["title"], "context": ENGLISH["context"], "needs": ENGLISH["needs"]}
    services.update_request(detected, official, services.RequestData(**english))
    assert (detected.language, detected.detected_language) == ("es", "en")


def test_an_unknown_language_is_refused(app) -> None:
    with pytest.raises(services.RequestInvalid) as info:
        services.create_draft(make_user(), spanish_data(language="xx"))
    assert "Choose one of: en, fr, es, nl, de, ca, sv." in info.value.errors["language"]


# The pages.


def test_the_form_defaults_to_the_interface_language_then_to_the_stored_one(app, login_as) -> None:
    official = make_user(language="fr")
    client = login_as(official)
    html = client.get("/requests/new").get_data(as_text=True)
    assert re.search(r'<option selected value="fr">', html), html
    req = make_request(official.authority, created_by=official, language="nl")
    html = client.get(f"/requests/{req.id}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="nl">', html)
    assert not re.search(r'<option selected value="fr">', html)


def test_a_mismatch_asks_for_confirmation_keeps_the_input_and_the_second_save_accepts(
    app, login_as
) -> None:
    client = login_as(make_user())
    before = count_requests()
    response = client.post("/requests/new", data={**SPANISH, "language": "en", "save": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert MISMATCH in html and 'id="language-error"' in html
    assert SPANISH["needs"] in html and SPANISH["existing_activities"] in html  # kept
    assert hidden_detection(html) == "es"
    assert count_requests() == before  # nothing saved

    # Saving again with the remembered detection: accepted, whatever the choice.
    response = client.post(
        "/requests/new",
        data={**SPANISH, "language": "en", "confirmed_detection": "es", "save": "1"},
    )
    assert response.status_code == 302
    req = newest()
    assert (req.title, req.language, req.detected_language) == (SPANISH["title"], "en", "es")


def test_save_and_submit_asks_too_and_submits_nothing(app, login_as) -> None:
    client = login_as(make_user())
    before = count_requests()
    response = client.post(
        "/requests/new", data={**SPANISH, "language": "de", "save_and_submit": "1"}
    )
    assert response.status_code == 422
    assert "This text looks written in Spanish, not German." in response.get_data(as_text=True)
    assert count_requests() == before
    response = client.post(
        "/requests/new", data={**SPANISH, "language": "es", "save_and_submit": "1"}
    )
    assert response.status_code == 302
    assert newest().status == RequestStatus.SUBMITTED and newest().language == "es"


def test_an_edit_that_changes_the_text_is_checked_again(app, login_as) -> None:
    req = make_request(language="en")
    client = login_as(req.created_by)
    form = {**SPANISH, "language": "en", "version": str(req.version), "save": "1"}
    response = client.post(f"/requests/{req.id}/edit", data=form)
    assert response.status_code == 422 and MISMATCH in response.get_data(as_text=True)
    db.session.refresh(req)
    assert req.title != SPANISH["title"]  # the saved version is unchanged
    response = client.post(f"/requests/{req.id}/edit", data={**form, "language": "es"})
    assert response.status_code == 302
    db.session.refresh(req)
    assert (req.title, req.language, req.detected_language) == (SPANISH["title"], "es", "es")


def test_the_detail_page_says_the_language_and_staff_see_a_differing_detection(
    app, login_as
) -> None:
    req = make_request(
        status=RequestStatus.SUBMITTED, language="ca", detected_language="es", title="Xarxa"
    )
    city = login_as(req.created_by).get(f"/requests/{req.id}").get_data(as_text=True)
    assert re.search(r"<dt>Written in</dt>\s*<dd id=\"request-language\">Catalan", city)
    assert 'lang="ca"' in city  # the text is marked with its language
    assert "detection said" not in city
    staff = login_as(make_user(Role.STAFF)).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "detection said Spanish when it was last saved" in staff
    listing = login_as(make_user(Role.STAFF)).get("/requests/").get_data(as_text=True)
    assert "Written in Catalan" in listing


def test_a_request_without_a_recorded_language_says_so_and_the_form_proposes_one(
    app, login_as
) -> None:
    req = make_request()  # saved before languages were recorded
    client = login_as(req.created_by)
    assert "not stated" in client.get(f"/requests/{req.id}").get_data(as_text=True)
    html = client.get(f"/requests/{req.id}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="en">', html)


# The demo data.


def test_demo_requests_carry_the_language_they_are_written_in(app) -> None:
    from assist.demo import REQUESTS, seed

    assert {"es", "fr", "nl"} <= {item["language"] for item in REQUESTS}
    seed("demo password 2026")
    for item in REQUESTS:
        req = db.session.scalars(
            sa.select(AssistanceRequest).where(AssistanceRequest.title == item["title"])
        ).one()
        assert (req.language, req.detected_language) == (item["language"], item["language"])


def test_seeding_an_older_demo_database_adds_the_new_requests_and_fills_languages(
    app, monkeypatch
) -> None:
    from assist import demo

    older = [item for item in demo.REQUESTS if item["language"] == "en"]
    monkeypatch.setattr(demo, "REQUESTS", older)
    demo.seed("demo password 2026")
    db.session.execute(sa.update(AssistanceRequest).values(language=None, detected_language=None))
    monkeypatch.undo()
    added = demo.seed("demo password 2026")  # no workflow step is replayed on old requests
    assert added["requests"] == len(demo.REQUESTS) - len(older)
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AssistanceRequest.language.is_(None)))
        == 0
    )
    dutch = db.session.scalars(
        sa.select(AssistanceRequest).where(AssistanceRequest.language == "nl")
    ).one()
    assert dutch.status == RequestStatus.MATCHING
