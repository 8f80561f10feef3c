"""Activities of an engagement, their attachments, the city's rating and the six-month follow-up."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.db import utcnow
from assist.extensions import db
from assist.workflow import ActivityStatus

if TYPE_CHECKING:
    from assist.auth.models import User
    from assist.engagements.models import Engagement


class Activity(db.Model):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(sa.ForeignKey("engagements.id"), index=True)
    status: Mapped[ActivityStatus] = mapped_column(default=ActivityStatus.PLANNED, index=True)
    version: Mapped[int] = mapped_column(default=1)
    # The plan
    format: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str] = mapped_column(sa.String(200))
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    is_remote: Mapped[bool] = mapped_column(default=False)
    intended_audience: Mapped[str] = mapped_column(sa.String(300), default="")
    # What was delivered
    delivered_on: Mapped[date | None]
    duration_hours: Mapped[float | None]
    #: participant group code -> count; counts only, never names.
    participants: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    participants_total: Mapped[int | None]
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    outcomes: Mapped[str] = mapped_column(sa.Text, default="")
    follow_up: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="activities")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="activity", order_by="Attachment.id"
    )

    __mapper_args__: dict[str, Any] = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "participants_total IS NULL OR participants_total >= 0", name="participants_positive"
        ),
        sa.CheckConstraint(
            "duration_hours IS NULL OR duration_hours > 0", name="duration_positive"
        ),
    )

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.status}>"


class Attachment(db.Model):
    """A file (agenda, materials) stored outside static/, served only after a permission check."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id"), index=True)
    #: The uploader's file name, cleaned; shown, never used as a path.
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: Random name of the stored file under the attachments folder.
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="attachments")


class EngagementFeedback(db.Model):
    """The city's rating of an engagement once its activities are done (one per engagement)."""

    __tablename__ = "engagement_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(sa.ForeignKey("engagements.id"), unique=True)
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="feedback")

    __table_args__ = (sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)


class FollowUp(db.Model):
    """Six months after closing: are the results in use? Asked once, answered by the city."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(sa.ForeignKey("engagements.id"), unique=True)
    due_at: Mapped[datetime]
    asked_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    #: codes from FOLLOW_UP_USES
    uses: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    engagement: Mapped[Engagement] = relationship()


#: What "the results are in use" can mean; asked at the six-month follow-up.
FOLLOW_UP_USES = {
    "protocol_applied": _l("The protocol or plan is applied"),
    "case_conference_meets": _l("The case conference or roundtable meets"),
    "training_repeated": _l("The training was repeated or passed on"),
    "partnership_continues": _l("The local partnership continues"),
    "not_in_use": _l("The results are not in use (yet)"),
}
