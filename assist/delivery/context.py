"""What the engagement page needs to show the activities and their actions to this user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for

from assist.auth.models import User
from assist.delivery import policy
from assist.delivery.attachments import can_upload
from assist.delivery.forms import RatingForm
from assist.delivery.models import Activity, FollowUp
from assist.directory.models import TermKind
from assist.directory.queries import term_labels
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.workflow import ActivityStatus, Transition


@dataclass(frozen=True)
class ActivityView:
    activity: Activity
    transitions: list[Transition]
    can_upload: bool

    def action_url(self, action: str) -> str:
        return url_for("delivery.transition", activity_id=self.activity.id, action=action)


def delivery_context(user: User, engagement: Engagement) -> dict[str, Any]:
    visible = [a for a in engagement.activities if a.status != ActivityStatus.CANCELLED]
    return {
        "activities": [
            ActivityView(
                a,
                policy.allowed_transitions(user, a),
                can_upload(user, a),
            )
            for a in visible
        ],
        "can_plan": policy.can_plan(user, engagement),
        "rating_form": RatingForm() if policy.can_rate(user, engagement) else None,
        "follow_up": db.session.scalar(
            sa.select(FollowUp).where(FollowUp.engagement_id == engagement.id)
        ),
        "format_labels": term_labels([TermKind.FORMAT]),
        "group_labels": term_labels([TermKind.PARTICIPANT_GROUP]),
    }
