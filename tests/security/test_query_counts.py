"""List, detail, queue, ranking and report pages issue a fixed number of SQL statements, whatever
the number of rows (no N+1): the same page is counted with a few and with many rows.

Each page is opened once to warm the per-process caches (the ranking index, the session row),
then counted. The statement listener is the reports test's own ``count_statements``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from assist import audit
from assist.auth.models import Invitation, User
from assist.delivery.models import Activity, EngagementFeedback
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.engagements.models import ConflictOfInterest, Engagement
from assist.extensions import db
from assist.notifications.models import Notification
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus
from tests.assist.reports.conftest import activity, attach, engage
from tests.assist.reports.test_query_count import count_statements
from tests.factories import make_authority, make_organisation, make_request, make_user, tag

FEW, MANY = 2, 12
STATUSES = [RequestStatus.MATCHING, RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW]
THEMES = ["release_transition", "housing", "employment"]


@dataclass
class World:
    official: User
    staff: User
    admin: User
    expert: User
    authority: LocalAuthority
    organisation: ExpertOrganisation
    request: AssistanceRequest
    engagement: Engagement
    activity: Activity


def build(n: int) -> World:
    """n of everything a page lists: requests, organisations, engagements of one request,
    activities (with an attachment each) of one engagement, audit entries, notifications,
    conflicts, invitations and users."""
    authority = make_authority(f"Counted authority {n}")
    official = make_user(Role.CITY_OFFICIAL, authority=authority)
    staff = make_user(Role.STAFF)
    admin = make_user(Role.ADMIN)
    org = tag(
        make_organisation(f"Counted organisation {n}", description="Release preparation."),
        themes=["release_transition"],
        languages=["en"],
    )
    expert = make_user(Role.EXPERT, organisation=org)
    orgs = [
        tag(
            make_organisation(f"Counted org {n}-{i}", description="Training for probation."),
            themes=[THEMES[i % 3]],
            formats=["training"],
            languages=["en"],
        )
        for i in range(n)
    ]
    requests = [
        make_request(
            authority,
            created_by=official,
            status=STATUSES[i % 3],
            terms={"themes": [THEMES[i % 3]], "formats": ["training"], "languages": ["en"]},
        )
        for i in range(n)
    ]
    matching = next(r for r in requests if r.status == RequestStatus.MATCHING)
    now = datetime.now(UTC)
    for i, other in enumerate(orgs):
        # Approved ones are on the city's page too; proposed ones only on Efus's.
        status = [EngagementStatus.APPROVED, EngagementStatus.PROPOSED][i % 2]
        e = engage(matching, other, status, now, by=staff)
        audit.record(staff, "propose_match", e, to_state="proposed", comment=f"Fit {i}")
        audit.record(staff, "start_review", matching, comment=f"Step {i}")
        make_user(Role.EXPERT, organisation=other)
    for i in range(n):
        make_user(Role.CITY_OFFICIAL, authority=make_authority(f"Counted authority {n}-{i}"))
    engaged = make_request(authority, created_by=official, status=RequestStatus.ENGAGED)
    engagement = engage(engaged, org, EngagementStatus.DELIVERING, now, by=staff, accepted=now)
    rows = []
    for i in range(n):
        row = activity(
            engagement,
            [ActivityStatus.PLANNED, ActivityStatus.CONFIRMED, ActivityStatus.DELIVERED][i % 3],
            "training",
            by=expert,
            delivered=date(2026, 1, 1 + i),
            participants={"probation": i + 1},
        )
        attach(row, expert, f"counted-{n}-{i}", f"agenda-{i}.pdf")
        audit.record(expert, "record", row, comment=f"Recorded {i}")
        audit.record(expert, "accept", engagement, comment=f"Note {i}")
        rows.append(row)
    db.session.add(
        EngagementFeedback(
            engagement_id=engagement.id, rating=4, comment="Fine.", created_by_id=official.id
        )
    )
    for i in range(n):
        for user in (official, staff, expert):
            db.session.add(Notification(user=user, message=f"Note {i}", link="/requests/"))
        db.session.add(
            ConflictOfInterest(
                organisation=orgs[i], authority=authority, reason=f"Reason {i}", created_by=staff
            )
        )
        db.session.add(
            Invitation(
                email=f"invitee-{n}-{i}@assist.example",
                name=f"Invitee {i}",
                role=Role.EXPERT,
                organisation_id=orgs[i].id,
                token_hash=f"{n:02d}{i:02d}".ljust(64, "0"),
                invited_by_id=staff.id,
                expires_at=datetime(2099, 1, 1, tzinfo=UTC),
            )
        )
    db.session.flush()
    return World(official, staff, admin, expert, authority, org, matching, engagement, rows[0])


#: (who, page); placeholders filled from each world.
PAGES = [
    ("official", "/requests/"),
    ("official", "/requests/{request}"),
    ("official", "/engagements/"),
    ("official", "/engagements/{engagement}"),
    ("official", "/notifications"),
    ("official", "/account"),
    ("staff", "/requests/"),
    ("staff", "/requests/review"),
    ("staff", "/requests/{request}"),
    ("staff", "/requests/{request}/experts"),
    ("staff", "/engagements/"),
    ("staff", "/engagements/{engagement}"),
    ("staff", "/matching"),
    ("staff", "/conflicts"),
    ("staff", "/invitations"),
    ("staff", "/admin/organisations"),
    ("staff", "/admin/authorities"),
    ("staff", "/organisations/{organisation}"),
    ("staff", "/notifications"),
    ("staff", "/reports/?start=2000-01-01&end=2100-12-31"),
    ("staff", "/reports/engagements/{engagement}/summary"),
    ("admin", "/admin/users"),
    ("expert", "/engagements/"),
    ("expert", "/engagements/{engagement}"),
    ("expert", "/activities/{activity}/record"),
    ("expert", "/organisations/{organisation}"),
]


@pytest.fixture
def worlds(app, monkeypatch, tmp_path):
    # Lists show every row, so a per-row query would show at MANY as well as at FEW.
    monkeypatch.setitem(app.config, "PER_PAGE", 100)
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    return build(FEW), build(MANY)


def count(client, login_as, world: World, who: str, page: str) -> tuple[int, list[str]]:
    target = page.format(
        request=world.request.id,
        engagement=world.engagement.id,
        organisation=world.organisation.id,
        activity=world.activity.id,
    )
    login_as(getattr(world, who))
    warm = client.get(target)
    assert warm.status_code == 200, (who, target, warm.status_code)
    with count_statements() as statements:
        response = client.get(target)
    assert response.status_code == 200, (who, target, response.status_code)
    return len(statements), statements


@pytest.mark.parametrize(("who", "page"), PAGES, ids=[f"{w}:{p}" for w, p in PAGES])
def test_statements_do_not_grow_with_rows(app, client, login_as, worlds, who, page) -> None:
    few, many = (count(client, login_as, world, who, page) for world in worlds)
    extra = many[1][len(few[1]) :] if many[0] > few[0] else []
    assert few[0] == many[0], (f"{FEW} rows: {few[0]}, {MANY} rows: {many[0]}", extra[:3])
    assert few[0] < 40, few[0]
