"""Shared fixtures: one migrated database per backend, one rolled-back transaction per test.

The suite runs on SQLite always and on PostgreSQL too when TEST_DATABASE_URL is set: the
session-scoped ``app`` fixture is parametrised by backend, so every database test runs on both.
Under CI=true, a missing PostgreSQL, Redis or Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from assist import create_app
from assist.auth.models import User
from assist.directory.services import sync_taxonomy
from assist.engagements.ranking import reset_cache
from assist.extensions import db

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MATCHING_CACHE = Path(tempfile.mkdtemp(prefix="assist-matching-"))


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing; under CI that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI:
        missing = [
            name
            for name, present in (
                ("TEST_DATABASE_URL (PostgreSQL)", bool(TEST_DATABASE_URL)),
                ("TEST_REDIS_URL (Redis)", bool(TEST_REDIS_URL)),
                (f"Chromium at {CHROMIUM}", os.path.exists(CHROMIUM)),
                ("node_modules/axe-core", (ROOT / "node_modules/axe-core/axe.min.js").exists()),
            )
            if not present
        ]
        if missing:
            raise pytest.UsageError("CI=true but missing: " + ", ".join(missing))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Fast tests first; the browser tests (one live server per module) last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would.

    Otherwise Flask reuses the test's own app context, and the view would share (and could
    roll back) the test's session. Here the request gets its own session, bound to the same
    connection, so it sees the test's data and its rollbacks stay inside its own SAVEPOINT.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def backends() -> list[Any]:
    params = [pytest.param("sqlite", id="sqlite")]
    if TEST_DATABASE_URL:
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def database_url(backend: str, tmp_dir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / 'test.db'}"
    reset_postgres(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


def make_app(url: str, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "ASSIST_ENV": "development",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PER_PAGE": 5,
        "MATCHING_CACHE_DIR": str(MATCHING_CACHE),
    }
    return create_app({**config, **overrides})


def migrate_and_seed_taxonomy(app: Flask) -> None:
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        sync_taxonomy()
        db.session.commit()


@pytest.fixture(scope="session", params=backends())
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    url = database_url(request.param, tmp_path_factory.mktemp(request.param))
    application = make_app(url)
    application.test_client_class = IsolatedClient
    migrate_and_seed_taxonomy(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Wrap each test that uses the app in one transaction, rolled back at the end.

    The engine is swapped for a connection inside an open transaction; the session joins it
    with SAVEPOINTs (join_transaction_mode="create_savepoint"), so the app's own commits and
    rollbacks stay inside (flask-sqlalchemy issue #1171).
    """
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        engines = db.engines
        saved = []
        for key, engine in list(engines.items()):
            connection = engine.connect()
            transaction = connection.begin()
            engines[key] = connection  # type: ignore[assignment]
            saved.append((key, engine, connection, transaction))
        ctx = application.app_context()
        ctx.push()
        try:
            yield
        finally:
            db.session.remove()
            # The rollback below can take the stamp back to a number the cache has seen.
            reset_cache()
            ctx.pop()
            for key, engine, connection, transaction in saved:
                transaction.rollback()
                connection.close()
                engines[key] = engine


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Sign a user in on the test client without going through the (throttled) form."""

    def _login(user: User) -> FlaskClient:
        # A server-side session row that has passed the second factor, as after a full sign-in.
        from assist.auth.sessions import start_session

        _, token = start_session(user, user_agent="pytest", second_factor=True)
        with client.session_transaction() as session:
            session["_user_id"] = user.session_token
            session["_sid"] = token
            session["_fresh"] = True
        return client

    return _login


@pytest.fixture
def twin_apps(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Extra app instances (think: other gunicorn workers) with rate limits on, sharing the
    test's connection, so they see its data and share only what the service shares."""
    from assist.extensions import limiter

    made: list[tuple[Flask, Any]] = []
    with app.app_context():
        connection = db.engines[None]

    def _make(**overrides: Any) -> Flask:
        twin = make_app(app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=True, **overrides)
        twin.test_client_class = IsolatedClient
        with twin.app_context():
            made.append((twin, db.engines[None]))
            db.engines[None] = connection  # type: ignore[assignment]
        return twin

    yield _make
    for twin, engine in made:
        with twin.app_context():
            db.engines[None] = engine
            engine.dispose()
    # Flask-Limiter keeps one state per Limiter object, set by the last init_app: give the
    # suite's app its own back, or the twins' limits would go on applying to later tests.
    if made:
        limiter.init_app(app)
