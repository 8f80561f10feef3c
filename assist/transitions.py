"""The one way a page takes a workflow action: read the posted reason and version, call the
service, commit once, and tell the user what happened (or why nothing did)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import Length

from assist.auth.decorators import current_actor
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.forms import CleanTextAreaField
from assist.workflow import InvalidTransition


class TransitionForm(FlaskForm):
    comment = CleanTextAreaField(
        _l("Reason"),
        validators=[Length(max=2000, message=_l("Keep the reason under %(max)d characters."))],
        description=_l("Kept in the history. No names or case details."),
    )


# One whole sentence per kind of object (callers pass the noun), so that translators can give
# each its own article and gender; %(status)s is the object's new status label.
_DONE: dict[str, Callable[[str], str]] = {
    "request": lambda status: _("Done: the request is now “%(status)s”.", status=status),
    "engagement": lambda status: _("Done: the engagement is now “%(status)s”.", status=status),
    "activity": lambda status: _("Done: the activity is now “%(status)s”.", status=status),
}


def take_action(
    obj: Any, service: Callable[..., Any], action: str, noun: str
) -> ValidationFailed | None:
    """Run ``service(obj, actor, action, comment, expected_version=…)`` from the posted form.

    Returns the ValidationFailed when the input was refused (the caller decides where its
    messages go); everything else is said in a flash message, and nothing is half-applied.
    """
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "danger")
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
    done = _DONE.get(noun, lambda status: _("Done: it is now “%(status)s”.", status=status))
    flash(done(obj.status.label), "success")
    return None


def flash_refusal(exc: ValidationFailed) -> None:
    messages = " ".join(str(m) for msgs in exc.errors.values() for m in msgs)
    flash(f"{exc.message} {messages}", "danger")
