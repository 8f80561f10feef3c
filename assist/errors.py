"""Domain errors raised by services, and the one place that turns them into readable 4xx answers."""

from __future__ import annotations

import re

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from assist.workflow import InvalidTransition


class DomainError(Exception):
    """Base for errors whose message is written for the person who caused them."""

    status_code = 400

    def __init__(self, message: str) -> None:
        message = str(message)  # a lazy translation is rendered now, in the reader's language
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``errors`` maps a field name to messages saying what to fix."""

    status_code = 422

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message or _("Some fields need your attention."))
        self.errors = errors


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def _render(status: int, title: object, message: object) -> tuple[Response | str, int]:
    title, message = str(title), str(message)  # the labels below are lazy: render them now
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


#: Flask-Limiter's default description is the limit itself ("5 per 15 minutes").
_BARE_LIMIT = re.compile(r"^\d+ per ")

_TITLES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your account does not give access to this page or action.")),
    404: (_l("Not found"), _l("There is no such page, or it is not visible to your account.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (
        # NOTE: error page title: someone else changed the object between reading and saving.
        _l("Changed meanwhile"),
        _l("Someone changed this in the meantime. Reload and try again."),
    ),
    # NOTE: error page title: what was sent (a file, a form) is over the size limit.
    413: (_l("Too large"), _l("What you sent is larger than the service accepts.")),
    429: (
        _l("Too many attempts"),
        _l("You have tried this too often in a short time. Wait a few minutes, then try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("The service could not complete this. Nothing was changed; try again in a moment."),
    ),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> tuple[Response | str, int]:
        title = _TITLES.get(exc.status_code, (_("Cannot do that"), ""))[0]
        return _render(exc.status_code, title, exc.message)

    @app.errorhandler(StaleDataError)
    def stale(exc: StaleDataError) -> tuple[Response | str, int]:
        # A guarded UPDATE matched no row: someone else changed the object first.
        return _render(409, *_TITLES[409])

    @app.errorhandler(InvalidTransition)
    def invalid_transition(exc: InvalidTransition) -> tuple[Response | str, int]:
        return _render(409, _("Not possible now"), str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int] | HTTPException:
        code = exc.code or 500
        if code < 400:
            return exc
        title, message = _TITLES.get(code, (exc.name, exc.description or ""))
        if code == 429 and exc.description and not _BARE_LIMIT.match(exc.description):
            message = exc.description  # a limit with its own message (what to do, how long)
        if code == 400 and exc.description and "CSRF" in exc.description:
            message = _(
                "Your form's security token was missing or expired. "
                "Reload the page, then send the form again."
            )
        return _render(code, title, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, *_TITLES[500])
