"""Upload and download of activity attachments, each checked against the engagement's policy."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from assist.auth.decorators import current_actor
from assist.delivery import attachments
from assist.delivery.models import Activity, Attachment
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db

log = logging.getLogger("assist.delivery.attachments")

bp = Blueprint("attachments", __name__)


@bp.app_template_global("attachment_rules")
def attachment_rules() -> str:
    """The upload form's help text: accepted types and the size cap."""
    return attachments.rules_text()


@bp.app_template_global("attachment_accept")
def attachment_accept() -> str:
    """The file input's ``accept`` list (a hint for the picker; the server checks content)."""
    return ",".join(f".{ext}" for ext in attachments.ALLOWED_EXTENSIONS)


@bp.app_template_global("file_size")
def file_size(n: int) -> str:
    """A file's size in the reader's language and number format (Jinja's filesizeformat is
    English only)."""
    return attachments.size_label(n)


@bp.app_template_global("can_delete_attachment")
def can_delete_attachment(attachment: Attachment) -> bool:
    return current_user.is_authenticated and attachments.can_delete(current_user, attachment)


def _back(activity: Activity) -> Response:
    return redirect(
        url_for(
            "engagements.detail",
            engagement_id=activity.engagement_id,
            _anchor=f"activity-{activity.id}",
        )
    )


def _flash_refusal(exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        flash(" ".join(m for msgs in exc.errors.values() for m in msgs) or exc.message, "danger")
    else:
        flash(exc.message, "danger")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """The body was over MAX_CONTENT_LENGTH (refused before it is read, even before the CSRF
    check): back to the activity with a message saying what is accepted."""
    message = _(
        "The file was not accepted: it is too large. Accepted: %(rules)s",
        rules=attachments.rules_text(),
    )
    activity_id = (request.view_args or {}).get("activity_id")
    activity = None
    if current_user.is_authenticated and activity_id is not None:
        try:
            activity = attachments.get_activity_or_404(current_user, activity_id)
        except NotFound:
            activity = None
    if activity is None:
        return render_template(
            "errors/error.html", status=413, title=_("Too large"), message=message
        ), 413
    flash(message, "danger")
    return _back(activity)


@bp.post("/activities/<int:activity_id>/attachments")
@login_required
def upload(activity_id: int) -> Response:
    activity = attachments.get_activity_or_404(current_user, activity_id)
    file = request.files.get("file")
    if file is None or not (file.filename or "").strip():
        flash(_("Choose a file to upload first."), "danger")
        return _back(activity)
    try:
        attachment = attachments.add_attachment(activity, current_actor(), file)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _flash_refusal(exc)
    else:
        flash(_("“%(name)s” was added to the activity.", name=attachment.filename), "success")
    return _back(activity)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    attachment = attachments.get_attachment_or_404(current_user, attachment_id)
    path = attachments.stored_path(attachment)
    if not path.is_file():
        log.error("attachment %s: stored file %s is missing", attachment.id, path.name)
        raise NotFound()
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=False,
        etag=False,
        max_age=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Never rendered by the browser in the app's origin, even if something sniffs it.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; sandbox; frame-ancestors 'none'"
    )
    return response


@bp.post("/attachments/<int:attachment_id>/delete")
@login_required
def delete(attachment_id: int) -> Response:
    attachment = attachments.get_attachment_or_404(current_user, attachment_id)
    activity, filename = attachment.activity, attachment.filename
    try:
        attachments.delete_attachment(attachment, current_actor())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _flash_refusal(exc)
    else:
        flash(_("“%(name)s” was removed.", name=filename), "success")
    return _back(activity)
