"""The append-only audit trail: who did what to which object, in the caller's transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from assist.auth.models import User
from assist.db import utcnow
from assist.extensions import db

log = logging.getLogger("assist.audit")


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The role at the time of the action (roles can change later).
    actor_role: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[int]
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    #: Names of the fields changed (never their values: free text stays out of the trail).
    changes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_audit_entries_object", "object_type", "object_id", "id"),)


@event.listens_for(Session, "before_flush")
def _refuse_audit_edits(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry):
            raise RuntimeError("audit entries are append-only")


def record(
    actor: User | None,
    action: str,
    obj: Any,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str = "",
    changes: list[str] | None = None,
) -> AuditEntry:
    """Add an audit entry for ``obj`` to the current transaction (the caller commits)."""
    if obj.id is None:
        db.session.flush()
    entry = AuditEntry(
        actor=actor,
        actor_role=str(actor.role) if actor else "system",
        action=action,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        changes=sorted(changes or []),
    )
    db.session.add(entry)
    log.info(
        "audit action=%s object=%s:%s actor=%s",
        action,
        entry.object_type,
        obj.id,
        actor.id if actor else "system",
    )
    return entry


def history(obj: Any) -> list[AuditEntry]:
    """The object's trail, oldest first."""
    stmt = (
        sa.select(AuditEntry)
        .where(AuditEntry.object_type == type(obj).__tablename__, AuditEntry.object_id == obj.id)
        .options(sa.orm.joinedload(AuditEntry.actor))
        .order_by(AuditEntry.id)
    )
    return list(db.session.scalars(stmt))


#: Efus's internal steps: who was proposed before approval, and why staff chose them.
INTERNAL_ACTIONS = frozenset({"propose", "propose_match"})


def history_for(user: User, obj: Any) -> list[AuditEntry]:
    """The trail as this user may see it: Efus's internal steps only for Efus."""
    from assist.roles import PROGRAMME_ROLES

    entries = history(obj)
    if user.role in PROGRAMME_ROLES:
        return entries
    return [e for e in entries if e.action not in INTERNAL_ACTIONS]
