"""Staff's matching pages (ranking, proposals, allocation, conflicts) and everyone's engagement
pages (invitations, detail, actions, timeline). Thin: load, authorise, call one service, commit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from assist import audit
from assist.auth.decorators import current_actor, role_required
from assist.delivery.context import delivery_context
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.engagements import policy, queries, services
from assist.engagements.allocation import suggest_allocation
from assist.engagements.forms import ConflictForm, ProposeForm
from assist.engagements.models import ConflictOfInterest
from assist.engagements.ranking import rank_experts
from assist.engagements.reasons import render_matches
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.forms import attach_errors
from assist.requests.queries import get_request_or_404
from assist.requests.services import REQUEST_TERM_FIELDS
from assist.roles import Role
from assist.transitions import TransitionForm, flash_refusal, take_action
from assist.workflow import EngagementStatus, RequestStatus

bp = Blueprint("engagements", __name__)

#: Candidates shown before "Show every organisation" (vetoed ones are always listed).
SHOWN = 25

FILTERS = {
    "common_language": (
        # NOTE: the ranking page's filter checkboxes: show only organisations that …
        _l("Share a working language"),
        lambda m: m.has_common_language is not False,
    ),
    "country": (
        _l("Have worked in the city's country"),
        lambda m: m.signals.get("country", 0) >= 1,
    ),
    "available": (_l("Have capacity left"), lambda m: not m.at_capacity),
}


@bp.route("/requests/<int:request_id>/experts", methods=["GET", "POST"])
@login_required
def ranking(request_id: int) -> str | Response | tuple[str, int]:
    req = get_request_or_404(current_user, request_id)
    if not policy.can_see_ranking(current_user, req):
        abort(403)
    form = ProposeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                expected = form.request_version.data
                engagement = services.propose_match(
                    req,
                    current_actor(),
                    services.Proposal(
                        organisation_id=form.organisation_id.data or 0,
                        comment=form.comment.data or "",
                        reason=form.reason.data or "",
                        expected_request_version=int(expected) if expected.isdigit() else None,
                    ),
                )
                db.session.commit()
            except ValidationFailed as exc:
                db.session.rollback()
                attach_errors(form, exc)
                status = 422
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                status = exc.status_code
            else:
                flash(
                    _(
                        "Match proposed: %(organisation)s.",
                        organisation=engagement.organisation.name,
                    ),
                    "success",
                )
                return redirect(url_for("engagements.detail", engagement_id=engagement.id))
        else:
            status = 422
    active = [name for name in FILTERS if request.args.get(name)]
    show_all = bool(request.args.get("all"))
    # Filters look further down the ranking; without them the top is what staff read.
    everyone = rank_experts(req, k=None if (active or show_all) else SHOWN)
    ranked = [
        r
        for r in everyone
        if r.match.excluded_reason or all(FILTERS[name][1](r.match) for name in active)
    ]
    if not show_all:
        ranked = [r for r in ranked if not r.match.excluded_reason][:SHOWN] + [
            r for r in ranked if r.match.excluded_reason
        ]
    top_id = next((r.organisation_id for r in everyone if not r.match.excluded_reason), None)
    # Each match's reasons in the reader's language (one query for the terms they name).
    rendered = render_matches([r.match for r in ranked])
    return render_template(
        "engagements/ranking.html",
        req=req,
        ranked=ranked,
        reasons={r.organisation_id: text for r, text in zip(ranked, rendered, strict=True)},
        filters=FILTERS,
        active=active,
        form=form,
        top_id=top_id,
        can_propose=req.status == RequestStatus.MATCHING,
        show_all=show_all,
        shown=SHOWN,
        engagements=queries.request_engagements(req.id),
    ), status


@bp.get("/engagements/")
@login_required
def index() -> str:
    if current_user.role not in (Role.STAFF, Role.ADMIN, Role.EXPERT, Role.CITY_OFFICIAL):
        abort(403)
    page = db.paginate(queries.visible_engagements(current_user), per_page=20, error_out=False)
    return render_template("engagements/index.html", page=page)


@bp.get("/engagements/<int:engagement_id>")
@login_required
def detail(engagement_id: int) -> str:
    engagement = queries.get_engagement_or_404(current_user, engagement_id)
    return render_template(
        "engagements/detail.html",
        **delivery_context(current_actor(), engagement),
        engagement=engagement,
        req=engagement.request,
        kinds=REQUEST_TERM_FIELDS.values(),
        transitions=policy.allowed_transitions(current_user, engagement),
        action_url=lambda action: url_for(
            "engagements.transition", engagement_id=engagement.id, action=action
        ),
        transition_form=TransitionForm(),
        history=audit.history_for(current_actor(), engagement),
        labels=lambda value: EngagementStatus(value).label,
    )


@bp.post("/engagements/<int:engagement_id>/transitions/<action>")
@login_required
def transition(engagement_id: int, action: str) -> Response:
    engagement = queries.get_engagement_or_404(current_user, engagement_id)
    if refused := take_action(engagement, services.transition_engagement, action, "engagement"):
        flash_refusal(refused)
    return redirect(url_for("engagements.detail", engagement_id=engagement_id))


@bp.get("/matching")
@role_required(Role.STAFF, Role.ADMIN)
def allocation() -> str:
    return render_template("engagements/allocation.html", suggestion=suggest_allocation())


@bp.route("/conflicts", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def conflicts() -> str | Response | tuple[str, int]:
    form = ConflictForm()
    if form.validate_on_submit():
        org = db.get_or_404(ExpertOrganisation, form.organisation_id.data)
        authority = db.get_or_404(LocalAuthority, form.authority_id.data)
        try:
            services.add_conflict(current_actor(), org, authority, form.reason.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(
                _(
                    "%(organisation)s will no longer be proposed to %(authority)s.",
                    organisation=org.name,
                    authority=authority.name,
                ),
                "success",
            )
            return redirect(url_for("engagements.conflicts"))
    status = 422 if form.errors else 200
    return render_template(
        "engagements/conflicts.html", form=form, conflicts=queries.all_conflicts()
    ), status


@bp.post("/conflicts/<int:conflict_id>/delete")
@role_required(Role.STAFF, Role.ADMIN)
def delete_conflict(conflict_id: int) -> Response:
    conflict = db.get_or_404(ConflictOfInterest, conflict_id)
    services.remove_conflict(current_actor(), conflict)
    db.session.commit()
    flash(_("Conflict of interest removed."), "success")
    return redirect(url_for("engagements.conflicts"))
