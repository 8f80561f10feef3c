"""The app side of matching: profiles from rows, the per-process cache and its version stamp."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.engagements import ranking
from assist.engagements.models import MatchingIndexState
from assist.extensions import db
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.conftest import make_app
from tests.factories import make_authority, make_organisation, make_request, make_user, tag


@pytest.fixture
def directory(app):
    exit_org = tag(
        make_organisation(
            "Exit Mentors",
            description="Exit work and mentoring for people leaving violent right-wing groups; "
            "family counselling; housing and work after release.",
        ),
        themes=["exit_mentoring", "family_network_support"],
        languages=["es", "en"],
        countries=["ES"],
    )
    rj_org = tag(
        make_organisation(
            "Dialogue Circle",
            description="Restorative justice dialogue between victims and offenders; "
            "mediation training for probation officers.",
        ),
        themes=["restorative_justice"],
        languages=["de"],
    )
    return exit_org, rj_org


def request_for(authority_country: str = "ES"):
    authority = make_authority(country=authority_country)
    return make_request(
        authority,
        status=RequestStatus.SUBMITTED,
        context="People leaving violent right-wing groups after release need exit mentoring, "
        "and their families need counselling.",
        needs="Exit work training for municipal case managers.",
        terms={"themes": ["exit_mentoring"], "formats": ["training"], "languages": ["es"]},
    )


def test_ranking_orders_by_fit_with_checkable_reasons(app, directory) -> None:
    ranked = ranking.rank_experts(request_for())
    names = [r.name for r in ranked]
    assert names.index("Exit Mentors") < names.index("Dialogue Circle")
    top = next(r for r in ranked if r.name == "Exit Mentors").match
    assert any("Exit work and mentoring" in reason for reason in top.reasons)  # labels, not codes
    assert any("works in Spanish" in reason for reason in top.reasons)
    last = next(r for r in ranked if r.name == "Dialogue Circle").match
    assert last.has_common_language is False
    assert any("no common working language" in reason for reason in last.reasons)


def test_directory_changes_bump_the_stamp_in_the_same_transaction(app, directory) -> None:
    exit_org, _ = directory
    before = db.session.scalar(sa.select(MatchingIndexState.version))
    exit_org.capacity = 7
    db.session.flush()
    assert db.session.scalar(sa.select(MatchingIndexState.version)) == before + 1
    make_request()  # other changes leave it alone
    assert db.session.scalar(sa.select(MatchingIndexState.version)) == before + 1


def test_a_change_made_by_another_worker_reaches_this_workers_cache(app, directory) -> None:
    """Two app instances stand for two gunicorn workers; they share only the database."""
    _, rj_org = directory
    req = request_for()
    first = ranking.rank_experts(req)
    assert ranking.fitted() is ranking.fitted()  # cached while nothing changes
    other_worker = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        connection = db.engines[None]
    with other_worker.app_context():
        engine = db.engines[None]
        db.engines[None] = connection
        try:
            org = db.session.get(type(rj_org), rj_org.id)
            org.is_active = False
            db.session.commit()
        finally:
            db.session.remove()
            db.engines[None] = engine
            engine.dispose()
    db.session.expire_all()
    after = ranking.rank_experts(req)
    assert "Dialogue Circle" in [r.name for r in first]
    assert "Dialogue Circle" not in [r.name for r in after]


def test_conflicts_and_engagements_are_vetoes_that_say_why(app, directory) -> None:
    from assist.engagements.models import ConflictOfInterest, Engagement
    from assist.workflow import EngagementStatus

    exit_org, rj_org = directory
    req = request_for()
    db.session.add(
        ConflictOfInterest(
            organisation=exit_org,
            authority=req.authority,
            reason="already contracted by the city",
            created_by=req.created_by,
        )
    )
    db.session.add(
        Engagement(
            request=req,
            organisation=rj_org,
            proposed_by=req.created_by,
            status=EngagementStatus.DECLINED,
        )
    )
    db.session.flush()
    ranked = {r.name: r.match for r in ranking.rank_experts(req)}
    assert "conflict of interest" in ranked["Exit Mentors"].excluded_reason
    assert "already contracted by the city" in ranked["Exit Mentors"].reasons[0]
    assert ranked["Dialogue Circle"].excluded_reason == "declined this request"


def test_empty_directory_ranks_nothing(app) -> None:
    assert ranking.rank_experts(make_request()) == []


def test_ranking_page_for_staff_with_filters(app, login_as, directory) -> None:
    req = request_for()
    client = login_as(make_user(Role.STAFF))
    page = client.get(f"/requests/{req.id}/experts").get_data(as_text=True)
    assert page.index("Exit Mentors") < page.index("Dialogue Circle")
    assert "no common working language" in page
    filtered = client.get(f"/requests/{req.id}/experts?common_language=1").get_data(as_text=True)
    assert "Exit Mentors" in filtered and "Dialogue Circle" not in filtered
    detail = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Ranked experts" in detail


def test_city_officials_do_not_see_the_ranking(app, login_as, directory) -> None:
    req = request_for()
    client = login_as(req.created_by)
    assert client.get(f"/requests/{req.id}/experts").status_code == 403
    assert "Ranked experts" not in client.get(f"/requests/{req.id}").get_data(as_text=True)


def test_rebuild_index_command(app, directory) -> None:
    before = db.session.scalar(sa.select(MatchingIndexState.version))
    result = app.test_cli_runner().invoke(args=["rebuild-index"])
    assert result.exit_code == 0, result.output
    assert "built over 2 active expert organisation(s)" in result.output
    assert db.session.scalar(sa.select(MatchingIndexState.version)) == before + 1


def test_only_changes_the_index_reads_bump_the_stamp(app, directory) -> None:
    """Proposals and planned activities leave the index alone; capacity and reports do not."""
    from assist.delivery.models import Activity
    from assist.engagements.models import Engagement
    from assist.workflow import ActivityStatus, EngagementStatus

    exit_org, _ = directory
    req = request_for()
    version = lambda: db.session.scalar(sa.select(MatchingIndexState.version))  # noqa: E731
    before = version()
    engagement = Engagement(request=req, organisation=exit_org, proposed_by=req.created_by)
    db.session.add(engagement)
    db.session.flush()
    assert version() == before  # a proposal uses no capacity
    engagement.status = EngagementStatus.ACCEPTED
    db.session.flush()
    assert version() == before + 1  # capacity in use changed
    activity = Activity(
        engagement=engagement, format="training", topic="t", created_by=req.created_by
    )
    db.session.add(activity)
    db.session.flush()
    assert version() == before + 1  # a planned activity is not a report
    activity.status = ActivityStatus.DELIVERED
    db.session.flush()
    assert version() == before + 2  # a delivered report is a document of the organisation
