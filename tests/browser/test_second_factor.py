"""A staff member sets up two-step sign-in (the test computes the codes from the key on the page),
signs out, and signs in again with password and code; a wrong or replayed code is refused.
axe-core checks the set-up, recovery-code and code pages; the idle warning appears in time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, serious_violations, sign_in


def password_step(page: Page, base_url: str, email: str) -> None:
    """Only the password form (conftest's sign_in may go on to the second factor itself)."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_staff_enrols_totp_then_signs_in_with_a_code(
    page: Page, live_server: str, console_errors
) -> None:
    checked: dict[str, list] = {}
    password_step(page, live_server, "staff@assist.example")
    # Staff cannot do anything before a second factor is set up.
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    page.goto(f"{live_server}/requests/review")
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    checked["set-up"] = serious_violations(page)
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # drawn by the server, as SVG

    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your app").fill("123456" if totp.now() != "123456" else "654321")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("#code-error")).to_contain_text("not right")
    checked["set-up with error"] = serious_violations(page)

    # A refused code keeps the same key (only opening the page again makes a new one).
    assert page.locator("#totp-secret").inner_text().strip() == secret
    enrolment_code = totp.now()
    page.get_by_label("Code from your app").fill(enrolment_code)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    checked["recovery codes"] = serious_violations(page)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    sign_out(page)

    password_step(page, live_server, "staff@assist.example")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    checked["code"] = serious_violations(page)
    page.get_by_label("Code").fill("000000" if enrolment_code != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#code-error")).to_contain_text("not right")
    checked["code refused"] = serious_violations(page)
    # The code already used for the set-up is a replay: refused even within its 30 seconds.
    page.get_by_label("Code").fill(enrolment_code)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#code-error")).to_contain_text("already used")
    # The next code (one step of drift is allowed) lets the staff member in.
    page.get_by_label("Code").fill(totp.at(datetime.now(UTC) + timedelta(seconds=30)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()

    page.get_by_role("link", name="Account security").click()
    expect(page.get_by_text("On: each sign-in asks for a code")).to_be_visible()
    expect(page.get_by_text("This session")).to_be_visible()
    checked["account security"] = serious_violations(page)

    assert checked == {name: [] for name in checked}, checked
    # 401 and 422 answers show in the console; what must never appear is a CSP refusal or a
    # script error.
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []


def test_idle_warning_comes_before_the_session_ends(page: Page, live_server: str) -> None:
    page.clock.install()
    sign_in(page, live_server, "official@assist.example")
    expect(page.get_by_role("heading", name="Requests of Málaga")).to_be_visible()
    assert page.locator("body").get_attribute("data-idle-seconds") == "1800"
    page.clock.fast_forward("27:00")
    expect(page.locator("#session-warning")).to_have_count(0)
    page.clock.fast_forward("01:30")
    warning = page.get_by_role("alert").filter(has_text="signed out in 2 minutes")
    expect(warning).to_be_visible()
    page.get_by_role("button", name="Stay signed in").click()
    expect(page.locator("#session-warning")).to_have_count(0)
    assert serious_violations(page) == []
