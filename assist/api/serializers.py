"""Objects as the API's JSON: each with its version and the actions the caller may take now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from assist.api.policy import DirectoryView
from assist.audit import AuditEntry
from assist.auth.models import User
from assist.delivery import policy as delivery_policy
from assist.delivery.models import Activity, Attachment
from assist.directory.models import ExpertOrganisation, TermKind
from assist.directory.services import PROFILE_TERM_FIELDS
from assist.engagements import policy as engagement_policy
from assist.engagements.models import Engagement
from assist.engagements.ranking import RankedExpert
from assist.requests import policy as request_policy
from assist.requests.models import AssistanceRequest
from assist.requests.services import REQUEST_TERM_FIELDS
from assist.workflow import Transition

#: The vocabularies of an organisation's public profile.
PUBLIC_PROFILE_KINDS = {
    "themes": TermKind.THEME,
    "formats": TermKind.FORMAT,
    "languages": TermKind.LANGUAGE,
}


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def _actions(transitions: list[Transition]) -> list[dict[str, Any]]:
    return [
        {"action": t.action, "label": t.label, "needs_comment": t.needs_comment}
        for t in transitions
    ]


def request_json(req: AssistanceRequest, user: User) -> dict[str, Any]:
    return {
        "id": req.id,
        "title": req.title,
        "context": req.context,
        "needs": req.needs,
        "existing_activities": req.existing_activities,
        "period_start": _when(req.period_start),
        "period_end": _when(req.period_end),
        "expected_participants": req.expected_participants,
        **{name: req.codes(kind) for name, kind in REQUEST_TERM_FIELDS.items()},
        "language": req.language,
        "detected_language": req.detected_language,
        "status": req.status.value,
        "status_label": req.status.label,
        "authority": {"id": req.authority.id, "name": req.authority.name},
        "created_by": {"name": req.created_by.name},
        "created_at": _when(req.created_at),
        "updated_at": _when(req.updated_at),
        "submitted_at": _when(req.submitted_at),
        "version": req.version,
        "can_edit": request_policy.can_edit(user, req),
        "allowed_actions": _actions(request_policy.allowed_transitions(user, req)),
    }


def engagement_json(engagement: Engagement, user: User) -> dict[str, Any]:
    req = engagement.request
    return {
        "id": engagement.id,
        "request": {
            "id": req.id,
            "title": req.title,
            "status": req.status.value,
            "authority": {"id": req.authority.id, "name": req.authority.name},
        },
        "organisation": {"id": engagement.organisation.id, "name": engagement.organisation.name},
        "status": engagement.status.value,
        "status_label": engagement.status.label,
        "comment": engagement.comment,
        "created_at": _when(engagement.created_at),
        "updated_at": _when(engagement.updated_at),
        "version": engagement.version,
        "allowed_actions": _actions(engagement_policy.allowed_transitions(user, engagement)),
        "activities_count": len(engagement.activities),
        "feedback": (
            {
                "rating": engagement.feedback.rating,
                "comment": engagement.feedback.comment,
                "created_at": _when(engagement.feedback.created_at),
            }
            if engagement.feedback
            else None
        ),
    }


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": _when(attachment.created_at),
    }


def activity_json(activity: Activity, user: User) -> dict[str, Any]:
    return {
        "id": activity.id,
        "engagement_id": activity.engagement_id,
        "status": activity.status.value,
        "status_label": activity.status.label,
        "format": activity.format,
        "topic": activity.topic,
        "planned_start": _when(activity.planned_start),
        "planned_end": _when(activity.planned_end),
        "place": activity.place,
        "is_remote": activity.is_remote,
        "intended_audience": activity.intended_audience,
        "delivered_on": _when(activity.delivered_on),
        "duration_hours": activity.duration_hours,
        "participants": dict(activity.participants or {}),
        "participants_total": activity.participants_total,
        "summary": activity.summary,
        "outcomes": activity.outcomes,
        "follow_up": activity.follow_up,
        "created_by": {"name": activity.created_by.name},
        "recorded_by": {"name": activity.recorded_by.name} if activity.recorded_by else None,
        "created_at": _when(activity.created_at),
        "updated_at": _when(activity.updated_at),
        "recorded_at": _when(activity.recorded_at),
        "confirmed_at": _when(activity.confirmed_at),
        "attachments": [attachment_json(a) for a in activity.attachments],
        "version": activity.version,
        "allowed_actions": _actions(delivery_policy.allowed_transitions(user, activity)),
    }


def match_json(ranked: RankedExpert) -> dict[str, Any]:
    m = ranked.match
    return {
        "expert_organisation_id": ranked.organisation_id,
        "name": ranked.name,
        "score": float(m.score),
        "reasons": list(m.reasons),
        "contributions": {k: float(v) for k, v in m.contributions.items()},
        "excluded_reason": m.excluded_reason,
        "has_common_language": m.has_common_language,
        "at_capacity": bool(m.at_capacity),
    }


def history_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": _when(entry.created_at),
        "who": {
            "name": entry.actor.name if entry.actor else "system",
            "role": entry.actor_role,
        },
        "action": entry.action,
        "from": entry.from_state,
        "to": entry.to_state,
        "comment": entry.comment,
        "changed_fields": list(entry.changes or []),
    }


def organisation_json(
    org: ExpertOrganisation, view: DirectoryView, active: dict[int, int]
) -> dict[str, Any]:
    kinds = PUBLIC_PROFILE_KINDS if view == DirectoryView.PUBLIC else PROFILE_TERM_FIELDS
    data: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "country": org.country,
        "description": org.description,
        **{name: org.codes(kind) for name, kind in kinds.items()},
    }
    if view != DirectoryView.PUBLIC:
        data |= {
            "is_active": org.is_active,
            "capacity": org.capacity,
            "active_engagements": active.get(org.id, 0),
            "updated_at": _when(org.updated_at),
        }
    return data
