"""Staff review a request, open the ranked experts and approve a match; the expert accepts;
the city official sees who was matched and why. axe-core checks every page on the way."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import serious_violations, sign_in

VPN = "Violence Prevention Network"


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_review_match_accept(page: Page, live_server: str, console_errors) -> None:
    checked: dict[str, list] = {}
    sign_in(page, live_server, "staff@assist.example")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    checked["queue"] = serious_violations(page)

    submitted = page.get_by_role("region", name=re.compile("^Submitted"))
    submitted.get_by_role("link", name=re.compile("Multi-agency roundtable")).click()
    page.get_by_role("button", name="Take into review").click()
    expect(page.locator("#request-status")).to_have_text("In review")
    checked["request in review"] = serious_violations(page)
    page.get_by_role("button", name="Move to matching").click()
    expect(page.locator("#request-status")).to_have_text("Matching an expert")

    page.get_by_role("link", name="Ranked experts").click()
    expect(page.get_by_role("heading", name=re.compile("Expert organisations for"))).to_be_visible()
    checked["ranking"] = serious_violations(page)
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=VPN, exact=True))
    card.get_by_text(f"Propose {VPN}").first.click()
    card.get_by_label("Note to the expert organisation").fill("Please start with a joint kick-off.")
    reason = card.get_by_label(re.compile("Why this organisation"))
    if reason.count():
        reason.fill("Experience with release preparation in Spain.")
    card.get_by_role("button", name=f"Propose {VPN}").click()

    expect(page.locator("#engagement-status")).to_have_text("Proposed")
    checked["engagement proposed"] = serious_violations(page)
    page.get_by_role("button", name="Approve the match").click()
    expect(page.locator("#engagement-status")).to_have_text("Approved, awaiting the expert")
    sign_out(page)

    sign_in(page, live_server, "expert@assist.example")
    expect(
        page.get_by_role("heading", name=re.compile("Invitations and engagements"))
    ).to_be_visible()
    expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    checked["invitations"] = serious_violations(page)
    page.get_by_role("link", name=re.compile("Multi-agency roundtable")).click()
    expect(page.get_by_role("note")).to_contain_text("Please start with a joint kick-off.")
    checked["invitation"] = serious_violations(page)
    page.get_by_role("button", name="Accept the engagement").click()
    expect(page.locator("#engagement-status")).to_have_text("Accepted by the expert")
    sign_out(page)

    sign_in(page, live_server, "official@assist.example")
    page.get_by_role("link", name="Multi-agency roundtable to prepare releases").click()
    expect(page.locator("#request-status")).to_have_text("Expert engaged")
    expect(page.get_by_role("link", name=VPN)).to_be_visible()
    expect(page.get_by_text("Why Efus proposed them:")).to_be_visible()
    checked["city view"] = serious_violations(page)

    assert checked == {name: [] for name in checked}, checked
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []
