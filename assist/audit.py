"""The append-only audit trail: who did what to which object, in the caller's transaction."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext, lazy_pgettext
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

    @property
    def action_label(self) -> str:
        """The action as a history shows it, in the reader's language (the code stays stored)."""
        label = ACTION_LABELS.get(self.action)
        return str(label) if label is not None else self.action.replace("_", " ").capitalize()

    @property
    def actor_role_label(self) -> str:
        """The actor's role at the time, in the reader's language; "" for the system."""
        from assist.roles import Role

        try:
            return Role(self.actor_role).label
        except ValueError:
            return ""

    @property
    def comment_text(self) -> str:
        """The comment as a history shows it, in the reader's language where the service wrote
        it from codes and numbers; what a person typed is shown as they typed it."""
        comment = self.comment or ""
        if self.action == "follow_up":  # the codes of the answers ticked
            from assist.delivery.models import FOLLOW_UP_USES

            codes = [c.strip() for c in comment.split(",") if c.strip()]
            return "; ".join(str(FOLLOW_UP_USES.get(c, c)) for c in codes)
        if self.action == "propose_match" and (ranked := _RANKED.fullmatch(comment)):
            # NOTE: a request's history: the organisation proposed, its rank ("Fryshuset (rank 2)").
            return gettext(
                "%(organisation)s (rank %(rank)s)",
                organisation=ranked["organisation"],
                rank=ranked["rank"],
            )
        if comment in SERVICE_COMMENTS:
            return str(SERVICE_COMMENTS[comment])
        return comment

    @property
    def change_labels(self) -> list[str]:
        """The names of the fields changed, as a history shows them."""
        out = []
        for name in self.changes or []:
            label = CHANGE_LABELS.get(name)
            out.append(str(label) if label is not None else name.replace("_", " "))
        return out


# The histories of requests and engagements (templates/engagements/_timeline.html) name each
# recorded action; the context tells translators these are history headings (the action taken).
ACTION_LABELS = {
    "create": lazy_pgettext("history", "Create"),
    "update": lazy_pgettext("history", "Update"),
    "submit": lazy_pgettext("history", "Submit"),
    "start_review": lazy_pgettext("history", "Start review"),
    "ask_info": lazy_pgettext("history", "Ask info"),
    "resubmit": lazy_pgettext("history", "Resubmit"),
    "decline": lazy_pgettext("history", "Decline"),
    "start_matching": lazy_pgettext("history", "Start matching"),
    "engage": lazy_pgettext("history", "Engage"),
    "complete": lazy_pgettext("history", "Complete"),
    "rematch": lazy_pgettext("history", "Rematch"),
    "withdraw": lazy_pgettext("history", "Withdraw"),
    "anonymise": lazy_pgettext("history", "Anonymise"),
    "propose_match": lazy_pgettext("history", "Propose match"),
    "propose": lazy_pgettext("history", "Propose"),
    "approve": lazy_pgettext("history", "Approve"),
    "accept": lazy_pgettext("history", "Accept"),
    "confirm_plan": lazy_pgettext("history", "Confirm plan"),
    "start_delivery": lazy_pgettext("history", "Start delivery"),
    "finish_delivery": lazy_pgettext("history", "Finish delivery"),
    "close": lazy_pgettext("history", "Close"),
    "cancel": lazy_pgettext("history", "Cancel"),
    "withdrawn": lazy_pgettext("history", "Withdrawn"),
    "rate": lazy_pgettext("history", "Rate"),
    "follow_up": lazy_pgettext("history", "Follow up"),
    "delete": lazy_pgettext("history", "Delete"),
}
#: How assist.engagements.services.propose_match writes its comment.
_RANKED = re.compile(r"(?P<organisation>.+) \(rank (?P<rank>\d+)\)")
#: Comments the service itself writes, as a history shows them.
SERVICE_COMMENTS = {
    # NOTE: why a request was anonymised, in its history.
    "retention period reached": lazy_gettext("retention period reached"),
}
# A request's fields as "Changed: …" lists them in its history.
CHANGE_LABELS = {
    "all fields": lazy_pgettext("changed field", "all fields"),
    "title": lazy_pgettext("changed field", "title"),
    "context": lazy_pgettext("changed field", "context"),
    "needs": lazy_pgettext("changed field", "needs"),
    "existing_activities": lazy_pgettext("changed field", "existing activities"),
    "period_start": lazy_pgettext("changed field", "period start"),
    "period_end": lazy_pgettext("changed field", "period end"),
    "expected_participants": lazy_pgettext("changed field", "expected participants"),
    "language": lazy_pgettext("changed field", "language"),
    "tags": lazy_pgettext("changed field", "tags"),
}


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
