"""The API's one error shape, {"error": {"code", "message", "fields"}}, for every failure."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from assist.api.schemas import BadQuery
from assist.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.workflow import InvalidTransition

#: WWW-Authenticate for a missing credential, and for one that is not (or no longer) valid.
CHALLENGE = 'Bearer realm="PREPARE Assist"'
REFUSED_CHALLENGE = (
    'Bearer realm="PREPARE Assist", error="invalid_token", '
    'error_description="The token is unknown, malformed or revoked."'
)

#: status -> (code, default message)
CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthenticated", "Send a valid personal API token: Authorization: Bearer <token>."),
    403: ("forbidden", "Your account does not allow this."),
    404: ("not_found", "There is no such resource, or it is not visible to your account."),
    405: ("method_not_allowed", "This address does not accept that method."),
    409: ("conflict", "This changed in the meantime, or the action is not possible now."),
    413: ("payload_too_large", "The body is larger than the service accepts."),
    415: ("unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."),
    422: ("validation_failed", "Some fields need your attention."),
    429: ("rate_limited", "Too many requests in a short time. Wait a little, then try again."),
    500: ("server_error", "The service could not complete this. Nothing was changed."),
}


class ApiError(Exception):
    """A refusal decided at the API's edge (authentication, body format), with its status."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        fields: dict[str, list[str]] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or CODES[status][1])
        self.status = status
        self.message = message
        self.fields = fields
        self.headers = headers


def error_response(
    status: int,
    message: str | None = None,
    fields: dict[str, list[str]] | None = None,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    default_code, default_message = CODES.get(status, ("error", "The request failed."))
    body: dict[str, Any] = {
        "code": code or default_code,
        "message": message or default_message,
        "fields": fields or {},
    }
    response = jsonify(error=body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", CHALLENGE)
    return response


def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    if status == 429 and (retry := getattr(exc, "retry_after", None)):
        headers["Retry-After"] = str(retry)
    message = None if status in CODES else (exc.description or exc.name)
    return error_response(status, message, headers=headers)


def register(bp: Blueprint) -> None:
    """Blueprint handlers take precedence over the app's HTML/JSON ones inside /api/v1."""

    @bp.errorhandler(ApiError)
    def _api(exc: ApiError) -> Response:
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.fields, headers=exc.headers)

    @bp.errorhandler(ValidationFailed)
    def _validation(exc: ValidationFailed) -> Response:
        db.session.rollback()
        return error_response(422, exc.message, exc.errors)

    @bp.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        db.session.rollback()
        status = exc.status_code
        if isinstance(exc, NotAllowed):
            status = 403
        elif isinstance(exc, Conflict):
            status = 409
        return error_response(status, exc.message)

    @bp.errorhandler(InvalidTransition)
    def _transition(exc: InvalidTransition) -> Response:
        db.session.rollback()
        return error_response(409, str(exc), code="invalid_transition")

    @bp.errorhandler(BadQuery)
    def _query(exc: BadQuery) -> Response:
        db.session.rollback()
        return error_response(400, str(exc), exc.errors, code="invalid_query")

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        db.session.rollback()
        if isinstance(exc, RequestRedirect):
            return exc
        return http_error(exc)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        db.session.rollback()
        current_app.logger.exception("unhandled API error on %s %s", request.method, request.path)
        return error_response(500)

    @bp.before_app_request
    def _routing_errors() -> Response | None:
        """Unknown /api/v1 paths and wrong methods fail before any blueprint is chosen, so
        the blueprint's handlers never see them: answer them here in the API's shape."""
        exc = request.routing_exception
        prefix = bp.url_prefix or ""
        on_api = request.path == prefix or request.path.startswith(prefix + "/")
        if exc is None or not on_api or isinstance(exc, RequestRedirect):
            return None
        if isinstance(exc, HTTPException):
            return http_error(exc)
        return None
