"""Who may plan, record, confirm and rate activities: the expert organisation and the city of the
engagement, each for its own part; staff see everything."""

from __future__ import annotations

from assist.auth.models import User
from assist.delivery.models import Activity
from assist.engagements.models import Engagement
from assist.engagements.policy import can_view as can_view_engagement
from assist.engagements.policy import is_own_organisation
from assist.roles import Role
from assist.workflow import (
    ACTIVITIES,
    ACTIVITY_OPEN_ENGAGEMENT_STATES,
    EngagementStatus,
    Transition,
)


def is_city_of(user: User, engagement: Engagement) -> bool:
    return user.role == Role.CITY_OFFICIAL and user.authority_id == engagement.request.authority_id


def is_party(user: User, engagement: Engagement) -> bool:
    """The two sides of the engagement: its expert organisation and its city."""
    return is_own_organisation(user, engagement) or is_city_of(user, engagement)


def can_plan(user: User, engagement: Engagement) -> bool:
    return is_party(user, engagement) and engagement.status in ACTIVITY_OPEN_ENGAGEMENT_STATES


def can_record(user: User, engagement: Engagement) -> bool:
    return is_own_organisation(user, engagement) and engagement.status in {
        EngagementStatus.PLANNED,
        EngagementStatus.DELIVERING,
    }


def can_view(user: User, activity: Activity) -> bool:
    return can_view_engagement(user, activity.engagement)


def allowed_transitions(user: User, activity: Activity) -> list[Transition]:
    if not is_party(user, activity.engagement):
        return []
    return [
        t
        for t in ACTIVITIES.allowed(activity.status, user.role)
        if t.action != "record" or can_record(user, activity.engagement)
    ]


def can_rate(user: User, engagement: Engagement) -> bool:
    return (
        is_city_of(user, engagement)
        and engagement.status == EngagementStatus.DELIVERED
        and engagement.feedback is None
    )
