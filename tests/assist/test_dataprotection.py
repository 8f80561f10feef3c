"""Retention anonymises closed requests (free text gone, statistics kept); the export holds
everything stored about a request, as the viewer may see it."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from assist import audit
from assist.audit import AuditEntry
from assist.dataprotection import REDACTED, apply_retention
from assist.db import utcnow
from assist.delivery.models import Activity, EngagementFeedback
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.requests import services as request_services
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus
from tests.factories import make_organisation, make_request, make_user


def closed_request():
    req = make_request(
        status=RequestStatus.SUBMITTED, title="Secret title", context="Secret context words " * 3
    )
    request_services.withdraw_request(req, req.created_by, "Secret reason")
    org = make_organisation()
    staff = make_user(Role.STAFF)
    engagement = Engagement(
        request=req,
        organisation=org,
        proposed_by=staff,
        status=EngagementStatus.CLOSED,
        comment="Secret note",
    )
    db.session.add(engagement)
    db.session.flush()
    db.session.add(
        Activity(
            engagement=engagement,
            status=ActivityStatus.CONFIRMED,
            format="training",
            topic="Secret topic",
            summary="Secret summary",
            participants={"probation": 7},
            participants_total=7,
            delivered_on=date.today(),
            duration_hours=3,
            created_by=staff,
        )
    )
    db.session.add(
        EngagementFeedback(
            engagement=engagement,
            rating=4,
            comment="Secret feedback",
            created_by_id=req.created_by_id,
        )
    )
    db.session.flush()
    return req, engagement


def test_retention_removes_free_text_and_keeps_statistics(app) -> None:
    req, engagement = closed_request()
    fresh = make_request(status=RequestStatus.COMPLETED, title="Recent and kept")
    later = utcnow() + timedelta(days=800)
    assert apply_retention(730, now=later) == 1 + (fresh.updated_at < later - timedelta(days=730))
    db.session.expire_all()
    assert req.title == f"Request #{req.id} (anonymised)" and req.context == ""
    activity = engagement.activities[0]
    assert (activity.summary, activity.topic) == ("", "(anonymised)")
    assert (
        activity.participants == {"probation": 7} and activity.duration_hours == 3
    )  # statistics stay
    assert engagement.feedback.rating == 4 and engagement.feedback.comment == ""
    comments = db.session.scalars(
        sa.select(AuditEntry.comment).where(
            AuditEntry.object_id == req.id, AuditEntry.object_type == "assistance_requests"
        )
    ).all()
    assert "Secret reason" not in comments and REDACTED in comments
    assert audit.history(req)[-1].action == "anonymise"
    assert apply_retention(730, now=later) == 0  # once only


def test_recent_or_open_requests_are_kept(app) -> None:
    open_req = make_request(status=RequestStatus.MATCHING, title="Still open")
    assert apply_retention(730, now=utcnow() + timedelta(days=3000)) >= 0
    db.session.refresh(open_req)
    assert open_req.title == "Still open"


def test_export_as_city_and_as_staff(app, login_as) -> None:
    req, _ = closed_request()
    city = login_as(req.created_by).get(f"/requests/{req.id}/export.json")
    assert city.status_code == 200 and "attachment" in city.headers["Content-Disposition"]
    data = city.get_json()
    assert data["request"]["title"] == "Secret title"
    assert data["engagements"][0]["activities"][0]["participants"] == {"probation": 7}
    assert data["engagements"][0]["decision"] is None  # Efus's internal reasoning stays internal
    assert (
        login_as(make_user(Role.CITY_OFFICIAL)).get(f"/requests/{req.id}/export.json").status_code
        == 404
    )
    assert login_as(make_user(Role.STAFF)).get(f"/requests/{req.id}/export.json").status_code == 200


def test_apply_retention_command(app) -> None:
    result = app.test_cli_runner().invoke(args=["apply-retention", "--days", "30"])
    assert result.exit_code == 0 and "Anonymised" in result.output
    assert app.test_cli_runner().invoke(args=["apply-retention", "--days", "3"]).exit_code != 0
