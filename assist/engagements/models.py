"""The matching index's version stamp: one row every worker reads to know its cache is current."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from assist.db import utcnow
from assist.extensions import db


class MatchingIndexState(db.Model):
    __tablename__ = "matching_index_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Bumped in the same transaction as any change to what the index is built from.
    version: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
