"""Pages for requests: list, create, detail, edit, and the workflow buttons. Thin by design."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import load_only
from werkzeug.wrappers import Response

from assist import audit
from assist.auth.decorators import current_actor, role_required
from assist.dataprotection import export_request
from assist.db import utcnow
from assist.directory.models import TermKind
from assist.directory.queries import term_choices
from assist.engagements.policy import can_see_ranking
from assist.engagements.policy import can_view as can_view_engagement
from assist.engagements.queries import request_engagements
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.forms import attach_errors
from assist.i18n import TEXT_LANGUAGES
from assist.requests import policy, services
from assist.requests.forms import RequestForm
from assist.requests.models import AssistanceRequest
from assist.requests.queries import get_request_or_404, review_queue, visible_requests
from assist.roles import Role
from assist.transitions import TransitionForm, flash_refusal, take_action
from assist.workflow import RequestStatus

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.context_processor
def _text_languages() -> dict[str, object]:
    return {"text_languages": TEXT_LANGUAGES}


def _refused(form: RequestForm, exc: ValidationFailed) -> None:
    """Show the service's errors on the form; remember what detection said, so that saving
    again confirms the language the author chose (nothing typed is lost meanwhile)."""
    attach_errors(form, exc)
    detected = getattr(exc, "detected_language", None)
    if detected and "language" in exc.errors:
        form.confirmed_detection.data = detected


@bp.get("/")
@login_required
def index() -> str:
    if not policy.can_list(current_user):
        abort(403)
    status_arg = request.args.get("status", "")
    theme = request.args.get("theme") or None
    # Unknown filter values are ignored rather than refused: a stale bookmark still works.
    status = RequestStatus(status_arg) if status_arg in RequestStatus.__members__.values() else None
    themes = term_choices(TermKind.THEME)
    if theme not in {c.value for c in themes}:
        theme = None
    # Only the columns the list shows: the free texts stay in the database. (Not the related
    # authority: it is the signed-in official's own, shared with the rest of the page.)
    rows = visible_requests(current_user, status=status, theme=theme).options(
        load_only(
            AssistanceRequest.title,
            AssistanceRequest.language,
            AssistanceRequest.status,
            AssistanceRequest.updated_at,
            AssistanceRequest.authority_id,
        )
    )
    page = db.paginate(
        rows,
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "requests/index.html",
        page=page,
        status=status,
        theme=theme,
        statuses=list(RequestStatus),
        themes=themes,
        can_create=policy.can_create(current_user),
    )


@bp.get("/review")
@role_required(Role.STAFF, Role.ADMIN)
def review() -> str:
    return render_template("requests/review.html", queue=review_queue(), now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    if not policy.can_create(current_user):
        abort(403)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            req = services.create_draft(current_actor(), form.to_data())
        except ValidationFailed as exc:
            db.session.rollback()
            _refused(form, exc)
        else:
            return _after_save(req, form)
    elif form.errors:
        flash(_("Some fields need your attention; nothing was saved yet."), "danger")
    return render_template(
        "requests/form.html", form=form, req=None
    ), 200 if not form.errors else 422


def _after_save(req: AssistanceRequest, form: RequestForm) -> Response | tuple[str, int]:
    """Commit the save, and the submission with it when asked: one transaction, so the user
    is never told "error" about a request that was in fact half-done. An incomplete request
    is kept as a draft (the submission is rolled back to a savepoint) and what is missing is
    shown next to the fields."""
    if not form.save_and_submit.data:
        db.session.commit()
        flash(_("Draft saved. You can come back and edit it until you submit it."), "success")
        return redirect(url_for("requests.detail", request_id=req.id))
    savepoint = db.session.begin_nested()
    try:
        services.submit_request(req, current_actor())
        savepoint.commit()
    except ValidationFailed as exc:
        savepoint.rollback()
        db.session.commit()  # the draft as typed
        form.version.data = str(req.version)
        attach_errors(form, exc)
        return render_template("requests/form.html", form=form, req=req), 422
    db.session.commit()
    flash(_("Request submitted. Efus will review it; you will see its progress here."), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


@bp.get("/<int:request_id>")
@login_required
def detail(request_id: int) -> str:
    req = get_request_or_404(current_user, request_id)
    return render_template(
        "requests/detail.html",
        req=req,
        history=audit.history_for(current_actor(), req),
        labels=lambda value: RequestStatus(value).label,
        transitions=policy.allowed_transitions(current_user, req),
        action_url=lambda action: url_for("requests.transition", request_id=req.id, action=action),
        can_edit=policy.can_edit(current_user, req),
        can_see_ranking=can_see_ranking(current_user, req),
        engagements=[
            e for e in request_engagements(req.id) if can_view_engagement(current_user, e)
        ],
        transition_form=TransitionForm(),
        kinds=services.REQUEST_TERM_FIELDS,
    )


@bp.get("/<int:request_id>/export.json")
@login_required
def export(request_id: int) -> Response:
    """Everything stored about this request (for the city's records or an access request)."""
    req = get_request_or_404(current_user, request_id)
    if not (
        current_user.role in (Role.STAFF, Role.ADMIN) or policy.is_own_authority(current_user, req)
    ):
        abort(403)
    response = jsonify(export_request(req, current_actor()))
    response.headers["Content-Disposition"] = f'attachment; filename="request-{req.id}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request_id: int) -> str | Response | tuple[str, int]:
    req = get_request_or_404(current_user, request_id)
    if not policy.can_edit(current_user, req):
        flash(
            _(
                "This request can no longer be edited (status: %(status)s).",
                status=req.status.label,
            ),
            "warning",
        )
        return redirect(url_for("requests.detail", request_id=req.id))
    form = RequestForm(obj=req)
    if request.method == "GET":
        for name, kind in services.REQUEST_TERM_FIELDS.items():
            getattr(form, name).data = req.codes(kind)
        form.version.data = str(req.version)
        if request.args.get("check") == "submit":
            for name, messages in services.missing_for_submission(req).items():
                getattr(form, name).errors = list(messages)
    elif form.validate_on_submit():
        try:
            version = str(form.version.data or "")  # the stored int when the form lacks it
            expected = int(version) if version.isdigit() else None
            services.update_request(req, current_actor(), form.to_data(), expected_version=expected)
        except (ValidationFailed, Conflict) as exc:
            db.session.rollback()
            if isinstance(exc, ValidationFailed):
                _refused(form, exc)
                return render_template("requests/form.html", form=form, req=req), 422
            flash(exc.message, "danger")
            form.version.data = str(db.session.get(AssistanceRequest, request_id).version)
            return render_template("requests/form.html", form=form, req=req), 409
        return _after_save(req, form)
    else:
        flash(_("Some fields need your attention; your last saved version is unchanged."), "danger")
        return render_template("requests/form.html", form=form, req=req), 422
    return render_template("requests/form.html", form=form, req=req)


@bp.post("/<int:request_id>/transitions/<action>")
@login_required
def transition(request_id: int, action: str) -> Response:
    req = get_request_or_404(current_user, request_id)
    refused = take_action(req, services.transition_request, action, "request")
    if refused and action in {"submit", "resubmit"} and policy.can_edit(current_user, req):
        # Incomplete: show what is missing next to the fields themselves.
        flash(refused.message, "danger")
        return redirect(url_for("requests.edit", request_id=req.id, check="submit"))
    if refused:
        flash_refusal(refused)
    return redirect(url_for("requests.detail", request_id=req.id))
