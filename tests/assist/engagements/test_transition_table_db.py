"""The whole transition table through the services and the database: every allowed action by
every allowed role succeeds; every other (state, role, action) is refused and changes nothing."""

from __future__ import annotations

import itertools

import pytest

from assist.audit import history
from assist.engagements import services as engagement_services
from assist.engagements.models import Engagement
from assist.errors import DomainError
from assist.extensions import db
from assist.requests import services as request_services
from assist.roles import Role
from assist.workflow import ENGAGEMENTS, REQUESTS, InvalidTransition
from tests.factories import make_organisation, make_request, make_user

REASON = "Recorded for the test."


def satisfy_guards(engagement, action: str, user) -> None:
    """Give the engagement what its guards ask for, so only the table decides."""
    from assist.delivery.models import Activity, EngagementFeedback
    from assist.workflow import ActivityStatus

    status = {
        "confirm_plan": ActivityStatus.PLANNED,
        "finish_delivery": ActivityStatus.DELIVERED,
        "close": ActivityStatus.CONFIRMED,
    }.get(action)
    if status is None:
        return
    db.session.add(
        Activity(
            engagement=engagement, status=status, format="training", topic="t", created_by=user
        )
    )
    if action == "close":
        db.session.add(EngagementFeedback(engagement=engagement, rating=4, created_by_id=user.id))


def actor_for(role: Role, req, org):
    """A user of that role who belongs to the object's tenant (so only the table decides)."""
    if role == Role.CITY_OFFICIAL:
        return make_user(role, authority=req.authority)
    if role == Role.EXPERT:
        return make_user(role, organisation=org)
    return make_user(role)


@pytest.mark.parametrize(
    ("state", "action", "role"), list(itertools.product(REQUESTS.states, REQUESTS.actions(), Role))
)
def test_request_table(app, state, action, role) -> None:
    req = make_request(status=state)
    actor = actor_for(role, req, None)
    db.session.commit()  # the setup survives the rollback of a refused action
    before = (req.status, req.version, len(history(req)))
    allowed = any(t.action == action for t in REQUESTS.allowed(state, role))
    if allowed:
        request_services.transition_request(req, actor, action, REASON)
        assert req.status == REQUESTS.find(state, action, role).target
        assert history(req)[-1].action == action
    else:
        with pytest.raises((InvalidTransition, DomainError)):
            request_services.transition_request(req, actor, action, REASON)
        db.session.rollback()
        db.session.refresh(req)
        assert (req.status, req.version, len(history(req))) == before


@pytest.mark.parametrize(
    ("state", "action", "role"),
    list(itertools.product(ENGAGEMENTS.states, ENGAGEMENTS.actions(), Role)),
)
def test_engagement_table(app, state, action, role) -> None:
    org = make_organisation(capacity=3)
    req = make_request(status=REQUESTS.states("matching"))
    proposer = make_user(Role.STAFF)
    engagement = Engagement(request=req, organisation=org, proposed_by=proposer, status=state)
    db.session.add(engagement)
    actor = actor_for(role, req, org)
    satisfy_guards(engagement, action, proposer)
    db.session.commit()  # the setup survives the rollback of a refused action
    before = (engagement.status, engagement.version)
    allowed = any(t.action == action for t in ENGAGEMENTS.allowed(state, role))
    if allowed:
        engagement_services.transition_engagement(engagement, actor, action, REASON)
        assert engagement.status == ENGAGEMENTS.find(state, action, role).target
    else:
        with pytest.raises((InvalidTransition, DomainError)):
            engagement_services.transition_engagement(engagement, actor, action, REASON)
        db.session.rollback()
        db.session.refresh(engagement)
        assert (engagement.status, engagement.version) == before
