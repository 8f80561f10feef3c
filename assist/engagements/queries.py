"""Reads of engagements, conflicts and decisions, already scoped to what the user may see."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from assist.auth.models import User
from assist.engagements.models import ConflictOfInterest, Engagement
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import PROGRAMME_ROLES, Role
from assist.workflow import CAPACITY_STATES, OPEN_ENGAGEMENT_STATES, EngagementStatus

#: Once staff have approved a match, the expert organisation sees it (and keeps seeing it).
VISIBLE_TO_EXPERT = frozenset(EngagementStatus) - {EngagementStatus.PROPOSED}


def organisation_engaged_on(organisation_id: int, request_id: int) -> bool:
    stmt = sa.select(Engagement.id).where(
        Engagement.organisation_id == organisation_id,
        Engagement.request_id == request_id,
        Engagement.status.in_(VISIBLE_TO_EXPERT),
    )
    return db.session.scalar(stmt.limit(1)) is not None


def visible_engagements(
    user: User, *, status: EngagementStatus | None = None
) -> sa.Select[tuple[Engagement]]:
    stmt = (
        sa.select(Engagement)
        .join(AssistanceRequest, AssistanceRequest.id == Engagement.request_id)
        .options(
            sa.orm.joinedload(Engagement.organisation),
            sa.orm.joinedload(Engagement.request).joinedload(AssistanceRequest.authority),
        )
    )
    if user.role == Role.EXPERT:
        stmt = stmt.where(
            Engagement.organisation_id == user.organisation_id,
            Engagement.status.in_(VISIBLE_TO_EXPERT),
        )
    elif user.role == Role.CITY_OFFICIAL:
        stmt = stmt.where(
            AssistanceRequest.authority_id == user.authority_id,
            Engagement.status.in_(VISIBLE_TO_EXPERT),
        )
    elif user.role not in PROGRAMME_ROLES:
        stmt = stmt.where(sa.false())
    if status is not None:
        stmt = stmt.where(Engagement.status == status)
    return stmt.order_by(Engagement.updated_at.desc(), Engagement.id.desc())


def get_engagement_or_404(user: User, engagement_id: int) -> Engagement:
    from assist.delivery.models import Activity
    from assist.engagements.policy import can_view

    # Everything the engagement page shows, loaded up front: a fixed number of queries.
    engagement = db.session.get(
        Engagement,
        engagement_id,
        options=[
            sa.orm.selectinload(Engagement.activities).selectinload(Activity.attachments),
            sa.orm.selectinload(Engagement.feedback),
            sa.orm.selectinload(Engagement.decision),
        ],
    )
    if engagement is None or not can_view(user, engagement):
        raise NotFound()
    return engagement


def request_engagements(request_id: int) -> list[Engagement]:
    stmt = (
        sa.select(Engagement)
        .where(Engagement.request_id == request_id)
        .options(
            sa.orm.joinedload(Engagement.organisation), sa.orm.selectinload(Engagement.decision)
        )
        .order_by(Engagement.id)
    )
    return list(db.session.scalars(stmt))


def open_engagement(request_id: int, organisation_id: int) -> Engagement | None:
    stmt = sa.select(Engagement).where(
        Engagement.request_id == request_id,
        Engagement.organisation_id == organisation_id,
        Engagement.status.in_(OPEN_ENGAGEMENT_STATES),
    )
    return db.session.scalars(stmt.limit(1)).first()


def active_engagement_counts() -> dict[int, int]:
    """Engagements holding a capacity slot, per organisation (one query for the directory)."""
    stmt = (
        sa.select(Engagement.organisation_id, sa.func.count(Engagement.id))
        .where(Engagement.status.in_(CAPACITY_STATES))
        .group_by(Engagement.organisation_id)
    )
    return {org_id: n for org_id, n in db.session.execute(stmt)}


def conflicts_for_authority(authority_id: int) -> dict[int, str]:
    stmt = sa.select(ConflictOfInterest.organisation_id, ConflictOfInterest.reason).where(
        ConflictOfInterest.authority_id == authority_id
    )
    return {org_id: reason for org_id, reason in db.session.execute(stmt)}


def all_conflicts() -> list[ConflictOfInterest]:
    stmt = (
        sa.select(ConflictOfInterest)
        .options(
            sa.orm.joinedload(ConflictOfInterest.organisation),
            sa.orm.joinedload(ConflictOfInterest.authority),
        )
        .order_by(ConflictOfInterest.id.desc())
    )
    return list(db.session.scalars(stmt))
