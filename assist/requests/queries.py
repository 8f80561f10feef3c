"""Reads of requests, already scoped to what the user may see."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from assist.auth.models import User
from assist.directory.models import TaxonomyTerm, TermKind
from assist.extensions import db
from assist.requests.models import AssistanceRequest, request_terms
from assist.requests.policy import can_view
from assist.roles import PROGRAMME_ROLES, Role
from assist.workflow import RequestStatus


def visible_requests(
    user: User,
    *,
    status: RequestStatus | None = None,
    theme: str | None = None,
) -> sa.Select[tuple[AssistanceRequest]]:
    """Requests the user may see, newest change first, optionally filtered."""
    stmt = sa.select(AssistanceRequest).options(
        sa.orm.joinedload(AssistanceRequest.authority),
        sa.orm.selectinload(AssistanceRequest.terms),
    )
    if user.role == Role.CITY_OFFICIAL:
        stmt = stmt.where(AssistanceRequest.authority_id == user.authority_id)
    elif user.role not in PROGRAMME_ROLES:
        stmt = stmt.where(sa.false())
    if status is not None:
        stmt = stmt.where(AssistanceRequest.status == status)
    if theme:
        stmt = stmt.where(
            AssistanceRequest.id.in_(
                sa.select(request_terms.c.request_id)
                .join(TaxonomyTerm, TaxonomyTerm.id == request_terms.c.term_id)
                .where(TaxonomyTerm.kind == TermKind.THEME, TaxonomyTerm.code == theme)
            )
        )
    return stmt.order_by(AssistanceRequest.updated_at.desc(), AssistanceRequest.id.desc())


def get_request_or_404(user: User, request_id: int) -> AssistanceRequest:
    """The request, or 404 when it does not exist *or* the user may not see it (no leak)."""
    req = db.session.get(AssistanceRequest, request_id)
    if req is None or not can_view(user, req):
        raise NotFound()
    return req


def review_queue() -> dict[RequestStatus, list[AssistanceRequest]]:
    """Staff's queue: what waits for Efus, oldest submission first, by stage."""
    stmt = (
        sa.select(AssistanceRequest)
        .where(
            AssistanceRequest.status.in_(
                [
                    RequestStatus.SUBMITTED,
                    RequestStatus.IN_REVIEW,
                    RequestStatus.NEEDS_INFO,
                    RequestStatus.MATCHING,
                ]
            )
        )
        .options(sa.orm.joinedload(AssistanceRequest.authority))
        .order_by(AssistanceRequest.submitted_at, AssistanceRequest.id)
    )
    queue: dict[RequestStatus, list[AssistanceRequest]] = {
        RequestStatus.SUBMITTED: [],
        RequestStatus.IN_REVIEW: [],
        RequestStatus.NEEDS_INFO: [],
        RequestStatus.MATCHING: [],
    }
    for req in db.session.scalars(stmt):
        queue[req.status].append(req)
    return queue
