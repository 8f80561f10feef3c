"""Engagement and workflow text goes through gettext when it is read, in the reader's language.

A stand-in catalogue marks every French string with "«fr»", so the tests see which text is
translated and in which language, without depending on the real catalogues' progress.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from assist.engagements import services
from assist.extensions import db
from assist.notifications.models import Notification
from assist.roles import Role
from assist.workflow import (
    ENGAGEMENTS,
    EngagementStatus,
    GuardContext,
    InvalidTransition,
    RequestStatus,
)
from tests.factories import make_organisation, make_request, make_user, tag
from tests.stand_in_catalogue import use_stand_in

MARK = "«fr» "


def _mark_french(locale: str, message: str) -> str:
    return MARK + message if locale == "fr" else message


@pytest.fixture
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    use_stand_in(monkeypatch, _mark_french)


def test_labels_and_refusals_are_read_in_the_current_language(app, french) -> None:
    with force_locale("fr"):
        assert EngagementStatus.APPROVED.label == MARK + "Approved, awaiting the expert"
        assert isinstance(EngagementStatus.APPROVED.label, str)
        approve = ENGAGEMENTS.allowed(EngagementStatus.PROPOSED, Role.STAFF)[0]
        assert approve.label == MARK + "Approve the match"
        with pytest.raises(InvalidTransition) as info:
            ENGAGEMENTS.find(EngagementStatus.CLOSED, "approve", Role.STAFF)
        assert str(info.value).startswith(MARK)
        assert MARK + "Closed" in str(info.value)
        with pytest.raises(InvalidTransition, match="«fr» Four-eyes"):
            ENGAGEMENTS.find(
                EngagementStatus.PROPOSED,
                "approve",
                Role.STAFF,
                GuardContext(actor_id=1, proposer_id=1, four_eyes=True),
            )
    # The same object, read again in English: nothing was fixed at import or first use.
    assert EngagementStatus.APPROVED.label == "Approved, awaiting the expert"
    assert approve.label == "Approve the match"
    # Transitions compare and hash alike whatever the language (sets, "in" checks).
    with force_locale("fr"):
        french_view = ENGAGEMENTS.allowed(EngagementStatus.PROPOSED, Role.STAFF)
    assert approve in french_view and hash(approve) == hash(french_view[0])


def test_without_an_app_the_workflow_speaks_english() -> None:
    assert RequestStatus.NEEDS_INFO.label == "More information needed"
    with pytest.raises(InvalidTransition, match="is not an action on an engagement"):
        ENGAGEMENTS.find(EngagementStatus.PROPOSED, "teleport", Role.STAFF)


@pytest.fixture
def matched(app):
    org = tag(
        make_organisation("Strong Fit", description="Exit mentoring and family counselling."),
        themes=["exit_mentoring"],
        languages=["es"],
    )
    req = make_request(
        status=RequestStatus.MATCHING,
        context="Exit mentoring and family counselling after release.",
        terms={"themes": ["exit_mentoring"], "formats": ["training"], "languages": ["es"]},
    )
    staff = make_user(Role.STAFF, language="fr")
    engagement = services.propose_match(
        req, staff, services.Proposal(organisation_id=org.id, comment="")
    )
    db.session.commit()
    return {"org": org, "req": req, "staff": staff, "engagement": engagement}


def test_notifications_are_written_in_each_recipients_language(app, french, matched) -> None:
    req = matched["req"]
    french_official = make_user(Role.CITY_OFFICIAL, authority=req.authority, language="fr")
    english_official = make_user(Role.CITY_OFFICIAL, authority=req.authority, language="en")
    # The actor reads French; each recipient gets their own language.
    with force_locale("fr"):
        services.transition_engagement(matched["engagement"], matched["staff"], "approve")
    db.session.flush()
    by_user = {n.user_id: n.message for n in db.session.query(Notification)}
    expected = f"Efus matched Strong Fit to your request #{req.id} ({req.authority.name})."
    assert by_user[english_official.id] == expected
    assert by_user[french_official.id] == MARK + expected


def test_the_pages_render_in_the_readers_language(app, french, matched, login_as) -> None:
    engagement, req = matched["engagement"], matched["req"]
    client = login_as(matched["staff"])
    pages = {
        f"/requests/{req.id}/experts": ["Ranked experts", "Apply filters", "score "],
        f"/engagements/{engagement.id}": ["Proposed", "History", "Propose"],
        "/engagements/": ["Engagements", "Proposed"],
        "/matching": ["Suggested allocation"],
        "/conflicts": ["Conflicts of interest", "Record"],
    }
    for path, texts in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        for text in texts:
            assert MARK + text in page, (path, text)
