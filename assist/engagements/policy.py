"""Who may see engagements and the ranking, and which workflow actions they may take."""

from __future__ import annotations

from assist.auth.models import User
from assist.engagements.models import Engagement
from assist.requests.models import AssistanceRequest
from assist.requests.policy import can_view as can_view_request
from assist.roles import PROGRAMME_ROLES, Role
from assist.workflow import ENGAGEMENTS, Transition


def can_see_ranking(user: User, req: AssistanceRequest) -> bool:
    # The ranking compares organisations; it is Efus's working tool, not the city's.
    return user.role in PROGRAMME_ROLES and can_view_request(user, req)


def is_own_organisation(user: User, engagement: Engagement) -> bool:
    return user.role == Role.EXPERT and user.organisation_id == engagement.organisation_id


def can_view(user: User, engagement: Engagement) -> bool:
    from assist.engagements.queries import VISIBLE_TO_EXPERT

    if user.role in PROGRAMME_ROLES:
        return True
    if engagement.status not in VISIBLE_TO_EXPERT:
        return False  # a proposal is internal to Efus until approved
    if user.role == Role.EXPERT:
        return is_own_organisation(user, engagement)
    if user.role == Role.CITY_OFFICIAL:
        return user.authority_id == engagement.request.authority_id
    return False


def allowed_transitions(user: User, engagement: Engagement) -> list[Transition]:
    if not can_view(user, engagement):
        return []
    if user.role == Role.EXPERT and not is_own_organisation(user, engagement):
        return []
    return ENGAGEMENTS.allowed(engagement.status, user.role)
