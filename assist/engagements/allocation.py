"""The suggested allocation of expert organisations to every request waiting in matching."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from assist.engagements.queries import active_engagement_counts
from assist.engagements.ranking import fitted, request_profile, vetoes_for
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.workflow import OPEN_ENGAGEMENT_STATES, RequestStatus
from matching import BindingConstraint, assign


@dataclass(frozen=True)
class Suggestion:
    request: AssistanceRequest
    organisation_id: int | None
    name: str
    score: float | None


@dataclass(frozen=True)
class AllocationView:
    rows: list[Suggestion]
    binding: tuple[BindingConstraint, ...]
    message: str


def waiting_requests() -> list[AssistanceRequest]:
    """Requests in matching with no open engagement yet, oldest submission first."""
    from assist.engagements.models import Engagement

    has_open = (
        sa.select(Engagement.id)
        .where(Engagement.request_id == AssistanceRequest.id)
        .where(Engagement.status.in_(OPEN_ENGAGEMENT_STATES))
        .exists()
    )
    stmt = (
        sa.select(AssistanceRequest)
        .where(AssistanceRequest.status == RequestStatus.MATCHING, ~has_open)
        .options(
            sa.orm.joinedload(AssistanceRequest.authority),
            sa.orm.selectinload(AssistanceRequest.terms),
        )
        .order_by(AssistanceRequest.submitted_at, AssistanceRequest.id)
    )
    return list(db.session.scalars(stmt))


def suggest_allocation() -> AllocationView:
    requests = waiting_requests()
    index = fitted()
    if not requests or index.matcher is None:
        return AllocationView([], (), _("No request is waiting for a match."))
    profiles = [request_profile(r, vetoes_for(r)) for r in requests]
    used = active_engagement_counts()
    capacity = {
        str(e.id): max(0, (e.capacity or 0) - used.get(int(e.id), 0))
        for e in index.matcher.experts_
        if e.capacity is not None
    }
    result = assign(index.matcher, profiles, capacity=capacity)
    rows = []
    for req in requests:
        picks = [a for a in result.allocations if a.request_id == str(req.id)]
        if not picks:
            rows.append(Suggestion(req, None, "", None))
        for a in picks:
            rows.append(Suggestion(req, int(a.expert_id), index.names[a.expert_id], a.score))
    message = (
        _("Every waiting request has a suggestion within the organisations' free capacity.")
        if result.feasible
        else _("Not every request can be served; see what binds below.")
    )
    return AllocationView(rows, result.binding, message)
