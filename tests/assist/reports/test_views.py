"""Report pages: who may see them, the period form, the page's content, the engagement summary."""

from __future__ import annotations

import re

import pytest

from assist.extensions import db
from assist.roles import Role
from tests.assist.reports.conftest import PERIOD
from tests.factories import make_user

STAFF_URLS = [
    "/reports/",
    "/reports/coverage",
    "/reports/requests.csv",
    "/reports/engagements.csv",
    "/reports/activities.csv",
    "/reports/funder-pack.zip",
]


@pytest.mark.parametrize("url", STAFF_URLS)
@pytest.mark.parametrize("role", [Role.CITY_OFFICIAL, Role.EXPERT])
def test_staff_reports_refuse_cities_and_experts(app, client, login_as, url, role) -> None:
    login_as(make_user(role))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", STAFF_URLS)
def test_staff_reports_ask_anonymous_visitors_to_sign_in(app, client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admin_see_the_reports(app, client, login_as, role) -> None:
    login_as(make_user(role))
    for url in STAFF_URLS:
        response = client.get(url, query_string=PERIOD, buffered=True)  # closes the ZIP file
        assert response.status_code == 200, url


def assert_no_inline_code(html: str) -> None:
    """The CSP allows only scripts and styles from static/: nothing inline."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_the_report_page_shows_the_figures_as_charts_and_tables(programme, client, login_as):
    login_as(programme.staff)
    response = client.get("/reports/", query_string=PERIOD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_no_inline_code(html)
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/js/reports.js" in html
    assert html.count("<canvas") == 6
    assert html.count("data-chart='") == 6
    assert html.count("<caption") >= 7  # one per chart, and the timing table
    assert '<th scope="row" class="fw-normal">Málaga (reports)</th><td class="text-end">3</td>' in (
        html
    )
    assert 'Municipal staff</th><td class="text-end">4</td>' in html
    assert '<td class="text-end">10.5</td>' in html  # median days to match
    assert "funder-pack.zip?start=2025-01-01&amp;end=2025-12-31" in html


def test_no_period_means_the_last_twelve_months(app, client, login_as) -> None:
    login_as(make_user(Role.STAFF))
    html = client.get("/reports/").get_data(as_text=True)
    assert re.search(r'name="start"[^>]*value="\d{4}-\d{2}-\d{2}"', html)
    assert re.search(r'name="end"[^>]*value="\d{4}-\d{2}-\d{2}"', html)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2025-13-01"}, "Not a date: give it as YYYY-MM-DD"),
        ({"end": "yesterday"}, "Not a date: give it as YYYY-MM-DD"),
        ({"start": "2025-06-01", "end": "2025-01-01"}, "is after the end"),
        ({"start": "0001-01-01"}, "out of range"),
        ({"end": "9999-12-31"}, "out of range"),
        ({"start": "2025-01-01\x00"}, "Not a date"),
    ],
)
@pytest.mark.parametrize("url", ["/reports/", "/reports/requests.csv", "/reports/funder-pack.zip"])
def test_an_invalid_period_says_what_to_fix(app, client, login_as, url, query, message) -> None:
    login_as(make_user(Role.STAFF))
    response = client.get(url, query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)


def test_the_coverage_grid_marks_gaps_with_text(app, client, login_as) -> None:
    login_as(make_user(Role.STAFF))
    html = client.get("/reports/coverage").get_data(as_text=True)
    assert_no_inline_code(html)
    assert "no expert" in html
    assert '<th scope="col">Juveniles</th>' in html
    assert '<th scope="row">Violent Islamist (jihadist)</th>' in html


# The engagement summary -------------------------------------------------------------------------


def summary_url(engagement) -> str:
    return f"/reports/engagements/{engagement.id}/summary"


def test_the_summary_shows_who_what_activities_outcomes_and_rating(programme, client, login_as):
    login_as(programme.official_malaga)
    response = client.get(summary_url(programme.engagements["e2"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_no_inline_code(html)
    assert "/static/css/print.css" in html
    assert "Málaga (reports) (Spain)" in html
    assert "Expert Y (reports)" in html
    assert "Apr 1, 2025" in html and "Training" in html  # the |date filter, English format
    assert "<li>Prison: 20</li>" in html
    assert "A shared checklist." in html
    assert "4 out of 5" in html and "Useful and concrete." in html
    assert "Study visit" not in html  # cancelled activities are left out
    assert "@assist.example" not in html


@pytest.mark.parametrize("who", ["staff", "official_malaga", "expert_x"])
def test_the_summary_is_open_to_staff_and_both_sides(programme, client, login_as, who) -> None:
    login_as(getattr(programme, who))
    assert client.get(summary_url(programme.engagements["e1"])).status_code == 200


@pytest.mark.parametrize("who", ["official_rotterdam", "expert_y"])
def test_the_summary_is_404_for_others(programme, client, login_as, who) -> None:
    login_as(getattr(programme, who))
    response = client.get(summary_url(programme.engagements["e1"]))
    assert response.status_code == 404
    assert "Expert X" not in response.get_data(as_text=True)


def test_the_summary_of_an_unknown_engagement_is_404(app, client, login_as) -> None:
    login_as(make_user(Role.STAFF))
    assert client.get("/reports/engagements/999999/summary").status_code == 404


# The reader's language -------------------------------------------------------------------------


def test_figures_and_dates_follow_the_readers_locale(programme, client, login_as) -> None:
    # Number and date formats come from CLDR (Babel), whatever the catalogues translate.
    programme.staff.language = "fr"
    db.session.flush()
    login_as(programme.staff)
    html = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)
    assert 'lang="fr"' in html
    assert '<td class="text-end">10,5</td>' in html  # median days to match, decimal comma
    assert "1 janv. 2025" in html and "31 déc. 2025" in html  # the period's heading
    assert "10.5<" not in html


def test_the_summary_follows_the_readers_locale(programme, client, login_as) -> None:
    programme.official_malaga.language = "de"
    db.session.flush()
    login_as(programme.official_malaga)
    html = client.get(summary_url(programme.engagements["e2"])).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "01.04.2025" in html  # German medium date
    assert "Apr 1, 2025" not in html
