"""One JSON log line per request (request id, user id, route, status, duration), and readiness.

The line carries no personal data and no free text: the route pattern (``/requests/<id>``), not
the URL; the user's numeric id, not their name or address; nothing from forms or query strings.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask, Response, g, request
from flask_login import current_user

from assist.extensions import db

access_log = logging.getLogger("assist.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = getattr(record, "payload", None) or {"message": record.getMessage()}
        return json.dumps(
            {
                "ts": round(record.created, 3),
                "level": record.levelname,
                "logger": record.name,
                **payload,
            },
            separators=(",", ":"),
        )


def register_request_logging(app: Flask) -> None:
    if not access_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        # A proxy's id is kept when it looks like one; anything else is replaced.
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _log(response: Response) -> Response:
        if request.endpoint == "static":
            return response
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        user_id = current_user.id if _signed_in() else None
        response.headers["X-Request-ID"] = g.get("request_id", "")
        access_log.info(
            "request",
            extra={
                "payload": {
                    "request_id": g.get("request_id"),
                    "user_id": user_id,
                    "method": request.method,
                    "route": request.url_rule.rule if request.url_rule else None,
                    "status": response.status_code,
                    "duration_ms": round(duration, 2),
                }
            },
        )
        return response


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:
        return False


@cache
def migration_head(directory: str) -> str | None:
    config = Config()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config).get_current_head()


def readiness(migrations_dir: Path) -> tuple[bool, str]:
    """Database reachable and at the latest migration."""
    try:
        current = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        db.session.rollback()
        return False, f"database not reachable ({type(exc).__name__})"
    head = migration_head(str(migrations_dir))
    if current != head:
        return (
            False,
            f"database at migration {current}, code expects {head}: run `flask db upgrade`",
        )
    return True, "ready"
