"""Who may see and change a request: the one place the pages, the API and the services ask."""

from __future__ import annotations

from assist.auth.models import User
from assist.requests.models import AssistanceRequest
from assist.roles import PROGRAMME_ROLES, Role
from assist.workflow import EDITABLE_REQUEST_STATES, REQUESTS, Transition


def is_own_authority(user: User, req: AssistanceRequest) -> bool:
    return user.role == Role.CITY_OFFICIAL and user.authority_id == req.authority_id


def is_engaged_expert(user: User, req: AssistanceRequest) -> bool:
    """An expert whose organisation has (or had) an engagement on this request."""
    if user.role != Role.EXPERT or user.organisation_id is None:
        return False
    from assist.engagements.queries import organisation_engaged_on

    return organisation_engaged_on(user.organisation_id, req.id)


def can_view(user: User, req: AssistanceRequest) -> bool:
    return (
        user.role in PROGRAMME_ROLES or is_own_authority(user, req) or is_engaged_expert(user, req)
    )


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
    if user.role == Role.CITY_OFFICIAL and not is_own_authority(user, req):
        return []
    if user.role not in PROGRAMME_ROLES and user.role != Role.CITY_OFFICIAL:
        return []
    return REQUESTS.allowed(req.status, user.role)
