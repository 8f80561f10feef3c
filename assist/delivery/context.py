"""What the engagement page needs to show the activities and their actions to this user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for

from assist.audit import AuditEntry
from assist.auth.models import User
from assist.delivery import policy
from assist.delivery.attachments import can_upload
from assist.delivery.forms import RatingForm
from assist.delivery.models import Activity, FollowUp
from assist.directory.models import TermKind, translate_term
from assist.directory.queries import term_labels
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.workflow import ActivityStatus, Transition


@dataclass(frozen=True)
class ActivityView:
    activity: Activity
    transitions: list[Transition]
    can_upload: bool
    #: The city's comment when it disputed the record (what the expert must correct).
    dispute_comment: str = ""

    def action_url(self, action: str) -> str:
        return url_for("delivery.transition", activity_id=self.activity.id, action=action)


def dispute_comments(activities: list[Activity]) -> dict[int, str]:
    """The latest dispute comment of each disputed activity, in one query."""
    disputed = [a.id for a in activities if a.status == ActivityStatus.DISPUTED]
    if not disputed:
        return {}
    stmt = (
        sa.select(AuditEntry.object_id, AuditEntry.comment)
        .where(
            AuditEntry.object_type == Activity.__tablename__,
            AuditEntry.object_id.in_(disputed),
            AuditEntry.action == "dispute",
        )
        .order_by(AuditEntry.id)
    )
    # Ordered by id, so a later dispute of the same activity replaces an earlier one.
    return {activity_id: comment for activity_id, comment in db.session.execute(stmt)}


def translated_labels(kind: TermKind) -> dict[str, str]:
    """Code -> label of one vocabulary, in the reader's language."""
    return {code: translate_term(label) for code, label in term_labels([kind]).items()}


def delivery_context(user: User, engagement: Engagement) -> dict[str, Any]:
    visible = [a for a in engagement.activities if a.status != ActivityStatus.CANCELLED]
    disputes = dispute_comments(visible)
    return {
        "activities": [
            ActivityView(
                a,
                policy.allowed_transitions(user, a),
                can_upload(user, a),
                disputes.get(a.id, ""),
            )
            for a in visible
        ],
        "can_plan": policy.can_plan(user, engagement),
        "rating_form": RatingForm() if policy.can_rate(user, engagement) else None,
        "follow_up": db.session.scalar(
            sa.select(FollowUp).where(FollowUp.engagement_id == engagement.id)
        ),
        "format_labels": translated_labels(TermKind.FORMAT),
        "group_labels": translated_labels(TermKind.PARTICIPANT_GROUP),
    }
