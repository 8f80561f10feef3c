"""Reports are aggregate SQL: the number of statements is the same for 2 and for 20 rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from assist.extensions import db
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus
from tests.assist.reports.conftest import PERIOD, activity, at, attach, engage, submitted
from tests.factories import make_authority, make_organisation, make_user


@contextmanager
def count_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    target = db.engine  # in the tests, the connection every session is bound to
    sa.event.listen(target, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(target, "before_cursor_execute", before_cursor_execute)


def build(n: int):
    """n requests from n authorities, each with an engagement, an activity and an attachment."""
    staff = make_user(Role.STAFF)
    expert = make_user(Role.EXPERT)
    themes = ["housing", "employment", "evaluation"]
    for i in range(n):
        authority = make_authority(f"Authority {n}-{i}", country=["ES", "NL", "FR"][i % 3])
        req = submitted(authority, RequestStatus.ENGAGED, at(2025, 3, 1 + i % 28), themes[: i % 4])
        engagement = engage(
            req,
            make_organisation(f"Organisation {n}-{i}"),
            EngagementStatus.DELIVERING,
            at(2025, 4, 1),
            by=staff,
            accepted=at(2025, 4, 2 + i % 20),
        )
        row = activity(
            engagement,
            ActivityStatus.CONFIRMED,
            ["training", "workshop"][i % 2],
            by=expert,
            delivered=date(2025, 6, 1 + i % 28),
            participants={"probation": i + 1, "police": 2},
        )
        attach(row, expert, f"missing-{n}-{i}", f"file-{i}.pdf")
    return staff


URLS = [
    "/reports/",
    "/reports/requests.csv",
    "/reports/engagements.csv",
    "/reports/activities.csv",
    "/reports/funder-pack.zip",
    "/reports/coverage",
]


@pytest.mark.parametrize("url", URLS)
def test_statements_do_not_grow_with_rows(app, client, login_as, url, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    counts = []
    for n in (2, 20):
        staff = build(n)
        login_as(staff)
        with count_statements() as statements:
            response = client.get(url, query_string=PERIOD, buffered=True)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[0] < 30


def test_the_summary_page_does_not_grow_with_activities(app, client, login_as) -> None:
    staff = make_user(Role.STAFF)
    expert = make_user(Role.EXPERT)
    req = submitted(make_authority(), RequestStatus.ENGAGED, at(2025, 3, 1), ["housing"])
    engagements = [
        engage(req, make_organisation(), EngagementStatus.DELIVERING, at(2025, 4, 1), by=staff)
        for _ in range(2)
    ]
    counts = []
    login_as(staff)
    for engagement, n in zip(engagements, (2, 20), strict=True):
        for i in range(n):
            row = activity(
                engagement,
                ActivityStatus.CONFIRMED,
                "training",
                by=expert,
                delivered=date(2025, 6, 1),
                participants={"probation": i + 1},
            )
            attach(row, expert, f"summary-{engagement.id}-{i}", "agenda.pdf")
        with count_statements() as statements:
            response = client.get(f"/reports/engagements/{engagement.id}/summary")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
