"""Every write on activities, ratings and follow-ups. Callers commit; services flush."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from assist import audit
from assist.auth.models import User
from assist.db import utcnow
from assist.delivery import policy
from assist.delivery.models import FOLLOW_UP_USES, Activity, EngagementFeedback, FollowUp
from assist.directory.models import TermKind
from assist.directory.queries import resolve_terms
from assist.engagements.models import Engagement
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.notifications.services import authority_officials, notify, organisation_experts
from assist.requests import privacy
from assist.workflow import ACTIVITIES, ENGAGEMENTS, EngagementStatus, RequestStatus

log = logging.getLogger("assist.delivery")

#: The city is asked whether the results are in use this long after closing.
FOLLOW_UP_AFTER = timedelta(days=182)
TEXT_LIMITS = {"topic": 200, "place": 200, "intended_audience": 300}
LONG_TEXT_LIMIT = 5000


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(
            _(
                "This activity changed since you opened it (someone else acted on it). "
                "Reload to see it now."
            )
        ) from exc


def _screen(errors: dict[str, list[str]], name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors.setdefault(name, []).append(
            _("Too long: at most %(limit)d characters.", limit=limit)
        )
    for finding in privacy.screen(value):
        errors.setdefault(name, []).append(finding.message())


def _link(engagement: Engagement) -> str:
    return f"/engagements/{engagement.id}"


@dataclass
class PlanData:
    format: str
    topic: str
    planned_start: date | None = None
    planned_end: date | None = None
    place: str = ""
    is_remote: bool = False
    intended_audience: str = ""


def _validate_plan(data: PlanData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.topic.strip():
        errors["topic"] = [_("Give the activity a topic.")]
    for name, limit in TEXT_LIMITS.items():
        _screen(errors, name, getattr(data, name), limit)
    if data.planned_start and data.planned_end and data.planned_start > data.planned_end:
        errors.setdefault("planned_end", []).append(_("The end is before the start."))
    if not data.is_remote and not data.place.strip():
        errors.setdefault("place", []).append(_("Say where it takes place, or tick “remote”."))
    try:
        resolve_terms(TermKind.FORMAT, [data.format], "format")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)


def plan_activity(engagement: Engagement, actor: User, data: PlanData) -> Activity:
    if not policy.can_plan(actor, engagement):
        raise NotAllowed(
            _(
                "Activities are planned by the expert organisation and the city of an accepted "
                "engagement (this one is '%(status)s').",
                status=engagement.status.label,
            )
        )
    _validate_plan(data)
    activity = Activity(engagement=engagement, created_by=actor, **vars(data))
    db.session.add(activity)
    _flush()
    audit.record(actor, "plan", activity, to_state=activity.status, comment=data.topic)
    other = (
        authority_officials(engagement.request.authority_id)
        if actor.role.value == "expert"
        else organisation_experts(engagement.organisation_id)
    )
    notify(
        other, _l("Activity planned on engagement #%(id)s.", id=engagement.id), _link(engagement)
    )
    return activity


@dataclass
class RecordData:
    delivered_on: date
    duration_hours: float
    participants: dict[str, int] = field(default_factory=dict)
    summary: str = ""
    outcomes: str = ""
    follow_up: str = ""
    format: str | None = None
    place: str | None = None
    is_remote: bool | None = None


def _validate_record(data: RecordData) -> dict[str, int]:
    errors: dict[str, list[str]] = {}
    if data.delivered_on > date.today():
        errors["delivered_on"] = [
            _("That date is in the future; record an activity once it took place.")
        ]
    if not 0 < data.duration_hours <= 200:
        errors["duration_hours"] = [_("Give the duration in hours, more than 0 and at most 200.")]
    try:
        groups = {
            t.code
            for t in resolve_terms(
                TermKind.PARTICIPANT_GROUP, list(data.participants), "participants"
            )
        }
    except ValidationFailed as exc:
        errors.update(exc.errors)
        groups = set()
    counts = {}
    for code, n in data.participants.items():
        if code in groups and n:
            if not isinstance(n, int) or not 0 <= n <= 100000:
                errors.setdefault("participants", []).append(
                    _("%(group)s: give a whole number.", group=code)
                )
            else:
                counts[code] = n
    if not counts:
        errors.setdefault("participants", []).append(
            _("Give the number of participants in at least one professional group.")
        )
    if not data.summary.strip():
        errors["summary"] = [_("Summarise what was done (no names of participants).")]
    for name in ("summary", "outcomes", "follow_up"):
        _screen(errors, name, getattr(data, name), LONG_TEXT_LIMIT)
    if data.format:
        try:
            resolve_terms(TermKind.FORMAT, [data.format], "format")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if data.place:
        _screen(errors, "place", data.place, TEXT_LIMITS["place"])
    if errors:
        raise ValidationFailed(errors)
    return counts


def record_activity(
    activity: Activity, actor: User, data: RecordData, *, expected_version: int | None = None
) -> Activity:
    """The expert records (or corrects, after a dispute) what was delivered."""
    engagement = activity.engagement
    if not policy.can_view(actor, activity):
        raise NotAllowed(_("You cannot act on this activity."))
    transition = ACTIVITIES.find(activity.status, "record", actor.role)
    if not policy.can_record(actor, engagement):
        raise NotAllowed(
            _(
                "Only the engaged expert organisation records delivered activities, once the "
                "plan is confirmed (the engagement is '%(status)s').",
                status=engagement.status.label,
            )
        )
    if expected_version is not None and expected_version != activity.version:
        raise Conflict(_("This activity changed since you opened it. Reload to see it now."))
    counts = _validate_record(data)
    source = activity.status
    activity.status = transition.target  # type: ignore[assignment]
    activity.delivered_on = data.delivered_on
    activity.duration_hours = data.duration_hours
    activity.participants = counts
    activity.participants_total = sum(counts.values())
    activity.summary, activity.outcomes, activity.follow_up = (
        data.summary.strip(),
        data.outcomes.strip(),
        data.follow_up.strip(),
    )
    for name in ("format", "place", "is_remote"):
        if getattr(data, name) is not None:
            setattr(activity, name, getattr(data, name))
    activity.recorded_by = actor
    activity.recorded_at = utcnow()
    _flush()
    audit.record(actor, "record", activity, from_state=source, to_state=activity.status)
    if engagement.status == EngagementStatus.PLANNED:
        step = ENGAGEMENTS.find(engagement.status, "start_delivery", None)
        engagement.status = step.target  # type: ignore[assignment]
        audit.record(
            actor, "start_delivery", engagement, from_state="planned", to_state=engagement.status
        )
    notify(
        authority_officials(engagement.request.authority_id),
        _l("An activity of engagement #%(id)s was recorded: please confirm it.", id=engagement.id),
        _link(engagement),
    )
    return activity


def transition_activity(
    activity: Activity,
    actor: User,
    action: str,
    comment: str = "",
    *,
    expected_version: int | None = None,
) -> Activity:
    """Confirm, dispute or cancel (recording has its own service, with the data)."""
    if not policy.can_view(actor, activity):
        raise NotAllowed(_("You cannot act on this activity."))
    if action == "record":
        raise ValidationFailed({"action": [_("Recording needs the delivery details.")]})
    transition = ACTIVITIES.find(activity.status, action, actor.role)
    if transition not in policy.allowed_transitions(actor, activity):
        raise NotAllowed(_("This activity belongs to another engagement party."))
    if expected_version is not None and expected_version != activity.version:
        raise Conflict(_("This activity changed since you opened it. Reload to see it now."))
    comment = (comment or "").strip()
    errors: dict[str, list[str]] = {}
    if transition.needs_comment and not comment:
        errors["comment"] = [_("Give a short reason; it goes back to the other side.")]
    _screen(errors, "comment", comment, 2000)
    if errors:
        raise ValidationFailed(errors)
    source = activity.status
    activity.status = transition.target  # type: ignore[assignment]
    if action == "confirm":
        activity.confirmed_at = utcnow()
    _flush()
    audit.record(
        actor, action, activity, from_state=source, to_state=activity.status, comment=comment
    )
    engagement = activity.engagement
    if action == "dispute":
        notify(
            organisation_experts(engagement.organisation_id),
            _l(
                "The city disputed an activity record of engagement #%(id)s; "
                "see its comment and correct the record.",
                id=engagement.id,
            ),
            _link(engagement),
        )
    return activity


def activity_counts(engagement: Engagement) -> dict[str, int]:
    return dict(Counter(a.status.value for a in engagement.activities))


def rate_engagement(
    engagement: Engagement, actor: User, rating: int, comment: str
) -> EngagementFeedback:
    if not policy.is_city_of(actor, engagement):
        raise NotAllowed(_("Only the city of the engagement rates it."))
    if engagement.feedback is not None:
        raise Conflict(_("This engagement was already rated."))
    if engagement.status != EngagementStatus.DELIVERED:
        raise Conflict(
            _(
                "You can rate the engagement once the expert has marked every activity as "
                "delivered (it is '%(status)s').",
                status=engagement.status.label,
            )
        )
    counts = activity_counts(engagement)
    if counts.get("delivered") or counts.get("disputed"):
        raise Conflict(_("Confirm (or dispute) every delivered activity before rating."))
    errors: dict[str, list[str]] = {}
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = [_("Give a rating from 1 (poor) to 5 (excellent).")]
    _screen(errors, "comment", comment or "", LONG_TEXT_LIMIT)
    if errors:
        raise ValidationFailed(errors)
    feedback = EngagementFeedback(
        engagement_id=engagement.id,
        rating=rating,
        comment=(comment or "").strip(),
        created_by_id=actor.id,
    )
    db.session.add(feedback)
    engagement.feedback = feedback
    db.session.flush()
    audit.record(actor, "rate", engagement, comment=f"{rating}/5")
    from assist.notifications.services import staff_users

    notify(
        staff_users(),
        _l("The city rated engagement #%(id)s: it can be closed.", id=engagement.id),
        _link(engagement),
    )
    return feedback


def after_close(engagement: Engagement, actor: User) -> None:
    """Closing starts the six-month follow-up and may complete the request."""
    engagement.closed_at = utcnow()
    db.session.add(
        FollowUp(engagement_id=engagement.id, due_at=engagement.closed_at + FOLLOW_UP_AFTER)
    )
    req = engagement.request
    siblings = db.session.scalars(
        sa.select(Engagement.status).where(
            Engagement.request_id == req.id, Engagement.id != engagement.id
        )
    ).all()
    still_running = [
        s
        for s in siblings
        if s not in (EngagementStatus.CLOSED, EngagementStatus.CANCELLED, EngagementStatus.DECLINED)
    ]
    if not still_running and req.status == RequestStatus.ENGAGED:
        from assist.workflow import REQUESTS

        step = REQUESTS.find(req.status, "complete", None)
        source = req.status
        req.status = step.target  # type: ignore[assignment]
        audit.record(actor, "complete", req, from_state=source, to_state=req.status)


def due_follow_ups(now: datetime | None = None) -> list[FollowUp]:
    now = now or utcnow()
    stmt = sa.select(FollowUp).where(FollowUp.asked_at.is_(None), FollowUp.due_at <= now)
    return list(db.session.scalars(stmt))


def ask_follow_ups(now: datetime | None = None) -> int:
    """Ask each city whose engagement closed six months ago whether the results are in use."""
    now = now or utcnow()
    asked = 0
    for follow_up in due_follow_ups(now):
        engagement = follow_up.engagement
        notify(
            authority_officials(engagement.request.authority_id),
            _l(
                "Six months ago engagement #%(id)s closed: are its results in use? "
                "Please answer two questions.",
                id=engagement.id,
            ),
            f"/engagements/{engagement.id}/follow-up",
        )
        follow_up.asked_at = now
        asked += 1
    db.session.flush()
    return asked


def answer_follow_up(follow_up: FollowUp, actor: User, uses: list[str], comment: str) -> FollowUp:
    if not policy.is_city_of(actor, follow_up.engagement):
        raise NotAllowed(_("Only the city of the engagement answers its follow-up."))
    if follow_up.answered_at is not None:
        raise Conflict(_("This follow-up was already answered."))
    errors: dict[str, list[str]] = {}
    unknown = [u for u in uses if u not in FOLLOW_UP_USES]
    if unknown or not uses:
        errors["uses"] = [_("Tick at least one of the answers offered.")]
    _screen(errors, "comment", comment or "", 2000)
    if errors:
        raise ValidationFailed(errors)
    follow_up.uses = list(dict.fromkeys(uses))
    follow_up.comment = (comment or "").strip()
    follow_up.answered_at = utcnow()
    follow_up.answered_by_id = actor.id
    db.session.flush()
    audit.record(actor, "follow_up", follow_up.engagement, comment=", ".join(follow_up.uses))
    return follow_up
