"""A city official signs in, saves a draft, fixes an error, submits; axe finds nothing serious."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import serious_violations, sign_in


def test_official_drafts_fixes_and_submits(page: Page, live_server: str, console_errors) -> None:
    checked: dict[str, list] = {}
    sign_in(page, live_server, "official@assist.example")
    expect(page.get_by_role("heading", name="Requests of Málaga")).to_be_visible()
    checked["list"] = serious_violations(page)

    page.get_by_role("link", name="New request").click()
    expect(page.get_by_role("heading", name="New assistance request")).to_be_visible()
    checked["form"] = serious_violations(page)

    page.get_by_label("Title").fill("Case managers' training on release preparation")
    page.get_by_label("Local context").fill(
        "Probation and municipal services prepare releases separately. "
        "Call our coordinator on +34 952 13 50 00 for details."
    )
    page.get_by_label("Needs").fill("A two-day training for municipal case managers.")
    page.get_by_label("Release and transition").check()
    page.get_by_label("Training", exact=True).check()
    page.get_by_label("Spanish").check()
    page.get_by_role("button", name="Save draft").click()

    # The refusal is next to the field and says how to rephrase; everything typed is kept.
    error = page.locator("#context-error")
    expect(error).to_contain_text("phone number")
    expect(page.get_by_label("Needs")).to_have_value(
        "A two-day training for municipal case managers."
    )
    expect(page.get_by_label("Spanish")).to_be_checked()
    checked["form with errors"] = serious_violations(page)

    page.get_by_label("Local context").fill(
        "Probation and municipal services prepare releases separately and too late; "
        "case managers lack a shared approach."
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    expect(page.locator("#request-status")).to_have_text("Draft")
    checked["detail"] = serious_violations(page)

    page.get_by_role("button", name="Submit to Efus").click()
    expect(page.locator("#request-status")).to_have_text("Submitted")
    expect(page.get_by_text(re.compile("Draft → Submitted"))).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
    row = page.get_by_role("row", name=re.compile("Case managers' training"))
    expect(row).to_contain_text("Submitted")
    assert checked == {name: [] for name in checked}, checked
    # Error statuses (422) show in the console too; what must never appear is a CSP refusal
    # or a script error.
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []


def test_another_authoritys_request_is_not_found(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "official.rotterdam@assist.example")
    response = page.goto(f"{live_server}/requests/1")  # a Málaga request in the demo data
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert serious_violations(page) == []
