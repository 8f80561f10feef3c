"""A programme where every free-text field carries a payload tagged with the field's name.

Used by the XSS and SQL-injection tests: ``build(text)`` writes ``text(field)`` into every
free-text column a user can fill (through a form or the API), and into the names shown
everywhere. The objects are in the states that put each field on a page: a request in review, one
in matching, one engaged with a delivered, rated and followed-up engagement, one declined and one
withdrawn (their comments are on the timelines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from assist import audit
from assist.api import tokens
from assist.auth.models import Invitation, User
from assist.delivery.models import Activity, Attachment, EngagementFeedback, FollowUp
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.engagements.models import ConflictOfInterest, Engagement, MatchDecision
from assist.extensions import db
from assist.notifications.models import Notification
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus
from tests.factories import make_authority, make_organisation, make_request, make_user

#: Every free-text field a user fills, by the tag its payload carries.
FIELDS = [
    "authority.name",
    "authority.description",
    "organisation.name",
    "organisation.description",
    "user.name",
    "request.title",
    "request.context",
    "request.needs",
    "request.existing_activities",
    "request.comment",
    "engagement.comment",
    "engagement.reason",
    "engagement.transition_comment",
    "activity.topic",
    "activity.place",
    "activity.intended_audience",
    "activity.summary",
    "activity.outcomes",
    "activity.follow_up",
    "activity.comment",
    "rating.comment",
    "follow_up.comment",
    "conflict.reason",
    "notification.message",
    "token.name",
    "invitation.name",
    "attachment.filename",
]


@dataclass
class Programme:
    authority: LocalAuthority
    organisation: ExpertOrganisation
    official: User
    expert: User
    staff: User
    admin: User
    in_review: AssistanceRequest
    matching: AssistanceRequest
    engaged: AssistanceRequest
    declined: AssistanceRequest
    withdrawn: AssistanceRequest
    engagement: Engagement
    activity: Activity
    attachment: Attachment
    conflict: ConflictOfInterest
    notification: Notification
    token_id: int

    def ids(self) -> dict[str, tuple[int, User]]:
        """Route arguments -> (an object id, a user who may see it), as in the tenant sweeps."""
        return {
            "request_id": (self.engaged.id, self.official),
            "org_id": (self.organisation.id, self.expert),
            "engagement_id": (self.engagement.id, self.expert),
            "conflict_id": (self.conflict.id, self.staff),
            "notification_id": (self.notification.id, self.official),
            "token_id": (self.token_id, self.official),
            "activity_id": (self.activity.id, self.expert),
            "attachment_id": (self.attachment.id, self.expert),
            "authority_id": (self.authority.id, self.admin),
            "user_id": (self.official.id, self.admin),
        }


def build(text: Callable[[str], str], attachment_dir: Path) -> Programme:
    authority = make_authority(
        text("authority.name")[:200], description=text("authority.description")
    )
    org = make_organisation(
        text("organisation.name")[:200], description=text("organisation.description")
    )
    name = text("user.name")[:120]
    official = make_user(Role.CITY_OFFICIAL, authority=authority, name=name)
    expert = make_user(Role.EXPERT, organisation=org, name=name)
    staff = make_user(Role.STAFF, name=name)
    admin = make_user(Role.ADMIN, name=name)

    def request(status: RequestStatus) -> AssistanceRequest:
        req = make_request(
            authority,
            created_by=official,
            status=status,
            title=text("request.title")[:200],
            context=text("request.context"),
            needs=text("request.needs"),
            existing_activities=text("request.existing_activities"),
        )
        req.submitted_at = datetime.now(UTC) - timedelta(days=3)
        return req

    in_review = request(RequestStatus.IN_REVIEW)
    matching = request(RequestStatus.MATCHING)
    engaged = request(RequestStatus.ENGAGED)
    declined = request(RequestStatus.DECLINED)
    withdrawn = request(RequestStatus.WITHDRAWN)
    comment = text("request.comment")
    audit.record(staff, "ask_info", in_review, from_state="in_review", to_state="needs_info",
                 comment=comment)  # fmt: skip
    audit.record(official, "resubmit", in_review, from_state="needs_info", to_state="submitted",
                 comment=comment)  # fmt: skip
    audit.record(staff, "decline", declined, from_state="in_review", to_state="declined",
                 comment=comment)  # fmt: skip
    audit.record(official, "withdraw", withdrawn, from_state="submitted", to_state="withdrawn",
                 comment=comment)  # fmt: skip

    engagement = Engagement(
        request=engaged,
        organisation=org,
        proposed_by=staff,
        approved_by=staff,
        status=EngagementStatus.DELIVERED,
        comment=text("engagement.comment"),
    )
    db.session.add(engagement)
    db.session.flush()
    db.session.add(
        MatchDecision(
            request_id=engaged.id,
            engagement_id=engagement.id,
            chosen_organisation_id=org.id,
            chosen_rank=2,
            chosen_score=0.5,
            passed_over=[],
            chosen_reasons=["Shared theme"],
            reason=text("engagement.reason"),
            decided_by_id=staff.id,
        )
    )
    audit.record(staff, "propose_match", engagement, to_state="proposed",
                 comment=text("engagement.reason"))  # fmt: skip
    audit.record(expert, "accept", engagement, from_state="approved", to_state="accepted",
                 comment=text("engagement.transition_comment"))  # fmt: skip
    activity = Activity(
        engagement=engagement,
        status=ActivityStatus.DELIVERED,
        format="training",
        topic=text("activity.topic")[:200],
        place=text("activity.place")[:200],
        intended_audience=text("activity.intended_audience")[:300],
        planned_start=date.today(),
        delivered_on=date.today(),
        duration_hours=3.0,
        participants={"probation": 4},
        participants_total=4,
        summary=text("activity.summary"),
        outcomes=text("activity.outcomes"),
        follow_up=text("activity.follow_up"),
        created_by=expert,
        recorded_by=expert,
        recorded_at=datetime.now(UTC),
    )
    db.session.add(activity)
    db.session.flush()
    audit.record(official, "dispute", activity, from_state="delivered", to_state="disputed",
                 comment=text("activity.comment"))  # fmt: skip
    attachment_dir.mkdir(parents=True, exist_ok=True)
    (attachment_dir / ("cd" * 16)).write_bytes(b"%PDF-1.4 test")
    attachment = Attachment(
        activity=activity,
        filename=text("attachment.filename")[:200],
        content_type="application/pdf",
        size=13,
        sha256="0" * 64,
        storage_key="cd" * 16,
        uploaded_by_id=expert.id,
    )
    db.session.add(attachment)
    now = datetime.now(UTC)
    other_authority = make_authority()
    conflict = ConflictOfInterest(
        organisation=org,
        authority=other_authority,
        reason=text("conflict.reason")[:500],
        created_by=staff,
    )
    notification = Notification(
        user=official, message=text("notification.message")[:500], link=f"/requests/{engaged.id}"
    )
    db.session.add_all(
        [
            conflict,
            notification,
            Notification(user=staff, message=text("notification.message")[:500], link=""),
            EngagementFeedback(
                engagement_id=engagement.id,
                rating=4,
                comment=text("rating.comment"),
                created_by_id=official.id,
            ),
            FollowUp(
                engagement_id=engagement.id,
                due_at=now,
                asked_at=now,
                answered_at=now,
                uses=["protocol_applied"],
                comment=text("follow_up.comment"),
                answered_by_id=official.id,
            ),
            Invitation(
                email="invitee@assist.example",
                name=text("invitation.name")[:120],
                role=Role.CITY_OFFICIAL,
                authority_id=authority.id,
                token_hash="1" * 64,
                invited_by_id=staff.id,
                expires_at=now + timedelta(days=3),
            ),
        ]
    )
    token_ids = [tokens.create_token(u, text("token.name")[:100]).token.id
                 for u in (official, expert, staff, admin)]  # fmt: skip
    db.session.flush()
    return Programme(
        authority=authority,
        organisation=org,
        official=official,
        expert=expert,
        staff=staff,
        admin=admin,
        in_review=in_review,
        matching=matching,
        engaged=engaged,
        declined=declined,
        withdrawn=withdrawn,
        engagement=engagement,
        activity=activity,
        attachment=attachment,
        conflict=conflict,
        notification=notification,
        token_id=token_ids[0],
    )
