"""An assistance request: a local authority's context and needs, never a case."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.db import utcnow
from assist.directory.models import TaxonomyTerm, TermKind
from assist.extensions import db
from assist.workflow import RequestStatus

if TYPE_CHECKING:
    from assist.auth.models import User
    from assist.directory.models import LocalAuthority


request_terms = sa.Table(
    "request_terms",
    db.metadata,
    sa.Column(
        "request_id", sa.ForeignKey("assistance_requests.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("term_id", sa.ForeignKey("taxonomy_terms.id"), primary_key=True),
)


class AssistanceRequest(db.Model):
    __tablename__ = "assistance_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(sa.ForeignKey("local_authorities.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    context: Mapped[str] = mapped_column(sa.Text, default="")
    needs: Mapped[str] = mapped_column(sa.Text, default="")
    existing_activities: Mapped[str] = mapped_column(sa.Text, default="")
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    expected_participants: Mapped[int | None]
    #: The language the text is written in, as confirmed by its author (assist/i18n.py), and
    #: what detection said when it was saved: the ranking and Efus staff read it.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    detected_language: Mapped[str | None] = mapped_column(sa.String(8))
    status: Mapped[RequestStatus] = mapped_column(default=RequestStatus.DRAFT, index=True)
    #: Optimistic lock: every UPDATE says WHERE version = <the version read>.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]

    authority: Mapped[LocalAuthority] = relationship()
    created_by: Mapped[User] = relationship()
    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=request_terms, order_by=(TaxonomyTerm.kind, TaxonomyTerm.position)
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "expected_participants IS NULL OR expected_participants BETWEEN 1 AND 10000",
            name="participants_range",
        ),
        sa.CheckConstraint(
            "period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
            name="period_order",
        ),
    )

    def terms_of(self, kind: TermKind) -> list[TaxonomyTerm]:
        return [t for t in self.terms if t.kind == kind]

    def codes(self, kind: TermKind) -> list[str]:
        return [t.code for t in self.terms_of(kind)]

    def __repr__(self) -> str:
        return f"<AssistanceRequest {self.id} {self.status}>"
