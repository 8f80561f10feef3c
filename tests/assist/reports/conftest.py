"""A small programme with known figures for 2025 (every number the tests assert is derived in the
comments here), and builders for engagements, activities and audit entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from assist.audit import AuditEntry
from assist.auth.models import User
from assist.delivery.models import Activity, Attachment, EngagementFeedback
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus
from tests.factories import make_authority, make_organisation, make_request, make_user

START, END = date(2025, 1, 1), date(2025, 12, 31)
PERIOD = {"start": "2025-01-01", "end": "2025-12-31"}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def submitted(
    authority: LocalAuthority, status: RequestStatus, when: datetime | None, themes: list[str]
) -> AssistanceRequest:
    req = make_request(authority, status=status, terms={"themes": themes, "formats": ["training"]})
    req.submitted_at = when
    return req


def engage(
    req: AssistanceRequest,
    org: ExpertOrganisation,
    status: EngagementStatus,
    created: datetime,
    *,
    by: User,
    accepted: datetime | None = None,
    closed: datetime | None = None,
) -> Engagement:
    engagement = Engagement(
        request=req, organisation=org, status=status, proposed_by=by, created_at=created
    )
    engagement.closed_at = closed
    db.session.add(engagement)
    db.session.flush()
    if accepted is not None:
        db.session.add(
            AuditEntry(
                actor=None,
                actor_role="expert",
                action="accept",
                object_type="engagements",
                object_id=engagement.id,
                from_state="approved",
                to_state="accepted",
                created_at=accepted,
            )
        )
    return engagement


def activity(
    engagement: Engagement,
    status: ActivityStatus,
    fmt: str,
    *,
    by: User,
    delivered: date | None = None,
    planned: date | None = None,
    participants: dict[str, int] | None = None,
    **kw: Any,
) -> Activity:
    participants = participants or {}
    row = Activity(
        engagement=engagement,
        status=status,
        format=fmt,
        topic=kw.pop("topic", f"{fmt} for the local partners"),
        planned_start=planned,
        delivered_on=delivered,
        duration_hours=6.0 if delivered else None,
        participants=participants,
        participants_total=sum(participants.values()) if delivered else None,
        summary=kw.pop("summary", "Worked through the release protocol." if delivered else ""),
        outcomes=kw.pop("outcomes", "A shared checklist." if delivered else ""),
        created_by=by,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class Programme:
    staff: User
    malaga: LocalAuthority
    rotterdam: LocalAuthority
    rennes: LocalAuthority
    org_x: ExpertOrganisation
    org_y: ExpertOrganisation
    official_malaga: User
    official_rotterdam: User
    expert_x: User
    expert_y: User
    requests: dict[str, AssistanceRequest] = field(default_factory=dict)
    engagements: dict[str, Engagement] = field(default_factory=dict)
    activities: dict[str, Activity] = field(default_factory=dict)


@pytest.fixture
def programme(app) -> Programme:
    """Requests submitted in 2025: r1, r2, r3, r4, r7, r8 (6). r5 was submitted on the last
    minute of 2024 and r6 is a draft: both are outside.

    - by status: submitted r4, matching r3, engaged r1 r8, completed r2, withdrawn r7
    - by authority: Málaga r1 r2 r8 (3), Rennes r4 r7 (2), Rotterdam r3 (1)
    - by theme: release_transition r1 r2 (2), risk_assessment r1, exit_mentoring r3, housing r7
    - to match (first "accept"): r1 10.5 days (e1; e1b accepted later), r2 20.5, r8 3.0
      -> count 3, median 10.5, mean 11.3
    - to first delivered activity: r1 19 days (a1), r2 31 (a4), r8 254 (a7, in 2026)
      -> count 3, median 31, mean 101.3
    - activities of 2025: a1 a2 a3 a4 a5 a6 a8 (7): implemented a1 a2 a4 a8 (4), pending a3 a6
      (2), cancelled a5 (1); a7 (2026) and a9 (2024) are outside
    - participants (implemented, 2025): probation 10+3, police 5, social_services 7, prison 20,
      municipal_staff 4 -> 49 (a6's 100 are disputed, a7's 50 are in 2026)
    - engagements of 2025: e0 e1 e1b e2 e3 e4 (proposed in 2025) and e5 (proposed in 2024,
      activity a8 in 2025): 7; e6 (2024, nothing in 2025) is outside. Went ahead: e1 e2 e4 e5.
    """
    staff = make_user(Role.STAFF, email="staff.reports@assist.example")
    malaga = make_authority("Málaga (reports)", country="ES")
    rotterdam = make_authority("Rotterdam (reports)", country="NL")
    rennes = make_authority("Rennes (reports)", country="FR")
    org_x = make_organisation("Expert X (reports)")
    org_y = make_organisation("Expert Y (reports)")
    p = Programme(
        staff=staff,
        malaga=malaga,
        rotterdam=rotterdam,
        rennes=rennes,
        org_x=org_x,
        org_y=org_y,
        official_malaga=make_user(Role.CITY_OFFICIAL, authority=malaga),
        official_rotterdam=make_user(Role.CITY_OFFICIAL, authority=rotterdam),
        expert_x=make_user(Role.EXPERT, organisation=org_x),
        expert_y=make_user(Role.EXPERT, organisation=org_y),
    )
    r = p.requests
    r["r1"] = submitted(
        malaga,
        RequestStatus.ENGAGED,
        at(2025, 2, 1, 10),
        ["risk_assessment", "release_transition"],
    )
    r["r2"] = submitted(malaga, RequestStatus.COMPLETED, at(2025, 3, 1), ["release_transition"])
    r["r3"] = submitted(rotterdam, RequestStatus.MATCHING, at(2025, 4, 10, 12), ["exit_mentoring"])
    r["r4"] = submitted(rennes, RequestStatus.SUBMITTED, at(2025, 6, 1), [])
    r["r5"] = submitted(rotterdam, RequestStatus.ENGAGED, at(2024, 12, 31, 23, 59), ["housing"])
    r["r6"] = submitted(malaga, RequestStatus.DRAFT, None, ["housing"])
    r["r7"] = submitted(rennes, RequestStatus.WITHDRAWN, at(2025, 12, 31, 23), ["housing"])
    r["r8"] = submitted(malaga, RequestStatus.ENGAGED, at(2025, 5, 1), ["evaluation"])

    e, a, by = p.engagements, p.activities, staff
    e["e0"] = engage(r["r2"], org_x, EngagementStatus.DECLINED, at(2025, 3, 1, 12), by=by)
    e["e1"] = engage(
        r["r1"], org_x, EngagementStatus.DELIVERING, at(2025, 2, 5), by=by,
        accepted=at(2025, 2, 11, 22),
    )  # fmt: skip
    e["e1b"] = engage(
        r["r1"], org_y, EngagementStatus.CANCELLED, at(2025, 2, 20), by=by,
        accepted=at(2025, 3, 1),
    )  # fmt: skip
    e["e2"] = engage(
        r["r2"], org_y, EngagementStatus.CLOSED, at(2025, 3, 2), by=by,
        accepted=at(2025, 3, 21, 12), closed=at(2025, 9, 1),
    )  # fmt: skip
    e["e3"] = engage(r["r3"], org_y, EngagementStatus.APPROVED, at(2025, 4, 20), by=by)
    e["e4"] = engage(
        r["r8"], org_x, EngagementStatus.PLANNED, at(2025, 5, 2), by=by, accepted=at(2025, 5, 4)
    )
    e["e5"] = engage(r["r5"], org_x, EngagementStatus.DELIVERING, at(2024, 12, 31, 23, 59), by=by)
    e["e6"] = engage(r["r5"], org_y, EngagementStatus.CANCELLED, at(2024, 12, 20), by=by)
    db.session.add(
        EngagementFeedback(
            engagement_id=e["e2"].id, rating=4, comment="Useful and concrete.", created_by_id=by.id
        )
    )

    x, y = p.expert_x, p.expert_y
    a["a1"] = activity(
        e["e1"], ActivityStatus.CONFIRMED, "training", by=x, delivered=date(2025, 2, 20),
        participants={"probation": 10, "police": 5},
    )  # fmt: skip
    a["a2"] = activity(
        e["e1"], ActivityStatus.DELIVERED, "workshop", by=x, delivered=date(2025, 3, 5),
        participants={"probation": 3, "social_services": 7},
    )  # fmt: skip
    a["a3"] = activity(e["e1"], ActivityStatus.PLANNED, "training", by=x, planned=date(2025, 11, 1))
    a["a4"] = activity(
        e["e2"], ActivityStatus.CONFIRMED, "training", by=y, delivered=date(2025, 4, 1),
        participants={"prison": 20},
    )  # fmt: skip
    a["a5"] = activity(
        e["e2"], ActivityStatus.CANCELLED, "study_visit", by=y, planned=date(2025, 5, 1)
    )
    a["a6"] = activity(
        e["e2"], ActivityStatus.DISPUTED, "workshop", by=y, delivered=date(2025, 5, 15),
        participants={"prison": 100},
    )  # fmt: skip
    a["a7"] = activity(
        e["e4"], ActivityStatus.CONFIRMED, "expert_mission", by=x, delivered=date(2026, 1, 10),
        participants={"police": 50},
    )  # fmt: skip
    a["a8"] = activity(
        e["e5"], ActivityStatus.CONFIRMED, "roundtable", by=x, delivered=date(2025, 1, 15),
        participants={"municipal_staff": 4},
    )  # fmt: skip
    a["a9"] = activity(
        e["e5"], ActivityStatus.CONFIRMED, "roundtable", by=x, delivered=date(2024, 12, 31),
        participants={"municipal_staff": 9},
    )  # fmt: skip
    db.session.flush()
    return p


def attach(activity: Activity, by: User, storage_key: str, filename: str) -> Attachment:
    att = Attachment(
        activity=activity,
        filename=filename,
        content_type="application/pdf",
        size=0,
        sha256="0" * 64,
        storage_key=storage_key,
        uploaded_by_id=by.id,
    )
    db.session.add(att)
    db.session.flush()
    return att
