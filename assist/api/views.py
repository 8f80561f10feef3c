"""JSON API blueprint: /api/v1/…; authenticated by personal bearer tokens, not cookies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_limiter.util import get_remote_address

from assist import audit
from assist.api import errors, schemas, serializers, tokens
from assist.api import policy as api_policy
from assist.api.errors import REFUSED_CHALLENGE, ApiError
from assist.api.openapi import openapi_document
from assist.api.queries import MAX_ID, get_activity_or_404, visible_organisations
from assist.api.schemas import BadQuery, parse_body, parse_query
from assist.auth.models import User
from assist.auth.services import normalise_email
from assist.delivery import policy as delivery_policy
from assist.delivery import services as delivery_services
from assist.engagements import policy as engagement_policy
from assist.engagements import queries as engagement_queries
from assist.engagements import services as engagement_services
from assist.engagements.models import Engagement
from assist.engagements.ranking import rank_experts
from assist.errors import DomainError, NotAllowed, ValidationFailed
from assist.extensions import csrf, db, limiter
from assist.reports import queries as report_queries
from assist.reports.periods import PeriodError
from assist.requests import policy as request_policy
from assist.requests import services as request_services
from assist.requests.models import AssistanceRequest
from assist.requests.queries import get_request_or_404, visible_requests
from assist.requests.services import REQUEST_TERM_FIELDS, RequestData
from assist.roles import PROGRAMME_ROLES

bp = Blueprint("api", __name__, url_prefix="/api/v1", cli_group=None)
# Bearer tokens are not sent by browsers on their own, so cross-site forgery does not apply.
csrf.exempt(bp)
errors.register(bp)

#: Ids in paths stop at the largest 32-bit integer: larger ones are 404 before any query.
ID = f"int(max={MAX_ID})"
DEFAULT_MATCHES = 10
MAX_PER_PAGE = 100
#: JSON bodies stay small even though MAX_CONTENT_LENGTH leaves room for page uploads.
MAX_BODY_BYTES = 2 * 1024 * 1024


def _rate_key() -> str:
    """Per token when one is sent (several scripts behind one address), else per address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-addr:" + get_remote_address()


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)


@bp.before_request
def _cap_body() -> None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = min(limit, MAX_BODY_BYTES) if limit else MAX_BODY_BYTES


@bp.before_request
def _authenticate() -> None:
    """Only a bearer token authenticates here; a session cookie is ignored on purpose."""
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(401, "Send a personal API token: Authorization: Bearer <token>.")
    scheme, _, secret = header.partition(" ")
    user = tokens.authenticate_token(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise ApiError(
            401,
            "The token is unknown, malformed or revoked. Create a new one on your account page.",
            headers={"WWW-Authenticate": REFUSED_CHALLENGE},
        )
    if db.session.dirty:  # last_used_at moved (at most once a minute): keep it
        db.session.commit()
    g.api_user = user


def actor() -> User:
    user: User = g.api_user
    return user


def json_body() -> dict[str, Any]:
    """The body as a JSON object, or 415/400 saying what is wrong with it."""
    if not request.is_json:
        raise ApiError(415)
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _page(stmt: sa.Select[Any], serialize: Callable[[Any], dict[str, Any]]) -> Response:
    args = parse_query(request.args, ["page", "per_page"])
    page = db.paginate(
        stmt,
        page=args.get("page", 1),
        per_page=args.get("per_page", current_app.config["PER_PAGE"]),
        max_per_page=MAX_PER_PAGE,
        error_out=False,
    )
    return jsonify(
        items=[serialize(obj) for obj in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
    )


def _request_data(values: dict[str, Any], base: AssistanceRequest | None = None) -> RequestData:
    """RequestData from the parsed body; fields not sent keep ``base``'s values (PATCH)."""
    current: dict[str, Any] = {"title": ""}
    terms: dict[str, list[str]] = {}
    if base is not None:
        current = {
            "title": base.title,
            "context": base.context,
            "needs": base.needs,
            "existing_activities": base.existing_activities,
            "period_start": base.period_start,
            "period_end": base.period_end,
            "expected_participants": base.expected_participants,
        }
        terms = {name: base.codes(kind) for name, kind in REQUEST_TERM_FIELDS.items()}
    for name in REQUEST_TERM_FIELDS:
        if name in values:
            terms[name] = values.pop(name)
    values.pop("version", None)
    # A `language` sent is stated deliberately: stored even when detection disagrees. Not sent:
    # the stored one (PATCH), else the detected one (assist.requests.services).
    return RequestData(**{**current, **values}, terms=terms, language_stated="language" in values)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/requests")
def list_requests() -> Response:
    user = actor()
    if not request_policy.can_list(user):
        raise NotAllowed("Your role does not work with requests.")
    args = parse_query(request.args, ["status", "theme"])
    stmt = visible_requests(user, status=args.get("status"), theme=args.get("theme"))
    return _page(stmt, lambda req: serializers.request_json(req, user))


@bp.post("/requests")
def create_request() -> tuple[Response, int, dict[str, str]]:
    user = actor()
    values = parse_body(schemas.REQUEST_CREATE, json_body())
    req = request_services.create_draft(user, _request_data(values))
    db.session.commit()
    location = url_for("api.get_request", request_id=req.id)
    return jsonify(serializers.request_json(req, user)), 201, {"Location": location}


@bp.get(f"/requests/<{ID}:request_id>")
def get_request(request_id: int) -> Response:
    user = actor()
    return jsonify(serializers.request_json(get_request_or_404(user, request_id), user))


@bp.patch(f"/requests/<{ID}:request_id>")
def update_request(request_id: int) -> Response:
    user = actor()
    req = get_request_or_404(user, request_id)
    values = parse_body(schemas.REQUEST_PATCH, json_body())
    version = values["version"]
    request_services.update_request(
        req, user, _request_data(values, base=req), expected_version=version
    )
    db.session.commit()
    return jsonify(serializers.request_json(req, user))


@bp.post(f"/requests/<{ID}:request_id>/transitions")
def transition_request(request_id: int) -> Response:
    user = actor()
    req = get_request_or_404(user, request_id)
    values = parse_body(schemas.REQUEST_TRANSITION, json_body())
    request_services.transition_request(
        req, user, values["action"], values.get("comment", ""), expected_version=values["version"]
    )
    db.session.commit()
    return jsonify(serializers.request_json(req, user))


@bp.get(f"/requests/<{ID}:request_id>/matches")
def request_matches(request_id: int) -> Response:
    user = actor()
    req = get_request_or_404(user, request_id)
    if not engagement_policy.can_see_ranking(user, req):
        raise NotAllowed("The ranking of expert organisations is for Efus staff.")
    k = parse_query(request.args, ["k"]).get("k", DEFAULT_MATCHES)
    ranked = rank_experts(req)
    eligible = [r for r in ranked if not r.match.excluded_reason][:k]
    excluded = [r for r in ranked if r.match.excluded_reason]
    return jsonify(
        request_id=req.id,
        request_version=req.version,
        items=[serializers.match_json(r) for r in (*eligible, *excluded)],
    )


@bp.post(f"/requests/<{ID}:request_id>/engagements")
def propose_engagement(request_id: int) -> tuple[Response, int, dict[str, str]]:
    user = actor()
    req = get_request_or_404(user, request_id)
    if not engagement_policy.can_see_ranking(user, req):
        raise NotAllowed("Only Efus staff can propose a match.")
    values = parse_body(schemas.PROPOSAL, json_body())
    engagement = engagement_services.propose_match(
        req,
        user,
        engagement_services.Proposal(
            organisation_id=values["expert_organisation_id"],
            comment=values.get("comment", ""),
            reason=values.get("reason", ""),
            expected_request_version=values.get("version"),
        ),
    )
    db.session.commit()
    location = url_for("api.get_engagement", engagement_id=engagement.id)
    return jsonify(serializers.engagement_json(engagement, user)), 201, {"Location": location}


@bp.get(f"/requests/<{ID}:request_id>/history")
def request_history(request_id: int) -> Response:
    user = actor()
    req = get_request_or_404(user, request_id)
    return jsonify(items=[serializers.history_json(e) for e in audit.history_for(user, req)])


@bp.get("/engagements")
def list_engagements() -> Response:
    user = actor()
    stmt = engagement_queries.visible_engagements(user).options(
        sa.orm.selectinload(Engagement.activities), sa.orm.selectinload(Engagement.feedback)
    )
    return _page(stmt, lambda e: serializers.engagement_json(e, user))


@bp.get(f"/engagements/<{ID}:engagement_id>")
def get_engagement(engagement_id: int) -> Response:
    user = actor()
    engagement = engagement_queries.get_engagement_or_404(user, engagement_id)
    return jsonify(serializers.engagement_json(engagement, user))


@bp.post(f"/engagements/<{ID}:engagement_id>/transitions")
def transition_engagement(engagement_id: int) -> Response:
    user = actor()
    engagement = engagement_queries.get_engagement_or_404(user, engagement_id)
    values = parse_body(schemas.ENGAGEMENT_TRANSITION, json_body())
    engagement_services.transition_engagement(
        engagement,
        user,
        values["action"],
        values.get("comment", ""),
        expected_version=values["version"],
    )
    db.session.commit()
    return jsonify(serializers.engagement_json(engagement, user))


@bp.post(f"/engagements/<{ID}:engagement_id>/feedback")
def rate_engagement(engagement_id: int) -> tuple[Response, int, dict[str, str]]:
    user = actor()
    engagement = engagement_queries.get_engagement_or_404(user, engagement_id)
    values = parse_body(schemas.FEEDBACK, json_body())
    delivery_services.rate_engagement(engagement, user, values["rating"], values.get("comment", ""))
    db.session.commit()
    location = url_for("api.get_engagement", engagement_id=engagement.id)
    return jsonify(serializers.engagement_json(engagement, user)), 201, {"Location": location}


@bp.get(f"/engagements/<{ID}:engagement_id>/history")
def engagement_history(engagement_id: int) -> Response:
    user = actor()
    engagement = engagement_queries.get_engagement_or_404(user, engagement_id)
    entries = audit.history_for(user, engagement)
    return jsonify(items=[serializers.history_json(e) for e in entries])


@bp.get(f"/engagements/<{ID}:engagement_id>/activities")
def list_activities(engagement_id: int) -> Response:
    user = actor()
    engagement = engagement_queries.get_engagement_or_404(user, engagement_id)
    visible = [a for a in engagement.activities if delivery_policy.can_view(user, a)]
    return jsonify(items=[serializers.activity_json(a, user) for a in visible])


@bp.post(f"/engagements/<{ID}:engagement_id>/activities")
def plan_activity(engagement_id: int) -> tuple[Response, int, dict[str, str]]:
    user = actor()
    engagement = engagement_queries.get_engagement_or_404(user, engagement_id)
    values = parse_body(schemas.ACTIVITY_PLAN, json_body())
    activity = delivery_services.plan_activity(
        engagement, user, delivery_services.PlanData(**values)
    )
    db.session.commit()
    location = url_for("api.get_activity", activity_id=activity.id)
    return jsonify(serializers.activity_json(activity, user)), 201, {"Location": location}


@bp.get(f"/activities/<{ID}:activity_id>")
def get_activity(activity_id: int) -> Response:
    user = actor()
    return jsonify(serializers.activity_json(get_activity_or_404(user, activity_id), user))


@bp.post(f"/activities/<{ID}:activity_id>/transitions")
def transition_activity(activity_id: int) -> Response:
    user = actor()
    activity = get_activity_or_404(user, activity_id)
    values = parse_body(schemas.ACTIVITY_TRANSITION, json_body())
    action, version = values.pop("action"), values.pop("version")
    comment = values.pop("comment", "")
    if action == "record":
        missing = {
            name: ["Required to record a delivered activity."]
            for name in ("delivered_on", "duration_hours")
            if name not in values
        }
        if missing:
            raise ValidationFailed(missing, "The request body does not fit the schema.")
        delivery_services.record_activity(
            activity, user, delivery_services.RecordData(**values), expected_version=version
        )
    else:
        if values:
            raise ValidationFailed(
                {name: [f"Only sent with action 'record', not '{action}'."] for name in values},
                "The request body does not fit the schema.",
            )
        delivery_services.transition_activity(
            activity, user, action, comment, expected_version=version
        )
    db.session.commit()
    return jsonify(serializers.activity_json(activity, user))


@bp.get("/reports/summary")
def reports_summary() -> Response:
    user = actor()
    if user.role not in PROGRAMME_ROLES:
        raise NotAllowed("Programme reports are for Efus staff and administrators.")
    args = parse_query(request.args, ["start", "end"])
    try:
        figures = report_queries.summary(args.get("start"), args.get("end"))
    except PeriodError as exc:
        raise BadQuery({exc.field: [exc.message]}) from exc
    return jsonify(figures)


@bp.get("/experts")
def list_experts() -> Response:
    user = actor()
    view = api_policy.directory_view(user)
    active = engagement_queries.active_engagement_counts()
    return _page(
        visible_organisations(user),
        lambda org: serializers.organisation_json(org, view, active),
    )


@bp.cli.command("create-token")
@click.argument("email")
@click.option("--name", default="Command-line token", show_default=True, help="Shown on /account.")
def create_token_command(email: str, name: str) -> None:
    """Create a personal API token for EMAIL and print it (it is shown only this once)."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account with the e-mail address {email!r}.")
    try:
        new = tokens.create_token(user, name)
    except ValidationFailed as exc:
        details = " ".join(m for msgs in exc.errors.values() for m in msgs)
        raise click.ClickException(f"{exc.message} {details}") from exc
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"API token {new.token.name!r} for {user.email}; it is shown only once:", err=True)
    click.echo(new.secret)
