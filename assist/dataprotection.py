"""Data protection: retention (closed requests anonymised after a period, statistics kept) and
a per-request export of everything stored about it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from assist import audit
from assist.audit import AuditEntry
from assist.auth.models import User
from assist.db import utcnow
from assist.delivery.models import Activity, Attachment, EngagementFeedback, FollowUp
from assist.engagements.models import Engagement, MatchDecision
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import PROGRAMME_ROLES
from assist.workflow import RequestStatus

log = logging.getLogger("assist.dataprotection")

#: Requests whose life is over; only these are ever anonymised.
CLOSED_REQUEST_STATES = (RequestStatus.COMPLETED, RequestStatus.DECLINED, RequestStatus.WITHDRAWN)
REDACTED = "[removed under the retention policy]"


def retention_candidates(now: datetime, days: int) -> list[AssistanceRequest]:
    anonymised = sa.select(AuditEntry.object_id).where(
        AuditEntry.object_type == AssistanceRequest.__tablename__,
        AuditEntry.action == "anonymise",
    )
    stmt = sa.select(AssistanceRequest).where(
        AssistanceRequest.status.in_(CLOSED_REQUEST_STATES),
        AssistanceRequest.updated_at < now - timedelta(days=days),
        AssistanceRequest.id.not_in(anonymised),
    )
    return list(db.session.scalars(stmt))


def anonymise_request(req: AssistanceRequest) -> None:
    """Remove every free text about the request and its engagements; keep what statistics need
    (authority, dates, statuses, tags, formats, participant counts, ratings)."""
    engagement_ids = list(
        db.session.scalars(sa.select(Engagement.id).where(Engagement.request_id == req.id))
    )
    activity_ids = list(
        db.session.scalars(sa.select(Activity.id).where(Activity.engagement_id.in_(engagement_ids)))
    )
    req.title = f"Request #{req.id} (anonymised)"
    req.context = req.needs = req.existing_activities = ""
    db.session.execute(
        sa.update(Engagement).where(Engagement.id.in_(engagement_ids)).values(comment="")
    )
    db.session.execute(
        sa.update(MatchDecision)
        .where(MatchDecision.request_id == req.id)
        .values(reason="", chosen_reasons=[])
    )
    db.session.execute(
        sa.update(Activity)
        .where(Activity.id.in_(activity_ids))
        .values(
            topic="(anonymised)",
            summary="",
            outcomes="",
            follow_up="",
            place="",
            intended_audience="",
        )
    )
    db.session.execute(
        sa.update(EngagementFeedback)
        .where(EngagementFeedback.engagement_id.in_(engagement_ids))
        .values(comment="")
    )
    db.session.execute(
        sa.update(FollowUp).where(FollowUp.engagement_id.in_(engagement_ids)).values(comment="")
    )
    _delete_attachments(activity_ids)
    # The one sanctioned edit of the audit trail: comments are free text; who did what stays.
    for object_type, ids in (
        (AssistanceRequest.__tablename__, [req.id]),
        (Engagement.__tablename__, engagement_ids),
        (Activity.__tablename__, activity_ids),
    ):
        db.session.execute(
            sa.update(AuditEntry)
            .where(
                AuditEntry.object_type == object_type,
                AuditEntry.object_id.in_(ids),
                AuditEntry.comment != "",
            )
            .values(comment=REDACTED)
        )
    db.session.flush()
    audit.record(None, "anonymise", req, comment="retention period reached")


def _delete_attachments(activity_ids: list[int]) -> None:
    rows = list(
        db.session.scalars(sa.select(Attachment).where(Attachment.activity_id.in_(activity_ids)))
    )
    folder = Path(
        current_app.config.get("ATTACHMENT_DIR") or Path(current_app.instance_path) / "attachments"
    )
    for row in rows:
        (folder / row.storage_key).unlink(missing_ok=True)
        db.session.delete(row)


def apply_retention(days: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    candidates = retention_candidates(now, days)
    for req in candidates:
        anonymise_request(req)
    log.info("retention: %d request(s) anonymised (older than %d days)", len(candidates), days)
    return len(candidates)


def export_request(req: AssistanceRequest, viewer: User) -> dict[str, Any]:
    """Everything stored about one request, as the viewer may see it (callers check access)."""
    internal = viewer.role in PROGRAMME_ROLES
    engagements = list(
        db.session.scalars(sa.select(Engagement).where(Engagement.request_id == req.id))
    )
    return {
        "request": {
            "id": req.id,
            "authority": req.authority.name,
            "status": req.status.value,
            "title": req.title,
            "context": req.context,
            "needs": req.needs,
            "existing_activities": req.existing_activities,
            "period_start": req.period_start.isoformat() if req.period_start else None,
            "period_end": req.period_end.isoformat() if req.period_end else None,
            "expected_participants": req.expected_participants,
            "tags": {t.kind.value: [x.code for x in req.terms_of(t.kind)] for t in req.terms},
            "created_by": req.created_by.name,
            "created_at": req.created_at.isoformat(),
            "submitted_at": req.submitted_at.isoformat() if req.submitted_at else None,
        },
        "history": [_entry(e) for e in audit.history_for(viewer, req)],
        "engagements": [
            {
                "id": e.id,
                "organisation": e.organisation.name,
                "status": e.status.value,
                "comment": e.comment,
                "created_at": e.created_at.isoformat(),
                "closed_at": e.closed_at.isoformat() if e.closed_at else None,
                "decision": (
                    {
                        "rank": e.decision.chosen_rank,
                        "reasons": e.decision.chosen_reasons,
                        "reason": e.decision.reason,
                        "passed_over": e.decision.passed_over,
                    }
                    if internal and e.decision
                    else None
                ),
                "feedback": (
                    {"rating": e.feedback.rating, "comment": e.feedback.comment}
                    if e.feedback
                    else None
                ),
                "history": [_entry(x) for x in audit.history_for(viewer, e)],
                "activities": [
                    {
                        "id": a.id,
                        "status": a.status.value,
                        "format": a.format,
                        "topic": a.topic,
                        "delivered_on": a.delivered_on.isoformat() if a.delivered_on else None,
                        "duration_hours": a.duration_hours,
                        "participants": a.participants,
                        "summary": a.summary,
                        "outcomes": a.outcomes,
                        "follow_up": a.follow_up,
                        "attachments": [
                            {"filename": f.filename, "size": f.size, "sha256": f.sha256}
                            for f in a.attachments
                        ],
                    }
                    for a in e.activities
                ],
            }
            for e in engagements
            if internal or e.status.value != "proposed"
        ],
        "exported_at": utcnow().isoformat(),
        "exported_by": viewer.name,
    }


def _entry(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": e.created_at.isoformat(),
        "who": e.actor.name if e.actor else "system",
        "role": e.actor_role,
        "action": e.action,
        "from": e.from_state,
        "to": e.to_state,
        "comment": e.comment,
        "changed": e.changes,
    }
