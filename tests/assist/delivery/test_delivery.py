"""From an accepted engagement to confirmed activities, a rating, a closed engagement, a
completed request and the six-month follow-up; in the services and through the pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from assist.db import utcnow
from assist.delivery import services
from assist.delivery.models import FollowUp
from assist.engagements import services as engagement_services
from assist.engagements.models import Engagement
from assist.engagements.ranking import fitted, reset_cache
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.notifications.models import Notification
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, InvalidTransition, RequestStatus
from tests.factories import make_organisation, make_request, make_user

PLAN = services.PlanData(format="training", topic="Release preparation training", place="Málaga")
RECORD = services.RecordData(
    delivered_on=date.today() - timedelta(days=1),
    duration_hours=6,
    participants={"probation": 8, "municipal_staff": 12, "police": 0},
    summary="Two sessions on release preparation with case studies (fictional).",
    outcomes="A draft protocol for information sharing before release.",
    follow_up="The city's working group meets monthly.",
)


@pytest.fixture
def world(app):
    org = make_organisation("Delivering Org", capacity=2, description="Training on release.")
    req = make_request(status=RequestStatus.ENGAGED)
    staff = make_user(Role.STAFF)
    engagement = Engagement(
        request=req, organisation=org, proposed_by=staff, status=EngagementStatus.ACCEPTED
    )
    db.session.add(engagement)
    db.session.flush()
    return {
        "engagement": engagement,
        "req": req,
        "org": org,
        "staff": staff,
        "expert": make_user(Role.EXPERT, organisation=org),
        "city": req.created_by,
    }


def deliver(w):
    e = w["engagement"]
    activity = services.plan_activity(e, w["expert"], PLAN)
    engagement_services.transition_engagement(e, w["city"], "confirm_plan")
    services.record_activity(activity, w["expert"], RECORD)
    return activity


def test_the_whole_delivery(app, world) -> None:
    e, req = world["engagement"], world["req"]
    activity = deliver(world)
    assert e.status == EngagementStatus.DELIVERING  # the first record started delivery
    assert activity.participants == {"probation": 8, "municipal_staff": 12}
    assert activity.participants_total == 20
    engagement_services.transition_engagement(e, world["expert"], "finish_delivery")
    with pytest.raises(Conflict, match="Confirm"):
        services.rate_engagement(e, world["city"], 5, "")
    services.transition_activity(activity, world["city"], "confirm")
    with pytest.raises(InvalidTransition, match="not rated"):
        engagement_services.transition_engagement(e, world["staff"], "close")
    services.rate_engagement(e, world["city"], 5, "Very practical.")
    engagement_services.transition_engagement(e, world["staff"], "close")
    assert e.status == EngagementStatus.CLOSED and e.closed_at is not None
    assert req.status == RequestStatus.COMPLETED
    follow_up = db.session.scalars(sa.select(FollowUp)).one()
    assert follow_up.due_at - e.closed_at == services.FOLLOW_UP_AFTER
    assert services.ask_follow_ups() == 0  # not due yet
    assert services.ask_follow_ups(utcnow() + timedelta(days=190)) == 1
    assert services.ask_follow_ups(utcnow() + timedelta(days=190)) == 0  # asked once
    services.answer_follow_up(follow_up, world["city"], ["protocol_applied"], "")
    assert follow_up.uses == ["protocol_applied"]
    with pytest.raises(Conflict):
        services.answer_follow_up(follow_up, world["city"], ["training_repeated"], "")


def test_dispute_goes_back_to_the_expert(app, world, login_as) -> None:
    activity = deliver(world)
    with pytest.raises(ValidationFailed):
        services.transition_activity(activity, world["city"], "dispute", "")
    services.transition_activity(activity, world["city"], "dispute", "Only one session took place.")
    assert activity.status == ActivityStatus.DISPUTED
    db.session.commit()
    page = login_as(world["expert"]).get(f"/engagements/{world['engagement'].id}")
    assert "The city disputed this record" in page.get_data(as_text=True)
    assert "Only one session took place." in page.get_data(as_text=True)
    note = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == world["expert"].id)
    ).all()
    assert any("disputed" in n.message for n in note)
    services.record_activity(activity, world["expert"], RECORD)  # corrected
    assert activity.status == ActivityStatus.DELIVERED


def test_only_the_right_side_acts(app, world) -> None:
    e = world["engagement"]
    with pytest.raises(NotAllowed):
        services.plan_activity(e, make_user(Role.EXPERT), PLAN)  # another organisation
    with pytest.raises(NotAllowed):
        services.plan_activity(e, make_user(Role.CITY_OFFICIAL), PLAN)  # another authority
    activity = services.plan_activity(e, world["city"], PLAN)
    with pytest.raises(NotAllowed):
        services.record_activity(activity, world["expert"], RECORD)  # plan not confirmed yet
    engagement_services.transition_engagement(e, world["expert"], "confirm_plan")
    with pytest.raises(InvalidTransition):
        services.record_activity(activity, world["city"], RECORD)  # the city does not record
    services.record_activity(activity, world["expert"], RECORD)
    with pytest.raises(InvalidTransition):
        services.transition_activity(activity, world["expert"], "confirm")  # nor the expert confirm


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"delivered_on": date.today() + timedelta(days=3)}, "delivered_on"),
        ({"duration_hours": 0}, "duration_hours"),
        ({"participants": {}}, "participants"),
        ({"participants": {"astronauts": 3}}, "participants"),
        ({"summary": ""}, "summary"),
        ({"summary": "Mr Ahmed Benali, convicted in 2017, attended."}, "summary"),
    ],
)
def test_bad_records_are_explained_and_change_nothing(app, world, change, field) -> None:
    e = world["engagement"]
    activity = services.plan_activity(e, world["expert"], PLAN)
    engagement_services.transition_engagement(e, world["expert"], "confirm_plan")
    with pytest.raises(ValidationFailed) as info:
        services.record_activity(
            activity, world["expert"], services.RecordData(**{**vars(RECORD), **change})
        )
    assert field in info.value.errors
    assert activity.status == ActivityStatus.PLANNED


def test_delivered_reports_and_ratings_feed_matching(app, world) -> None:
    e = world["engagement"]
    deliver(world)
    reset_cache()
    index = fitted()
    profile = next(p for p in index.matcher.experts_ if p.id == str(world["org"].id))
    assert any("draft protocol for information sharing" in d for d in profile.documents)
    engagement_services.transition_engagement(e, world["expert"], "finish_delivery")
    services.transition_activity(e.activities[0], world["city"], "confirm")
    services.rate_engagement(e, world["city"], 4, "")
    reset_cache()
    profile = next(p for p in fitted().matcher.experts_ if p.id == str(world["org"].id))
    assert list(profile.feedback) == [4]


def test_pages_plan_record_confirm_rate(app, world, login_as) -> None:
    e = world["engagement"]
    expert = login_as(world["expert"])
    response = expert.post(
        f"/engagements/{e.id}/activities/new",
        data={"format": "training", "topic": "Kick-off workshop", "place": "Málaga"},
    )
    assert response.status_code == 302
    page = expert.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert "Kick-off workshop" in page and "Confirm the plan of activities" in page
    expert.post(f"/engagements/{e.id}/transitions/confirm_plan", data={"version": ""})
    activity_id = e.activities[0].id
    form = {
        "delivered_on": (date.today() - timedelta(days=2)).isoformat(),
        "duration_hours": "3.5",
        "p_probation": "5",
        "p_police": "2",
        "summary": "Workshop with the local partners.",
    }
    bad = expert.post(
        f"/activities/{activity_id}/record", data={**form, "p_probation": "", "p_police": ""}
    )
    assert bad.status_code == 422 and "at least one professional group" in bad.get_data(
        as_text=True
    )
    assert expert.post(f"/activities/{activity_id}/record", data=form).status_code == 302
    city = login_as(world["city"])
    page = city.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert "Probation 5" in page and "Confirm this activity" in page
    city.post(f"/activities/{activity_id}/transitions/confirm", data={})
    db.session.expire_all()
    assert db.session.get(Engagement, e.id).activities[0].status == ActivityStatus.CONFIRMED


# The reader's and the recipient's language ------------------------------------------------------


def test_the_activities_show_dates_and_numbers_in_the_readers_format(app, world, login_as):
    activity = deliver(world)
    activity.duration_hours = 6.5
    world["city"].language = "fr"
    db.session.commit()
    page = login_as(world["city"]).get(f"/engagements/{world['engagement'].id}")
    html = page.get_data(as_text=True)
    day = RECORD.delivered_on
    french_months = "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()
    assert f"{day.day} {french_months[day.month - 1]} {day.year}" in html  # CLDR, no catalogue
    assert "6,5 h" in html and "6.5 h" not in html


def test_delivery_notifications_are_written_in_each_recipients_language(app, world) -> None:
    from flask_babel import get_locale
    from flask_babel.speaklater import LazyString

    rendered: list[tuple[str, str]] = []

    def lazy(text: str, **variables: object) -> LazyString:
        # Like lazy_gettext, and says which locale each rendering happened under.
        def render() -> str:
            rendered.append((text, str(get_locale())))
            return text % variables

        return LazyString(render)

    world["city"].language = "es"
    world["expert"].language = "nl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "_l", lazy)
        deliver(world)  # the expert plans and records: the city hears of both
    assert rendered == [
        ("Activity planned on engagement #%(id)s.", "es"),
        ("An activity of engagement #%(id)s was recorded: please confirm it.", "es"),
    ]
    messages = db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == world["city"].id)
    ).all()
    assert f"Activity planned on engagement #{world['engagement'].id}." in messages


def test_each_activitys_form_has_its_own_field_ids(app, world, login_as) -> None:
    """Two planned activities each offer "cancel" with a reason: every label and help text
    must point to its own activity's field (ids were once "comment-cancel" twice)."""
    e = world["engagement"]
    first = services.plan_activity(e, world["expert"], PLAN)
    second = services.plan_activity(e, world["expert"], PLAN)
    db.session.commit()
    html = login_as(world["expert"]).get(f"/engagements/{e.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]*)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for activity in (first, second):
        field = f"comment-activity-{activity.id}-cancel"
        assert f'<label class="form-label" for="{field}">' in html
        assert f'id="{field}" name="comment"' in html
        assert f'aria-describedby="{field}-help"' in html
