"""Every write to a request: draft, edit, submit, withdraw. Callers commit; services only flush."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from assist import audit
from assist.auth.models import User
from assist.db import utcnow
from assist.directory.models import TaxonomyTerm, TermKind
from assist.directory.queries import resolve_terms
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.i18n import TEXT_LANGUAGES, detect_language
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
    #: The language the text is written in (a TEXT_LANGUAGES code), as its author says. None:
    #: the language already stored, else the detected one (the API, when ``language`` is not
    #: sent); refused when there is neither.
    language: str | None = None
    #: The detection the author was warned about and answered by saving again (the form keeps
    #: it in a hidden field): while detection still says this, the chosen language is accepted.
    confirmed_detection: str | None = None
    #: The caller states ``language`` deliberately (the API, the demo data): never asked to
    #: confirm it against the detection.
    language_stated: bool = False


#: RequestData fields that are not columns copied as they are.
_NOT_COPIED = frozenset({"terms", "language", "confirmed_detection", "language_stated"})


class RequestInvalid(ValidationFailed):
    """The request's input breaks rules; ``detected_language`` is what detection said, so a
    form can remember it (the author's next save with any language confirms it)."""

    def __init__(self, errors: dict[str, list[str]], detected_language: str | None) -> None:
        super().__init__(errors, _("Some fields need your attention."))
        self.detected_language = detected_language


@dataclass(frozen=True)
class _Checked:
    terms: list[TaxonomyTerm]
    language: str | None
    detected_language: str | None


def detect_request_language(data: RequestData | AssistanceRequest) -> str | None:
    """The language the request's text reads as (None when too short or mixed to tell)."""
    texts = (data.title, data.context, data.needs, data.existing_activities)
    return detect_language(*(t for t in texts if isinstance(t, str)))


def _check_language(
    data: RequestData, req: AssistanceRequest | None, detected: str | None
) -> tuple[str | None, list[str]]:
    """The language to store, and what to tell the author when it cannot be accepted yet."""
    if data.language is not None and data.language not in TEXT_LANGUAGES:
        return None, [_("Choose one of: %(codes)s.", codes=", ".join(TEXT_LANGUAGES))]
    if data.language is None:
        language = (req.language if req is not None else None) or detected
        if language is None:
            return None, [
                _(
                    "The language of this text cannot be detected (it is too short or mixed). "
                    "Send `language`: one of %(codes)s.",
                    codes=", ".join(TEXT_LANGUAGES),
                )
            ]
        return language, []
    language = data.language
    confirmed = (
        data.language_stated
        or data.confirmed_detection == detected
        # Saved before with this language against this same detection: already confirmed.
        or (req is not None and req.language == language and req.detected_language == detected)
    )
    if detected is None or detected == language or confirmed:
        return language, []
    # NOTE: %(detected)s and %(chosen)s are language names as listed under "Language of the
    # text" (e.g. "Spanish", "English"); reorder the sentence as your language needs.
    message = _(
        "This text looks written in %(detected)s, not %(chosen)s. "
        "Choose the language it is written in, then save again.",
        detected=TEXT_LANGUAGES[detected],
        chosen=TEXT_LANGUAGES[language],
    )
    return language, [message]


def _validate(data: RequestData, req: AssistanceRequest | None = None) -> _Checked:
    """Check every rule that does not depend on the state; return the resolved terms and the
    language, or raise RequestInvalid naming each problem."""
    errors: dict[str, list[str]] = {}
    for name, limit in MAX_LENGTHS.items():
        value = getattr(data, name)
        if not isinstance(value, str):
            errors.setdefault(name, []).append(_("Must be text."))
        elif "\x00" in value:
            errors.setdefault(name, []).append(_("Contains a NUL character; remove it."))
        elif len(value) > limit:
            errors.setdefault(name, []).append(
                _(
                    "Too long: %(length)d characters, at most %(limit)d. Shorten it.",
                    length=len(value),
                    limit=limit,
                )
            )
    if isinstance(data.title, str) and not data.title.strip():
        errors.setdefault("title", []).append(_("Give the request a short title."))
    for name in FREE_TEXT_FIELDS:
        value = getattr(data, name)
        if isinstance(value, str):
            for finding in privacy.screen(value):
                errors.setdefault(name, []).append(finding.message())
    if data.period_start and data.period_end and data.period_start > data.period_end:
        errors.setdefault("period_end", []).append(
            _("The end of the period is before its start. Correct one of the two.")
        )
    participants = data.expected_participants
    if participants is not None and (
        not isinstance(participants, int) or not 1 <= participants <= 10000
    ):
        errors.setdefault("expected_participants", []).append(
            _("Give a whole number between 1 and 10000, or leave it empty.")
        )
    unknown_fields = set(data.terms) - set(REQUEST_TERM_FIELDS)
    if unknown_fields:
        errors.setdefault("terms", []).append(
            _("Unknown lists: %(names)s.", names=", ".join(sorted(unknown_fields)))
        )
    terms: list[TaxonomyTerm] = []
    for name, kind in REQUEST_TERM_FIELDS.items():
        try:
            terms += resolve_terms(kind, data.terms.get(name, []), name)
        except ValidationFailed as exc:
            for k, v in exc.errors.items():
                errors.setdefault(k, []).extend(v)
    detected = detect_request_language(data)
    language, problems = _check_language(data, req, detected)
    if problems:
        errors.setdefault("language", []).extend(problems)
    if errors:
        raise RequestInvalid(errors, detected)
    return _Checked(terms, language, detected)


def missing_for_submission(req: AssistanceRequest) -> dict[str, list[str]]:
    """What Efus needs before it can review; each message says what to add."""
    errors: dict[str, list[str]] = {}
    if len(req.context.strip()) < 40:
        errors["context"] = [
            _("Describe your local context in a few sentences (at least 40 characters).")
        ]
    if len(req.needs.strip()) < 20:
        errors["needs"] = [
            _("Say what assistance you are looking for and why now (at least 20 characters).")
        ]
    if not req.codes(TermKind.THEME):
        errors["themes"] = [_("Tick at least one theme.")]
    if not req.codes(TermKind.FORMAT):
        errors["formats"] = [_("Tick at least one preferred format.")]
    if not req.codes(TermKind.LANGUAGE):
        errors["languages"] = [_("Tick at least one working language.")]
    return errors


def _apply(req: AssistanceRequest, data: RequestData, checked: _Checked) -> list[str]:
    changed = []
    values = {
        f.name: getattr(data, f.name) for f in fields(RequestData) if f.name not in _NOT_COPIED
    }
    values["language"] = checked.language
    for name, value in values.items():
        if getattr(req, name) != value:
            setattr(req, name, value)
            changed.append(name)
    # What detection says now, kept even when nothing else changed (Efus staff read it).
    req.detected_language = checked.detected_language
    if {t.id for t in req.terms} != {t.id for t in checked.terms}:
        req.terms = checked.terms
        changed.append("tags")
    return changed


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(
            _(
                "Someone else changed this request while you were working on it. "
                "Reload it to see the latest version."
            )
        ) from exc


def create_draft(actor: User, data: RequestData) -> AssistanceRequest:
    if not policy.can_create(actor):
        raise NotAllowed(
            _("Only a city official of an active local authority can create requests.")
        )
    checked = _validate(data)
    req = AssistanceRequest(authority_id=actor.authority_id, created_by=actor, title=data.title)
    _apply(req, data, checked)
    db.session.add(req)
    _flush()
    audit.record(actor, "create", req, to_state=req.status, changes=["all fields"])
    log.info(
        "request created id=%s authority=%s language=%s detected=%s",
        req.id,
        req.authority_id,
        req.language,
        req.detected_language,
    )
    return req


def update_request(
    req: AssistanceRequest, actor: User, data: RequestData, *, expected_version: int | None = None
) -> AssistanceRequest:
    if not policy.can_edit(actor, req):
        raise NotAllowed(
            _("This request can no longer be edited (status: %(status)s).", status=req.status.label)
            if policy.is_own_authority(actor, req)
            else _("You cannot edit this request.")
        )
    if expected_version is not None and expected_version != req.version:
        raise Conflict(
            _(
                "This request was changed by someone else since you opened it. "
                "Your text is still in the form: check the latest version, then save again."
            )
        )
    checked = _validate(data, req)
    changed = _apply(req, data, checked)
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
        raise NotAllowed(_("You cannot act on this request."))
    transition = REQUESTS.find(req.status, action, actor.role)
    if transition not in policy.allowed_transitions(actor, req):
        raise NotAllowed(_("This request belongs to another local authority."))
    if expected_version is not None and expected_version != req.version:
        raise Conflict(
            _(
                "This request changed since you opened it (someone else acted on it). "
                "Reload to see where it stands now."
            )
        )
    comment = comment.strip()
    if transition.needs_comment and not comment:
        raise ValidationFailed({"comment": [_("Give a short reason; it is kept in the history.")]})
    if len(comment) > 2000:
        raise ValidationFailed({"comment": [_("Keep the reason under 2000 characters.")]})
    if comment and (findings := privacy.screen(comment)):
        raise ValidationFailed({"comment": [f.message() for f in findings]})
    if action in {"submit", "resubmit"} and (missing := missing_for_submission(req)):
        raise ValidationFailed(
            missing, _("Your draft is saved, but it is not complete enough to submit yet.")
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
    # Lazy strings: notify() writes each in its recipient's language.
    values = {"id": req.id, "authority": req.authority.name}
    link = f"/requests/{req.id}"
    if action in {"submit", "resubmit"}:
        # NOTE: notifications and e-mails; %(id)s is the request's number, %(authority)s its city.
        notice = _l("Request #%(id)s (%(authority)s) was submitted and waits for review.", **values)
        notify(staff_users(), notice, link)
    elif action == "withdraw" and req.submitted_at is not None:
        notice = _l("Request #%(id)s (%(authority)s) was withdrawn by the city.", **values)
        notify(staff_users(), notice, link)
    elif action in CITY_NOTICES:
        notify(authority_officials(req.authority_id), CITY_NOTICES[action](values), link)


#: What the city is told when Efus moves its request.
CITY_NOTICES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "start_review": lambda values: _l(
        "Request #%(id)s (%(authority)s): Efus has started reviewing it.", **values
    ),
    "ask_info": lambda values: _l(
        "Request #%(id)s (%(authority)s): Efus asks for more information. "
        "Please edit the request and send it back.",
        **values,
    ),
    "decline": lambda values: _l(
        "Request #%(id)s (%(authority)s): Efus has declined it; the reason is in its history.",
        **values,
    ),
    "start_matching": lambda values: _l(
        "Request #%(id)s (%(authority)s): Efus is now matching it with an expert organisation.",
        **values,
    ),
}


def submit_request(req: AssistanceRequest, actor: User) -> AssistanceRequest:
    return transition_request(req, actor, "submit")


def withdraw_request(req: AssistanceRequest, actor: User, comment: str) -> AssistanceRequest:
    return transition_request(req, actor, "withdraw", comment)
