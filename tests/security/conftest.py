"""Shared helpers of the security suite: the URL-map world of the tenant sweeps, anonymous
client, and the payloads every text field is tried with."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

# The sweep worlds already built for tenant isolation: reused, not copied.
from tests.api.conftest import Api, api  # noqa: F401 - fixtures re-exported for this folder
from tests.api.test_tenant_isolation import world as api_world  # noqa: F401 - fixture
from tests.assist.test_csrf import csrf_client  # noqa: F401 - fixture re-exported
from tests.assist.test_tenant_isolation import world  # noqa: F401 - fixture re-exported

#: Only the test's own HTML may carry these: a page that shows them was not escaped.
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
XSS_RAW_MARKERS = ("<script>alert(1)", "<img src=x")
#: The payload as Jinja's autoescape writes it.
XSS_ESCAPED = (
    "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;"
)


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.location


def allowed(response) -> bool:
    """The role got in: a page, or a redirect somewhere other than the sign-in page."""
    return response.status_code == 200 or (
        response.status_code == 302 and not is_login_redirect(response)
    )


def refused(response) -> bool:
    return response.status_code in (403, 404)


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()
