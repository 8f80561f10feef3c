"""Who may use the API, manage a token, and how much of the expert directory each role sees."""

from __future__ import annotations

from enum import StrEnum

from assist.auth.models import ApiToken, User
from assist.roles import PROGRAMME_ROLES, Role


class DirectoryView(StrEnum):
    #: Every organisation, active or not, with capacity and load (Efus's working view).
    FULL = "full"
    #: The expert's own organisation only, with its full profile.
    OWN = "own"
    #: Active organisations' public profile (name, country, description, themes, formats,
    #: languages), so a city knows who could help.
    PUBLIC = "public"


def can_use_api(user: User) -> bool:
    return user.is_active


def can_manage_token(user: User, token: ApiToken) -> bool:
    return token.user_id == user.id


def directory_view(user: User) -> DirectoryView:
    if user.role in PROGRAMME_ROLES:
        return DirectoryView.FULL
    if user.role == Role.EXPERT:
        return DirectoryView.OWN
    return DirectoryView.PUBLIC
