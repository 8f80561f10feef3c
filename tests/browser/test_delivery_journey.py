"""An expert records a delivered activity with an attachment, the city confirms and rates, staff
close the engagement, and the report page shows the activity in its chart and table."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from assist.auth.models import User
from assist.delivery import services as delivery
from assist.directory.models import ExpertOrganisation
from assist.engagements import services as engagements
from assist.extensions import db
from assist.requests import services as requests
from assist.requests.models import AssistanceRequest
from tests.browser.conftest import LIVE_APPS, serious_violations, sign_in

TITLE = "Multi-agency roundtable to prepare releases"


def accepted_and_planned(live_server: str) -> int:
    """Bring the demo request to a confirmed plan through the services (not the subject here)."""
    with LIVE_APPS[live_server].app_context():
        user = {u.email: u for u in db.session.scalars(sa.select(User))}
        staff, expert = user["staff@assist.example"], user["expert@assist.example"]
        city = user["official@assist.example"]
        req = db.session.scalars(
            sa.select(AssistanceRequest).where(AssistanceRequest.title == TITLE)
        ).one()
        for action in ("start_review", "start_matching"):
            requests.transition_request(req, staff, action)
        vpn = db.session.scalar(
            sa.select(ExpertOrganisation.id).where(
                ExpertOrganisation.name == "Violence Prevention Network"
            )
        )
        engagement = engagements.propose_match(
            req, staff, engagements.Proposal(organisation_id=vpn, reason="Chosen for the test.")
        )
        engagements.transition_engagement(engagement, staff, "approve")
        engagements.transition_engagement(engagement, expert, "accept")
        delivery.plan_activity(
            engagement,
            expert,
            delivery.PlanData(
                format="roundtable", topic="First multi-agency roundtable", place="Málaga"
            ),
        )
        engagements.transition_engagement(engagement, city, "confirm_plan")
        db.session.commit()
        return engagement.id


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_record_confirm_rate_close_report(
    page: Page, live_server: str, tmp_path, console_errors
) -> None:
    engagement_id = accepted_and_planned(live_server)
    checked: dict[str, list] = {}
    agenda = tmp_path / "agenda.pdf"
    agenda.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

    sign_in(page, live_server, "expert@assist.example")
    page.goto(f"{live_server}/engagements/{engagement_id}")
    page.get_by_role("link", name="Record as delivered").click()
    page.get_by_label("Date delivered").fill((date.today() - timedelta(days=3)).isoformat())
    page.get_by_label("Duration (hours)").fill("4")
    page.get_by_label("Probation").fill("6")
    page.get_by_label("Police").fill("3")
    page.get_by_label("Municipal staff").fill("5")
    page.get_by_label("Summary").fill(
        "Roundtable with prison, probation, police and social services."
    )
    page.get_by_label("Outcomes").fill("Agreement on who informs whom before a release.")
    checked["record form"] = serious_violations(page)
    page.get_by_role("button", name="Record as delivered").click()
    expect(page.get_by_text("Activity recorded")).to_be_visible()
    page.get_by_label("Add a file (agenda, materials)").set_input_files(str(agenda))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="agenda.pdf")).to_be_visible()
    checked["engagement with activity"] = serious_violations(page)
    page.get_by_role("button", name="Mark all activities as delivered").click()
    expect(page.locator("#engagement-status")).to_have_text("Delivered")
    sign_out(page)

    sign_in(page, live_server, "official@assist.example")
    page.goto(f"{live_server}/engagements/{engagement_id}")
    page.get_by_role("button", name="Confirm this activity").click()
    expect(page.locator(".activity-status").first).to_have_text("Confirmed by the city")
    page.get_by_label("5 – excellent").check()
    page.get_by_label("Feedback").fill("Clear agreements; the protocol is being drafted.")
    checked["rating"] = serious_violations(page)
    page.get_by_role("button", name="Send the rating").click()
    expect(page.get_by_text("your rating is recorded")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, "staff@assist.example")
    page.goto(f"{live_server}/engagements/{engagement_id}")
    page.get_by_role("button", name="Close the engagement").click()
    expect(page.locator("#engagement-status")).to_have_text("Closed")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    chart = page.get_by_role("region", name="Activities by format")
    expect(chart.locator("canvas")).to_be_visible()
    row = chart.get_by_role("row", name=re.compile("Multi-agency roundtable"))
    expect(row.get_by_role("cell").first).to_have_text("1")
    groups = page.get_by_role("region", name=re.compile("Participants by professional group"))
    # The demo data's closed engagement had no police officers: these 3 are ours.
    expect(groups.get_by_role("row", name=re.compile("^Police"))).to_contain_text("3")
    checked["reports"] = serious_violations(page)

    assert checked == {name: [] for name in checked}, checked
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []
