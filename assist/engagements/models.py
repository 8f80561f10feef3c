"""Engagements (a request matched to one expert organisation), staff's match decisions,
conflicts of interest, and the matching index's version stamp."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.db import utcnow
from assist.extensions import db
from assist.workflow import EngagementStatus

if TYPE_CHECKING:
    from assist.auth.models import User
    from assist.delivery.models import Activity, EngagementFeedback
    from assist.directory.models import ExpertOrganisation, LocalAuthority
    from assist.requests.models import AssistanceRequest


class MatchingIndexState(db.Model):
    __tablename__ = "matching_index_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Bumped in the same transaction as any change to what the index is built from.
    version: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Engagement(db.Model):
    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("assistance_requests.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("expert_organisations.id"), index=True
    )
    status: Mapped[EngagementStatus] = mapped_column(default=EngagementStatus.PROPOSED, index=True)
    #: Optimistic lock: every UPDATE says WHERE version = <the version read>.
    version: Mapped[int] = mapped_column(default=1)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Staff's note to the expert when proposing (why this organisation, what is expected).
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]

    request: Mapped[AssistanceRequest] = relationship()
    organisation: Mapped[ExpertOrganisation] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    decision: Mapped[MatchDecision | None] = relationship(back_populates="engagement")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="engagement", order_by="Activity.id"
    )
    feedback: Mapped[EngagementFeedback | None] = relationship(back_populates="engagement")

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Engagement {self.id} {self.status}>"


class MatchDecision(db.Model):
    """What staff chose from a ranking and what they passed over: the input of Matcher.learn."""

    __tablename__ = "match_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("assistance_requests.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(sa.ForeignKey("engagements.id"))
    chosen_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("expert_organisations.id"))
    #: 1 = the top of the ranking shown.
    chosen_rank: Mapped[int]
    chosen_score: Mapped[float]
    #: [{"organisation_id": …, "rank": …, "score": …}, …]: the other candidates shown, best first.
    passed_over: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: The ranking's reasons for the chosen one, as staff saw them (shown to the city).
    chosen_reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Required when the chosen one was not the top candidate.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="decision")
    request: Mapped[AssistanceRequest] = relationship()


class ConflictOfInterest(db.Model):
    """Staff's veto: this organisation is never proposed to this authority."""

    __tablename__ = "conflicts_of_interest"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("expert_organisations.id"))
    authority_id: Mapped[int] = mapped_column(sa.ForeignKey("local_authorities.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[ExpertOrganisation] = relationship()
    authority: Mapped[LocalAuthority] = relationship()
    created_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "authority_id", name="uq_conflicts_pair"),
    )
