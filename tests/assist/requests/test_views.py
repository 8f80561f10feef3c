"""Request pages: the official's own list, the form's errors, and bad input refused cleanly."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.factories import make_request, make_user

FORM = {
    "title": "Family involvement in aftercare",
    "context": "Families of people returning from detention are rarely involved in aftercare.",
    "needs": "A training for case managers on involving relatives.",
    "existing_activities": "Network of key figures.",
    "themes": ["family_network_support"],
    "formats": ["training"],
    "languages": ["nl", "en"],
    "period_start": "2027-02",
    "period_end": "2027-06",
    "expected_participants": "25",
}


def count_requests() -> int:
    return db.session.scalar(sa.select(sa.func.count(AssistanceRequest.id)))


def test_list_shows_only_own_authority(app, login_as) -> None:
    official = make_user()
    mine = make_request(official.authority, title="Ours: release roundtable")
    make_request(title="Theirs: secret context")
    body = login_as(official).get("/requests/").get_data(as_text=True)
    assert mine.title in body
    assert "Theirs: secret context" not in body


def test_list_filters_by_status_and_theme_and_paginates(app, login_as) -> None:
    official = make_user()
    for i in range(7):
        make_request(official.authority, title=f"Draft number {i}")
    make_request(
        official.authority,
        title="Submitted housing request",
        status=RequestStatus.SUBMITTED,
        terms={"themes": ["housing"], "formats": ["training"], "languages": ["en"]},
    )
    client = login_as(official)
    submitted = client.get("/requests/?status=submitted").get_data(as_text=True)
    assert "Submitted housing request" in submitted and "Draft number" not in submitted
    housing = client.get("/requests/?theme=housing").get_data(as_text=True)
    assert "Submitted housing request" in housing and "Draft number" not in housing
    page1 = client.get("/requests/").get_data(as_text=True)
    page2 = client.get("/requests/?page=2").get_data(as_text=True)
    titles = lambda html: set(re.findall(r"(?:Draft number \d|Submitted housing request)", html))  # noqa: E731
    assert len(titles(page1)) == 5 and len(titles(page2)) == 3
    assert not titles(page1) & titles(page2)
    # Unknown filter values are ignored, not a crash.
    assert client.get("/requests/?status=bogus&theme=nope&page=abc").status_code == 200


def test_create_draft_then_submit(app, login_as) -> None:
    client = login_as(make_user())
    response = client.post("/requests/new", data={**FORM, "save": "1"})
    assert response.status_code == 302
    req = db.session.scalars(
        sa.select(AssistanceRequest).order_by(AssistanceRequest.id.desc())
    ).first()
    assert req.title == FORM["title"] and req.status == RequestStatus.DRAFT
    assert req.expected_participants == 25 and req.period_start.month == 2
    detail = client.get(response.location).get_data(as_text=True)
    for text in ("Family and network support", "Dutch", "February 2027", "History"):
        assert text in detail
    response = client.post(f"/requests/{req.id}/transitions/submit", data={})
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.status == RequestStatus.SUBMITTED


def test_validation_errors_are_next_to_fields_and_keep_input(app, login_as) -> None:
    client = login_as(make_user())
    before = count_requests()
    response = client.post(
        "/requests/new",
        data={
            **FORM,
            "title": "",
            "context": "Write to me at ana@example.org please.",
            "save": "1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the request a short title." in html
    assert "Needs" in html and FORM["needs"] in html  # typed text kept
    assert count_requests() == before


def test_privacy_refusal_keeps_everything_typed(app, login_as) -> None:
    client = login_as(make_user())
    response = client.post(
        "/requests/new",
        data={**FORM, "context": "Ahmed Benali was convicted of a terrorist offence.", "save": "1"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "a person&#39;s name next to an offence" in html
    assert "Ahmed Benali was convicted" in html  # still in the textarea to rephrase
    assert 'id="context-error"' in html


def test_save_and_submit_incomplete_saves_draft_and_shows_what_is_missing(app, login_as) -> None:
    client = login_as(make_user())
    response = client.post("/requests/new", data={"title": "Only a title", "save_and_submit": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "not complete enough to submit" in html
    assert "Tick at least one theme." in html
    req = db.session.scalars(
        sa.select(AssistanceRequest).where(AssistanceRequest.title == "Only a title")
    ).one()
    assert req.status == RequestStatus.DRAFT  # saved, not lost
    # The form shown again now edits that draft: sending it again cannot make a second one.
    assert f'action="/requests/{req.id}/edit"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "x" * 201, "Keep the title under 200 characters."),
        ("context", "y" * 6001, "Shorten this to 6000 characters."),
        ("expected_participants", "many", "Not a valid integer value."),
        ("expected_participants", "0", "between 1 and 10000"),
        ("period_start", "2027-13", "Not a valid date value."),
        ("themes", "teleportation", "Not an option here: teleportation"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(app, login_as, field, value, message) -> None:
    client = login_as(make_user())
    before = count_requests()
    response = client.post("/requests/new", data={**FORM, field: value, "save": "1"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_requests() == before


def test_nul_bytes_are_stripped_not_stored(app, login_as) -> None:
    client = login_as(make_user())
    client.post("/requests/new", data={**FORM, "title": "Nul\x00 title", "save": "1"})
    assert (
        db.session.scalar(sa.select(AssistanceRequest.title).order_by(AssistanceRequest.id.desc()))
        == "Nul title"
    )


def test_edit_keeps_history_and_refuses_stale_version(app, login_as) -> None:
    req = make_request()
    client = login_as(req.created_by)
    form = {**FORM, "version": str(req.version), "save": "1"}
    assert client.post(f"/requests/{req.id}/edit", data=form).status_code == 302
    stale = client.post(f"/requests/{req.id}/edit", data={**form, "title": "Older tab"})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.get_data(as_text=True)
    assert "Older tab" in stale.get_data(as_text=True)  # the typed text is still there
    db.session.refresh(req)
    assert req.title == FORM["title"]


def test_submitted_request_cannot_be_edited(app, login_as) -> None:
    req = make_request(status=RequestStatus.SUBMITTED)
    client = login_as(req.created_by)
    response = client.post(f"/requests/{req.id}/edit", data={**FORM, "save": "1"})
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.title != FORM["title"]


def test_withdraw_without_reason_is_refused(app, login_as) -> None:
    req = make_request(status=RequestStatus.SUBMITTED)
    client = login_as(req.created_by)
    response = client.post(
        f"/requests/{req.id}/transitions/withdraw", data={"comment": ""}, follow_redirects=True
    )
    assert "Give a short reason" in response.get_data(as_text=True)
    db.session.refresh(req)
    assert req.status == RequestStatus.SUBMITTED


def test_unknown_action_changes_nothing(app, login_as) -> None:
    req = make_request()
    client = login_as(req.created_by)
    response = client.post(f"/requests/{req.id}/transitions/approve", follow_redirects=True)
    assert "is not an action on a request" in response.get_data(as_text=True)
    db.session.refresh(req)
    assert req.status == RequestStatus.DRAFT


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_programme_roles_see_all_read_only(app, login_as, role: Role) -> None:
    req = make_request(status=RequestStatus.SUBMITTED, title="Visible to Efus")
    client = login_as(make_user(role))
    assert "Visible to Efus" in client.get("/requests/").get_data(as_text=True)
    detail = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Visible to Efus" in detail and "Withdraw request" not in detail
    assert client.get("/requests/new").status_code == 403
    assert client.post(f"/requests/{req.id}/edit", data=FORM).status_code == 302
    response = client.post(f"/requests/{req.id}/transitions/withdraw", data={"comment": "x"})
    db.session.refresh(req)
    assert req.status == RequestStatus.SUBMITTED and response.status_code == 302


def test_anonymous_users_are_sent_to_sign_in(app, client) -> None:
    response = client.get("/requests/")
    assert response.status_code == 302 and "/login" in response.location


def test_tampered_ids_are_404_and_change_nothing(app, login_as) -> None:
    req = make_request()
    client = login_as(req.created_by)
    for url in ("/requests/999999", "/requests/999999/edit"):
        assert client.get(url).status_code == 404
    assert (
        client.post("/requests/999999/transitions/withdraw", data={"comment": "x"}).status_code
        == 404
    )
    assert client.get("/requests/not-a-number").status_code == 404


def test_tampered_choice_ids_in_admin_forms_are_refused(app, login_as) -> None:
    from assist.auth.models import User

    client = login_as(make_user(Role.ADMIN))
    form = {
        "email": "tampered@assist.example",
        "name": "Tampered",
        "role": "city_official",
        "authority_id": "999999",
        "organisation_id": "",
        "is_active": "y",
        "password": "a long enough password",
    }
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data={**form, "role": "superuser"})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(User).where(User.email == "tampered@assist.example")) is None


def test_ids_beyond_the_database_range_are_404(app, login_as) -> None:
    client = login_as(make_user())
    for url in ("/requests/99999999999999999999", "/engagements/99999999999999999999"):
        assert client.get(url).status_code == 404


def test_list_after_the_session_row_is_touched(app, login_as) -> None:
    """Once a minute a page first records the session's activity and commits, which expires
    every loaded object, the user's authority included; the list then reloads that authority
    with its rows. The page must still be able to read the whole authority (a regression: the
    list loaded only the authority's name, and the next read of ``is_active`` failed)."""
    from datetime import timedelta

    from assist.auth.models import UserSession
    from assist.db import utcnow

    official = make_user()
    make_request(official.authority, title="Ours: release roundtable")
    client = login_as(official)
    assert client.get("/requests/").status_code == 200
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    response = client.get("/requests/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Ours: release roundtable" in body and "New request" in body
