"""Who may see and change a request: the one place the pages, the API and the services ask."""

from __future__ import annotations

from assist.auth.models import User
from assist.requests.models import AssistanceRequest
from assist.roles import PROGRAMME_ROLES, Role
from assist.workflow import (
    EDITABLE_REQUEST_STATES,
    REQUEST_TRANSITIONS,
    Transition,
    transitions_from,
)


def is_own_authority(user: User, req: AssistanceRequest) -> bool:
    return user.role == Role.CITY_OFFICIAL and user.authority_id == req.authority_id


def can_view(user: User, req: AssistanceRequest) -> bool:
    # Experts will see requests they are engaged on once engagements exist.
    return user.role in PROGRAMME_ROLES or is_own_authority(user, req)


def can_list(user: User) -> bool:
    return user.role in PROGRAMME_ROLES or user.role == Role.CITY_OFFICIAL


def can_create(user: User) -> bool:
    return (
        user.role == Role.CITY_OFFICIAL and user.authority is not None and user.authority.is_active
    )


def can_edit(user: User, req: AssistanceRequest) -> bool:
    return is_own_authority(user, req) and req.status in EDITABLE_REQUEST_STATES


def allowed_transitions(user: User, req: AssistanceRequest) -> list[Transition]:
    """The workflow's actions for this user on this request (empty for another tenant)."""
    if not can_view(user, req):
        return []
    if user.role == Role.CITY_OFFICIAL and not is_own_authority(user, req):
        return []
    return transitions_from(REQUEST_TRANSITIONS, req.status, user.role)
