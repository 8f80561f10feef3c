"""Every write on engagements: propose, approve, accept, decline, cancel; conflicts of interest.

Callers commit; services flush. Each change writes its audit entries and notifications in the
same transaction, and guarded UPDATEs (version columns) make concurrent actions fail cleanly.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm.exc import StaleDataError

from assist import audit
from assist.auth.models import User
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.engagements import policy, queries
from assist.engagements.models import ConflictOfInterest, Engagement, MatchDecision
from assist.engagements.ranking import RankedExpert, rank_experts
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.notifications.services import (
    authority_officials,
    notify,
    organisation_experts,
    staff_users,
)
from assist.requests import privacy
from assist.requests.models import AssistanceRequest
from assist.workflow import (
    CAPACITY_STATES,
    ENGAGEMENTS,
    OPEN_ENGAGEMENT_STATES,
    REQUESTS,
    EngagementStatus,
    GuardContext,
    RequestStatus,
)

log = logging.getLogger("assist.engagements")

#: How many of the other candidates shown (best first) are kept as "passed over".
PASSED_OVER_KEPT = 10


def _flush(what: str) -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        if what == "request":
            message = _(
                "This request changed since you opened it (someone else acted on it). "
                "Reload to see where it stands now."
            )
        else:
            message = _(
                "This engagement changed since you opened it (someone else acted on it). "
                "Reload to see where it stands now."
            )
        raise Conflict(message) from exc


def _clean_comment(comment: str, *, required: bool, field: str = "comment") -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationFailed({field: [_("Give a short reason; it is kept in the history.")]})
    if len(comment) > 2000:
        raise ValidationFailed({field: [_("Keep it under 2000 characters.")]})
    if findings := privacy.screen(comment):
        raise ValidationFailed({field: [f.message() for f in findings]})
    return comment


def _link(engagement: Engagement) -> str:
    return f"/engagements/{engagement.id}"


def _move_request(req: AssistanceRequest, actor: User, action: str, comment: str) -> None:
    """An automatic request step that follows from an engagement step."""
    transition = REQUESTS.find(req.status, action, None)
    source = req.status
    req.status = transition.target  # type: ignore[assignment]
    audit.record(actor, action, req, from_state=source, to_state=req.status, comment=comment)


@dataclass(frozen=True)
class Proposal:
    organisation_id: int
    comment: str = ""
    #: Why a candidate below the top one was chosen.
    reason: str = ""
    expected_request_version: int | None = None


def propose_match(req: AssistanceRequest, actor: User, proposal: Proposal) -> Engagement:
    if actor.role not in ENGAGEMENTS.creators or not policy.can_see_ranking(actor, req):
        raise NotAllowed(_("Only Efus staff can propose a match."))
    if req.status != RequestStatus.MATCHING:
        raise Conflict(
            _(
                "The request is '%(status)s'; move it to matching before proposing experts.",
                status=req.status.label,
            )
        )
    if proposal.expected_request_version not in (None, req.version):
        raise Conflict(_("This request changed since you opened it. Reload the ranking."))
    org = db.session.get(ExpertOrganisation, proposal.organisation_id)
    if org is None or not org.is_active:
        raise ValidationFailed({"organisation_id": [_("Choose an active expert organisation.")]})
    ranked = rank_experts(req)
    chosen = next((r for r in ranked if r.organisation_id == org.id), None)
    if chosen is None:
        raise ValidationFailed(
            {
                "organisation_id": [
                    _(
                        "%(organisation)s cannot be proposed for this request: not in the ranking.",
                        organisation=org.name,
                    )
                ]
            }
        )
    if chosen.match.excluded_reason:
        raise ValidationFailed(
            {
                "organisation_id": [
                    # NOTE: %(why)s is the ranking's reason for excluding it (English for now).
                    _(
                        "%(organisation)s cannot be proposed for this request: %(why)s.",
                        organisation=org.name,
                        why=chosen.match.excluded_reason,
                    )
                ]
            }
        )
    eligible = [r for r in ranked if not r.match.excluded_reason]
    rank = eligible.index(chosen) + 1
    comment = _clean_comment(proposal.comment, required=False)
    reason = _clean_comment(proposal.reason, required=rank > 1, field="reason")
    engagement = Engagement(request=req, organisation=org, proposed_by=actor, comment=comment)
    db.session.add(engagement)
    _flush("request")
    db.session.add(
        MatchDecision(
            request_id=req.id,
            engagement_id=engagement.id,
            chosen_organisation_id=org.id,
            chosen_rank=rank,
            chosen_score=chosen.match.score,
            passed_over=[_candidate(r, i + 1) for i, r in enumerate(eligible) if r is not chosen][
                :PASSED_OVER_KEPT
            ],
            chosen_reasons=list(chosen.match.reasons),
            reason=reason,
            decided_by_id=actor.id,
        )
    )
    audit.record(
        actor,
        "propose",
        engagement,
        to_state=engagement.status,
        comment=reason or comment,
    )
    audit.record(actor, "propose_match", req, comment=f"{org.name} (rank {rank})")
    if current_app.config.get("FOUR_EYES"):
        notify(
            staff_users(),
            _l(
                "Match proposed for request #%(id)s: %(organisation)s. It needs a second approval.",
                id=req.id,
                organisation=org.name,
            ),
            _link(engagement),
            exclude=actor,
        )
    log.info(
        "match proposed engagement=%s request=%s org=%s rank=%s",
        engagement.id,
        req.id,
        org.id,
        rank,
    )
    return engagement


def _candidate(r: RankedExpert, rank: int) -> dict[str, object]:
    return {"organisation_id": r.organisation_id, "rank": rank, "score": round(r.match.score, 6)}


def transition_engagement(
    engagement: Engagement,
    actor: User,
    action: str,
    comment: str = "",
    *,
    expected_version: int | None = None,
) -> Engagement:
    """Move an engagement along the workflow table, or refuse and change nothing."""
    if not policy.can_view(actor, engagement):
        raise NotAllowed(_("You cannot act on this engagement."))
    ctx = GuardContext(
        actor_id=actor.id,
        proposer_id=engagement.proposed_by_id,
        four_eyes=bool(current_app.config.get("FOUR_EYES")),
        activities=dict(Counter(a.status.value for a in engagement.activities)),
        has_feedback=engagement.feedback is not None,
    )
    transition = ENGAGEMENTS.find(engagement.status, action, actor.role, ctx)
    if transition not in policy.allowed_transitions(actor, engagement):
        raise NotAllowed(_("This engagement belongs to another expert organisation."))
    if expected_version is not None and expected_version != engagement.version:
        raise Conflict(_("This engagement changed since you opened it. Reload to see it now."))
    comment = _clean_comment(comment, required=transition.needs_comment)
    req = engagement.request
    org = engagement.organisation
    if action == "accept":
        used = queries.active_engagement_counts().get(org.id, 0)
        if used >= org.capacity:
            raise Conflict(
                ngettext(
                    "%(organisation)s is at capacity (%(used)s of %(num)d engagement). "
                    "Decline, or ask Efus to raise your capacity first.",
                    "%(organisation)s is at capacity (%(used)s of %(num)d engagements). "
                    "Decline, or ask Efus to raise your capacity first.",
                    org.capacity,
                    organisation=org.name,
                    used=used,
                )
            )
    source = engagement.status
    engagement.status = transition.target  # type: ignore[assignment]
    if action == "approve":
        engagement.approved_by = actor
    _flush("engagement")  # the guarded UPDATE: a concurrent change makes this a Conflict
    audit.record(
        actor, action, engagement, from_state=source, to_state=engagement.status, comment=comment
    )
    officials = authority_officials(req.authority_id)
    experts = organisation_experts(org.id)
    # Notifications and e-mails, lazy: ``notify`` writes each in its recipient's language.
    # %(id)s is the request's number, %(authority)s its city or region, %(organisation)s the
    # expert organisation.
    names = {"id": req.id, "authority": req.authority.name, "organisation": org.name}
    if action == "approve":
        notify(
            experts,
            _l(
                "New invitation from Efus: request #%(id)s (%(authority)s). "
                "Please accept or decline.",
                **names,
            ),
            _link(engagement),
        )
        notify(
            officials,
            _l("Efus matched %(organisation)s to your request #%(id)s (%(authority)s).", **names),
            _link(engagement),
            exclude=actor,
        )
    elif action == "accept":
        if req.status == RequestStatus.MATCHING:
            _move_request(req, actor, "engage", f"{org.name} accepted")
        notify(
            [*staff_users(), *officials],
            _l("%(organisation)s accepted request #%(id)s (%(authority)s).", **names),
            _link(engagement),
            exclude=actor,
        )
    elif action == "decline":
        # The request is still in matching: staff pick another organisation.
        notify(
            staff_users(),
            _l(
                "%(organisation)s declined request #%(id)s (%(authority)s); "
                "it is back in matching.",
                **names,
            ),
            _link(engagement),
        )
        notify(
            officials,
            _l(
                "%(organisation)s could not take request #%(id)s (%(authority)s); "
                "Efus is looking again.",
                **names,
            ),
            _link(engagement),
        )
    elif action == "confirm_plan":
        notify(
            [*officials, *experts, *staff_users()],
            _l(
                "The plan of activities for request #%(id)s (%(authority)s) is confirmed.",
                **names,
            ),
            _link(engagement),
            exclude=actor,
        )
    elif action == "finish_delivery":
        notify(
            officials,
            _l(
                "%(organisation)s has delivered every activity of request #%(id)s "
                "(%(authority)s): please confirm them and rate the engagement.",
                **names,
            ),
            _link(engagement),
        )
    elif action == "close":
        from assist.delivery.services import after_close

        after_close(engagement, actor)
        notify(
            [*officials, *experts],
            _l("Efus closed the engagement on request #%(id)s (%(authority)s).", **names),
            _link(engagement),
        )
    elif action == "cancel":
        if req.status == RequestStatus.ENGAGED and not _other_active(engagement):
            _move_request(req, actor, "rematch", f"engagement with {org.name} cancelled")
        seen_by_expert = source != EngagementStatus.PROPOSED
        notify(
            [*officials, *(experts if seen_by_expert else [])],
            _l(
                "The engagement of %(organisation)s on request #%(id)s (%(authority)s) "
                "was cancelled by Efus.",
                **names,
            ),
            _link(engagement),
            exclude=actor,
        )
    db.session.flush()
    log.info("engagement %s id=%s %s->%s", action, engagement.id, source, engagement.status)
    return engagement


def _other_active(engagement: Engagement) -> bool:
    stmt = sa.select(Engagement.id).where(
        Engagement.request_id == engagement.request_id,
        Engagement.id != engagement.id,
        Engagement.status.in_(CAPACITY_STATES),
    )
    return db.session.scalar(stmt.limit(1)) is not None


def close_for_withdrawal(req: AssistanceRequest, actor: User, comment: str) -> None:
    """The city withdrew the request: its open engagements end with it (an automatic step)."""
    for engagement in queries.request_engagements(req.id):
        if engagement.status not in OPEN_ENGAGEMENT_STATES:
            continue
        transition = ENGAGEMENTS.find(engagement.status, "withdrawn", None)
        source = engagement.status
        engagement.status = transition.target  # type: ignore[assignment]
        audit.record(
            actor,
            "withdrawn",
            engagement,
            from_state=source,
            to_state=engagement.status,
            comment=comment,
        )
        if source != EngagementStatus.PROPOSED:
            notify(
                organisation_experts(engagement.organisation_id),
                _l(
                    "Request #%(id)s (%(authority)s) was withdrawn by the city; "
                    "the engagement is cancelled.",
                    id=req.id,
                    authority=req.authority.name,
                ),
                _link(engagement),
            )


def add_conflict(
    actor: User, organisation: ExpertOrganisation, authority: LocalAuthority, reason: str
) -> ConflictOfInterest:
    if actor.role not in ENGAGEMENTS.creators:
        raise NotAllowed(_("Only Efus staff can record conflicts of interest."))
    reason = _clean_comment(reason, required=True, field="reason")
    exists = db.session.scalar(
        sa.select(ConflictOfInterest.id).where(
            ConflictOfInterest.organisation_id == organisation.id,
            ConflictOfInterest.authority_id == authority.id,
        )
    )
    if exists:
        raise ValidationFailed(
            {
                "organisation_id": [
                    _(
                        "%(organisation)s is already excluded for %(authority)s.",
                        organisation=organisation.name,
                        authority=authority.name,
                    )
                ]
            }
        )
    conflict = ConflictOfInterest(
        organisation=organisation, authority=authority, reason=reason[:500], created_by=actor
    )
    db.session.add(conflict)
    db.session.flush()
    audit.record(actor, "create", conflict, comment=f"{organisation.name} / {authority.name}")
    return conflict


def remove_conflict(actor: User, conflict: ConflictOfInterest) -> None:
    if actor.role not in ENGAGEMENTS.creators:
        raise NotAllowed(_("Only Efus staff can remove conflicts of interest."))
    audit.record(
        actor,
        "delete",
        conflict,
        comment=f"{conflict.organisation.name} / {conflict.authority.name}",
    )
    db.session.delete(conflict)
    db.session.flush()
