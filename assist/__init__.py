"""PREPARE Assist: the Flask application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from werkzeug.routing import IntegerConverter, Map

from assist import i18n
from assist.config import load_config
from assist.extensions import csrf, db, limiter, login_manager, migrate
from assist.observability import register_request_logging

ROOT = Path(__file__).resolve().parent.parent

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(Path(app.instance_path), test_config))
    register_request_logging(app)  # first, so every response is logged, refusals included
    register_extensions(app)
    register_blueprints(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_cli(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return app


def register_models() -> None:
    """Import every model (complete metadata for Alembic) and the listeners that go with them."""
    from assist import audit  # noqa: F401
    from assist.auth import models as auth_models  # noqa: F401
    from assist.delivery import models as delivery_models  # noqa: F401
    from assist.directory import models as directory_models  # noqa: F401
    from assist.engagements import models as engagement_models  # noqa: F401
    from assist.engagements import ranking  # noqa: F401
    from assist.notifications import models as notification_models  # noqa: F401
    from assist.requests import models as request_models  # noqa: F401


def register_extensions(app: Flask) -> None:
    register_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # flashed in the visitor's language, as plain text
    login_manager.session_protection = "basic"
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)

    from assist.auth.loader import load_user

    # A cookie is good only with an open, unexpired session row (assist/auth/sessions.py).
    login_manager.user_loader(load_user)


def _configure_sqlite(engine: sa.Engine) -> None:
    """Foreign keys on, and real transactions so SAVEPOINTs work (pysqlite defers BEGIN)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` ids beyond what the database can store are a 404, not an overflow 500."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    from assist import main
    from assist.api import account as account_views
    from assist.api import views as api_views
    from assist.auth import views as auth_views
    from assist.delivery import attachment_views
    from assist.delivery import views as delivery_views
    from assist.directory import views as directory_views
    from assist.engagements import views as engagement_views
    from assist.errors import register_error_handlers
    from assist.notifications import views as notification_views
    from assist.reports import views as report_views
    from assist.requests import views as request_views

    for module in (
        main,
        auth_views,
        directory_views,
        request_views,
        engagement_views,
        notification_views,
        api_views,
        account_views,
        delivery_views,
        attachment_views,
        report_views,
    ):
        app.register_blueprint(module.bp)
    register_error_handlers(app)


def register_security_headers(app: Flask) -> None:
    production = app.config["ASSIST_ENV"] == "production"

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            h.setdefault("Cache-Control", "no-store")
        return response


def register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from assist.notifications.services import unread_count
    from assist.roles import Role
    from assist.workflow import EngagementStatus, RequestStatus

    @app.context_processor
    def _globals() -> dict[str, Any]:
        unread = unread_count(current_user) if current_user.is_authenticated else 0
        return {
            "Role": Role,
            "RequestStatus": RequestStatus,
            "EngagementStatus": EngagementStatus,
            "unread_notifications": unread,
        }


def register_cli(app: Flask) -> None:
    from assist.cli import commands

    for command in commands:
        app.cli.add_command(command)
