"""The user's notifications page, and the command that delivers queued e-mails."""

from __future__ import annotations

import click
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.wrappers import Response

from assist.auth.decorators import current_actor
from assist.extensions import db
from assist.notifications import services
from assist.urls import safe_next_url

bp = Blueprint("notifications", __name__, cli_group=None)


@bp.get("/notifications")
@login_required
def index() -> str:
    return render_template("notifications/index.html", notes=services.recent(current_actor()))


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_one(notification_id: int) -> Response:
    """Mark one of the user's own notifications read and go to what it is about."""
    user = current_actor()
    note = services.get_own_or_404(user, notification_id)
    services.mark_read(user, note.id)
    db.session.commit()
    return redirect(safe_next_url(note.link) or url_for("notifications.index"))


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Response:
    count = services.mark_read(current_actor())
    db.session.commit()
    flash(
        ngettext(
            "%(num)d notification marked as read.", "%(num)d notifications marked as read.", count
        ),
        "success",
    )
    return redirect(url_for("notifications.index"))


@bp.cli.command("send-notifications")
@click.option("--limit", default=100, show_default=True, help="E-mails to try in this run.")
def send_notifications(limit: int) -> None:
    """Deliver queued e-mails from the outbox over SMTP (retrying failures, never twice)."""
    from assist.notifications.delivery import deliver_pending

    report = deliver_pending(current_app.config, limit=limit)
    click.echo(report.summary())
