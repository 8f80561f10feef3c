"""Pages for planning, recording, confirming and rating activities, and the six-month follow-up.
The activities themselves are shown on the engagement page; these routes take the actions."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from assist.auth.decorators import current_actor
from assist.delivery import policy, services
from assist.delivery.forms import FollowUpForm, PlanForm, RatingForm, record_form
from assist.delivery.models import FOLLOW_UP_USES, Activity, FollowUp
from assist.engagements.queries import get_engagement_or_404
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.forms import attach_errors
from assist.i18n import format_decimal
from assist.transitions import flash_refusal, take_action

bp = Blueprint("delivery", __name__, cli_group=None)
# Counts and hours on the activity pages (the engagement page includes them), in the reader's
# number format. A global rather than a context processor: reports render some templates
# without the request's context processors.
bp.add_app_template_global(format_decimal, "format_decimal")


def get_activity_or_404(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None or not policy.can_view(current_user, activity):
        raise NotFound()
    return activity


def _back(engagement_id: int, activity_id: int | None = None) -> Response:
    anchor = f"activity-{activity_id}" if activity_id else "activities"
    return redirect(url_for("engagements.detail", engagement_id=engagement_id, _anchor=anchor))


@bp.route("/engagements/<int:engagement_id>/activities/new", methods=["GET", "POST"])
@login_required
def plan(engagement_id: int) -> str | Response | tuple[str, int]:
    engagement = get_engagement_or_404(current_user, engagement_id)
    if not policy.can_plan(current_user, engagement):
        flash(
            _(
                "Activities are planned by the two sides of an accepted engagement "
                "(this one is '%(status)s').",
                status=engagement.status.label,
            ),
            "warning",
        )
        return _back(engagement.id)
    form = PlanForm()
    if form.validate_on_submit():
        try:
            activity = services.plan_activity(engagement, current_actor(), form.to_data())
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(_("Activity planned. Confirm the plan once every activity is in."), "success")
            return _back(engagement.id, activity.id)
    status = 422 if form.errors else 200
    return render_template("delivery/plan.html", form=form, engagement=engagement), status


@bp.route("/activities/<int:activity_id>/record", methods=["GET", "POST"])
@login_required
def record(activity_id: int) -> str | Response | tuple[str, int]:
    activity = get_activity_or_404(activity_id)
    engagement = activity.engagement
    if not any(t.action == "record" for t in policy.allowed_transitions(current_user, activity)):
        flash(_("You cannot record this activity now."), "warning")
        return _back(engagement.id, activity.id)
    form = record_form(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        for f in form.participant_fields():
            f.data = (activity.participants or {}).get(f.name[2:])
    failed = False
    if form.validate_on_submit():
        version = request.form.get("version", "")
        try:
            services.record_activity(
                activity,
                current_actor(),
                form.to_data(),
                expected_version=int(version) if version.isdigit() else None,
            )
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
            failed = True
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            failed = True
        else:
            flash(_("Activity recorded. The city is asked to confirm it."), "success")
            return _back(engagement.id, activity.id)
    status = 422 if form.errors or failed else 200
    return render_template(
        "delivery/record.html", form=form, activity=activity, engagement=engagement
    ), status


@bp.post("/activities/<int:activity_id>/transitions/<action>")
@login_required
def transition(activity_id: int, action: str) -> Response:
    activity = get_activity_or_404(activity_id)
    if refused := take_action(activity, services.transition_activity, action, "activity"):
        flash_refusal(refused)
    return _back(activity.engagement_id, activity_id)


@bp.post("/engagements/<int:engagement_id>/rating")
@login_required
def rate(engagement_id: int) -> Response:
    engagement = get_engagement_or_404(current_user, engagement_id)
    form = RatingForm()
    if not form.validate_on_submit():
        # str(): the form's messages are lazy strings.
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "danger")
        return _back(engagement.id)
    try:
        services.rate_engagement(
            engagement, current_actor(), int(form.rating.data), form.comment.data or ""
        )
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(f"{exc.message} {' '.join(m for ms in exc.errors.values() for m in ms)}", "danger")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(
            _("Thank you: your rating is recorded. Efus can now close the engagement."), "success"
        )
    return _back(engagement.id)


@bp.route("/engagements/<int:engagement_id>/follow-up", methods=["GET", "POST"])
@login_required
def follow_up(engagement_id: int) -> str | Response | tuple[str, int]:
    engagement = get_engagement_or_404(current_user, engagement_id)
    item = db.session.scalar(sa.select(FollowUp).where(FollowUp.engagement_id == engagement.id))
    if item is None or item.asked_at is None:
        flash(_("There is no follow-up question for this engagement yet."), "info")
        return _back(engagement.id)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            services.answer_follow_up(
                item, current_actor(), list(form.uses.data or []), form.comment.data or ""
            )
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash(_("Thank you: your answer is recorded."), "success")
            return _back(engagement.id)
    status = 422 if form.errors else 200
    return render_template(
        "delivery/follow_up.html",
        form=form,
        engagement=engagement,
        item=item,
        use_labels=FOLLOW_UP_USES,
        can_answer=policy.is_city_of(current_user, engagement) and item.answered_at is None,
    ), status


@bp.cli.command("ask-follow-ups")
def ask_follow_ups_command() -> None:
    """Ask cities whether results are in use, six months after closing (run daily)."""
    asked = services.ask_follow_ups()
    db.session.commit()
    click.echo(f"Asked {asked} follow-up question(s).")
