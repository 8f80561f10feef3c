"""The one way a page takes a workflow action: read the posted reason and version, call the
service, commit once, and tell the user what happened (or why nothing did)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, request
from flask_wtf import FlaskForm
from wtforms.validators import Length

from assist.auth.decorators import current_actor
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.forms import CleanTextAreaField
from assist.workflow import InvalidTransition


class TransitionForm(FlaskForm):
    comment = CleanTextAreaField(
        "Reason",
        validators=[Length(max=2000, message="Keep the reason under %(max)d characters.")],
        description="Kept in the history. No names or case details.",
    )


def take_action(
    obj: Any, service: Callable[..., Any], action: str, noun: str
) -> ValidationFailed | None:
    """Run ``service(obj, actor, action, comment, expected_version=…)`` from the posted form.

    Returns the ValidationFailed when the input was refused (the caller decides where its
    messages go); everything else is said in a flash message, and nothing is half-applied.
    """
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "danger")
        return None
    version = request.form.get("version", "")
    try:
        service(
            obj,
            current_actor(),
            action,
            form.comment.data or "",
            expected_version=int(version) if version.isdigit() else None,
        )
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return exc
    except (DomainError, InvalidTransition) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None
    flash(f"Done: the {noun} is now “{obj.status.label}”.", "success")
    return None


def flash_refusal(exc: ValidationFailed) -> None:
    messages = " ".join(m for msgs in exc.errors.values() for m in msgs)
    flash(f"{exc.message} {messages}", "danger")
