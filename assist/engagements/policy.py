"""Who may see the expert ranking for a request."""

from __future__ import annotations

from assist.auth.models import User
from assist.requests.models import AssistanceRequest
from assist.requests.policy import can_view
from assist.roles import PROGRAMME_ROLES


def can_see_ranking(user: User, req: AssistanceRequest) -> bool:
    # The ranking compares organisations; it is Efus's working tool, not the city's.
    return user.role in PROGRAMME_ROLES and can_view(user, req)
