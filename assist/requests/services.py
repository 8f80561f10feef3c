"""Every write to a request: draft, edit, submit, withdraw. Callers commit; services only flush."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import date

from sqlalchemy.orm.exc import StaleDataError

from assist import audit
from assist.auth.models import User
from assist.db import utcnow
from assist.directory.models import TaxonomyTerm, TermKind
from assist.directory.queries import resolve_terms
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.notifications.services import authority_officials, notify, staff_users
from assist.requests import policy, privacy
from assist.requests.models import AssistanceRequest
from assist.workflow import REQUESTS

log = logging.getLogger("assist.requests")

#: The vocabularies a request is tagged with, and the field names that carry them.
REQUEST_TERM_FIELDS: dict[str, TermKind] = {
    "themes": TermKind.THEME,
    "ideologies": TermKind.IDEOLOGY,
    "target_groups": TermKind.TARGET_GROUP,
    "settings": TermKind.SETTING,
    "formats": TermKind.FORMAT,
    "agencies": TermKind.AGENCY,
    "languages": TermKind.LANGUAGE,
}

MAX_LENGTHS = {"title": 200, "context": 6000, "needs": 6000, "existing_activities": 4000}
FREE_TEXT_FIELDS = tuple(MAX_LENGTHS)


@dataclass
class RequestData:
    """What a city writes; the same shape for the form, the API and the CLI."""

    title: str
    context: str = ""
    needs: str = ""
    existing_activities: str = ""
    period_start: date | None = None
    period_end: date | None = None
    expected_participants: int | None = None
    #: field name from REQUEST_TERM_FIELDS -> codes
    terms: dict[str, list[str]] = field(default_factory=dict)


def _validate(data: RequestData) -> list[TaxonomyTerm]:
    """Check every rule that does not depend on the state; return the resolved terms."""
    errors: dict[str, list[str]] = {}
    for name, limit in MAX_LENGTHS.items():
        value = getattr(data, name)
        if not isinstance(value, str):
            errors.setdefault(name, []).append("Must be text.")
        elif "\x00" in value:
            errors.setdefault(name, []).append("Contains a NUL character; remove it.")
        elif len(value) > limit:
            errors.setdefault(name, []).append(
                f"Too long: {len(value)} characters, at most {limit}. Shorten it."
            )
    if isinstance(data.title, str) and not data.title.strip():
        errors.setdefault("title", []).append("Give the request a short title.")
    for name in FREE_TEXT_FIELDS:
        value = getattr(data, name)
        if isinstance(value, str):
            for finding in privacy.screen(value):
                errors.setdefault(name, []).append(finding.message())
    if data.period_start and data.period_end and data.period_start > data.period_end:
        errors.setdefault("period_end", []).append(
            "The end of the period is before its start. Correct one of the two."
        )
    participants = data.expected_participants
    if participants is not None and (
        not isinstance(participants, int) or not 1 <= participants <= 10000
    ):
        errors.setdefault("expected_participants", []).append(
            "Give a whole number between 1 and 10000, or leave it empty."
        )
    unknown_fields = set(data.terms) - set(REQUEST_TERM_FIELDS)
    if unknown_fields:
        errors.setdefault("terms", []).append(
            f"Unknown lists: {', '.join(sorted(unknown_fields))}."
        )
    terms: list[TaxonomyTerm] = []
    for name, kind in REQUEST_TERM_FIELDS.items():
        try:
            terms += resolve_terms(kind, data.terms.get(name, []), name)
        except ValidationFailed as exc:
            for k, v in exc.errors.items():
                errors.setdefault(k, []).extend(v)
    if errors:
        raise ValidationFailed(errors)
    return terms


def missing_for_submission(req: AssistanceRequest) -> dict[str, list[str]]:
    """What Efus needs before it can review; each message says what to add."""
    errors: dict[str, list[str]] = {}
    if len(req.context.strip()) < 40:
        errors["context"] = [
            "Describe your local context in a few sentences (at least 40 characters)."
        ]
    if len(req.needs.strip()) < 20:
        errors["needs"] = [
            "Say what assistance you are looking for and why now (at least 20 characters)."
        ]
    if not req.codes(TermKind.THEME):
        errors["themes"] = ["Tick at least one theme."]
    if not req.codes(TermKind.FORMAT):
        errors["formats"] = ["Tick at least one preferred format."]
    if not req.codes(TermKind.LANGUAGE):
        errors["languages"] = ["Tick at least one working language."]
    return errors


def _apply(req: AssistanceRequest, data: RequestData, terms: list[TaxonomyTerm]) -> list[str]:
    changed = []
    for f in fields(RequestData):
        if f.name == "terms":
            continue
        value = getattr(data, f.name)
        if getattr(req, f.name) != value:
            setattr(req, f.name, value)
            changed.append(f.name)
    if {t.id for t in req.terms} != {t.id for t in terms}:
        req.terms = terms
        changed.append("tags")
    return changed


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "Someone else changed this request while you were working on it. "
            "Reload it to see the latest version."
        ) from exc


def create_draft(actor: User, data: RequestData) -> AssistanceRequest:
    if not policy.can_create(actor):
        raise NotAllowed("Only a city official of an active local authority can create requests.")
    terms = _validate(data)
    req = AssistanceRequest(authority_id=actor.authority_id, created_by=actor, title=data.title)
    _apply(req, data, terms)
    db.session.add(req)
    _flush()
    audit.record(actor, "create", req, to_state=req.status, changes=["all fields"])
    log.info("request created id=%s authority=%s", req.id, req.authority_id)
    return req


def update_request(
    req: AssistanceRequest, actor: User, data: RequestData, *, expected_version: int | None = None
) -> AssistanceRequest:
    if not policy.can_edit(actor, req):
        raise NotAllowed(
            f"This request can no longer be edited (status: {req.status.label})."
            if policy.is_own_authority(actor, req)
            else "You cannot edit this request."
        )
    if expected_version is not None and expected_version != req.version:
        raise Conflict(
            "This request was changed by someone else since you opened it. "
            "Your text is still in the form: check the latest version, then save again."
        )
    terms = _validate(data)
    changed = _apply(req, data, terms)
    if changed:
        _flush()
        audit.record(actor, "update", req, changes=changed)
    return req


def transition_request(
    req: AssistanceRequest,
    actor: User,
    action: str,
    comment: str = "",
    *,
    expected_version: int | None = None,
) -> AssistanceRequest:
    """Move the request along the workflow table, or refuse with a reason and change nothing."""
    if not policy.can_view(actor, req):
        raise NotAllowed("You cannot act on this request.")
    transition = REQUESTS.find(req.status, action, actor.role)
    if transition not in policy.allowed_transitions(actor, req):
        raise NotAllowed("This request belongs to another local authority.")
    if expected_version is not None and expected_version != req.version:
        raise Conflict(
            "This request changed since you opened it (someone else acted on it). "
            "Reload to see where it stands now."
        )
    comment = comment.strip()
    if transition.needs_comment and not comment:
        raise ValidationFailed({"comment": ["Give a short reason; it is kept in the history."]})
    if len(comment) > 2000:
        raise ValidationFailed({"comment": ["Keep the reason under 2000 characters."]})
    if comment and (findings := privacy.screen(comment)):
        raise ValidationFailed({"comment": [f.message() for f in findings]})
    if action in {"submit", "resubmit"} and (missing := missing_for_submission(req)):
        raise ValidationFailed(
            missing, "Your draft is saved, but it is not complete enough to submit yet."
        )
    source = req.status
    req.status = transition.target  # type: ignore[assignment]
    if action in {"submit", "resubmit"}:
        req.submitted_at = utcnow()
    _flush()  # the guarded UPDATE: a concurrent change makes this a Conflict, nothing applied
    if action == "withdraw":
        from assist.engagements.services import close_for_withdrawal

        close_for_withdrawal(req, actor, comment)
    audit.record(actor, action, req, from_state=source, to_state=req.status, comment=comment)
    _notify(req, actor, action)
    log.info("request %s id=%s %s->%s", action, req.id, source, req.status)
    return req


def _notify(req: AssistanceRequest, actor: User, action: str) -> None:
    label = f"Request #{req.id} ({req.authority.name})"
    link = f"/requests/{req.id}"
    if action in {"submit", "resubmit"}:
        notify(staff_users(), f"{label} was submitted and waits for review.", link)
    elif action == "withdraw" and req.submitted_at is not None:
        notify(staff_users(), f"{label} was withdrawn by the city.", link)
    elif action in CITY_NOTICES:
        notify(authority_officials(req.authority_id), f"{label}: {CITY_NOTICES[action]}", link)


#: What the city is told when Efus moves its request.
CITY_NOTICES = {
    "start_review": "Efus has started reviewing it.",
    "ask_info": "Efus asks for more information. Please edit the request and send it back.",
    "decline": "Efus has declined it; the reason is in its history.",
    "start_matching": "Efus is now matching it with an expert organisation.",
}


def submit_request(req: AssistanceRequest, actor: User) -> AssistanceRequest:
    return transition_request(req, actor, "submit")


def withdraw_request(req: AssistanceRequest, actor: User, comment: str) -> AssistanceRequest:
    return transition_request(req, actor, "withdraw", comment)
