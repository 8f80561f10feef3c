"""Browser tests: Debian's Chromium driven by Playwright against a live server per module."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from werkzeug.serving import make_server

from assist.demo import seed
from assist.extensions import db
from tests.conftest import CHROMIUM, ROOT, make_app, migrate_and_seed_taxonomy, require

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "browser demo password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    require(os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM}")
    require(AXE.exists(), "axe-core not installed (npm ci)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


#: The app behind each live server (by URL), for tests that prepare state through the services.
LIVE_APPS: dict[str, Flask] = {}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on a random port, over a fresh database file with the demo data."""
    path: Path = tmp_path_factory.mktemp("live") / "live.db"
    app = make_app(f"sqlite:///{path}", WTF_CSRF_ENABLED=True, TESTING=False)
    migrate_and_seed_taxonomy(app)
    with app.app_context():
        seed(DEMO_PASSWORD)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[url] = app
    yield url
    LIVE_APPS.pop(url, None)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def console_errors(page) -> list[str]:
    """Console errors (CSP refusals included) seen while the test ran."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical findings on the current page."""
    # evaluate() runs through DevTools, so axe is injected without weakening the page's CSP.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    violations = page.evaluate("async () => (await axe.run()).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


#: Authenticator keys of the accounts enrolled in this run and the last time step used, by
#: (server, e-mail): staff and admins set up a second factor at their first sign-in.
_TOTP: dict[tuple[str, str], tuple[str, int]] = {}


def _next_code(key: str, last_step: int) -> tuple[str, int]:
    """A code the server accepts (current step ± 1) and has not seen (after ``last_step``)."""
    totp = pyotp.TOTP(key)
    while (step := max(totp.timecode(time.time()), last_step + 1)) > totp.timecode(time.time()) + 1:
        time.sleep(1)
    return totp.generate_otp(step), step


def sign_in(
    page, base_url: str, email: str, password: str = DEMO_PASSWORD, t: Callable[[str], str] = str
) -> None:
    """Sign in through the pages, with the second factor when the account has or needs one.

    ``t`` gives a label in the page's language (see ``translator``); the default is English."""
    page.goto(f"{base_url}/login")
    page.get_by_label(t("E-mail address")).fill(email)
    page.get_by_label(t("Password")).fill(password)
    page.get_by_role("button", name=t("Sign in")).click()
    page.wait_for_url(lambda url: not url.endswith("/login"))
    if page.url.endswith("/account/2fa"):
        key = page.locator("#totp-secret").inner_text().strip()
        code, step = _next_code(key, -1)
        page.get_by_label(t("Code from your app")).fill(code)
        page.get_by_role("button", name=t("Turn on two-step sign-in")).click()
        _TOTP[(base_url, email)] = (key, step)
        page.get_by_role("link", name=t("I have saved them: continue")).click()
    elif page.url.endswith("/login/code"):
        key, last_step = _TOTP[(base_url, email)]
        code, step = _next_code(key, last_step)
        page.get_by_label(t("Code")).fill(code)
        page.get_by_role("button", name=t("Verify")).click()
        _TOTP[(base_url, email)] = (key, step)


def translator(base_url: str, locale: str) -> Callable[..., str]:
    """The live app's own translation of a message, as its pages show it in ``locale``."""
    from flask_babel import force_locale, gettext, pgettext

    app = LIVE_APPS[base_url]

    def t(message: str, context: str | None = None, **values: object) -> str:
        with app.test_request_context(), force_locale(locale):
            if context:
                return pgettext(context, message, **values)
            return gettext(message, **values)

    return t
