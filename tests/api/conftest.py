"""API test helpers: a bearer token per user, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from assist.api import tokens
from assist.auth.models import User
from assist.extensions import db


class Api:
    """Calls /api/v1 as a user, with a fresh bearer token each (never a session cookie)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._secrets: dict[int, str] = {}

    def token(self, user: User) -> str:
        if user.id not in self._secrets:
            self._secrets[user.id] = tokens.create_token(user, "tests").secret
            db.session.flush()
        return self._secrets[user.id]

    def __call__(self, method: str, path: str, user: User | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, path: str, user: User | None = None, **kw: Any) -> Any:
        return self("GET", path, user, **kw)

    def post(self, path: str, user: User | None = None, **kw: Any) -> Any:
        return self("POST", path, user, **kw)

    def patch(self, path: str, user: User | None = None, **kw: Any) -> Any:
        return self("PATCH", path, user, **kw)


@pytest.fixture
def api(app, client: FlaskClient) -> Api:
    return Api(app.test_client(use_cookies=False))


@pytest.fixture
def config_value(app) -> Iterator[Callable[[str, Any], None]]:
    """Set an app setting for one test, restored afterwards."""
    saved: dict[str, Any] = {}
    missing = object()

    def _set(key: str, value: Any) -> None:
        saved.setdefault(key, app.config.get(key, missing))
        app.config[key] = value

    yield _set
    for key, value in saved.items():
        if value is missing:
            app.config.pop(key, None)
        else:
            app.config[key] = value
