"""Engagement services: proposals and their decisions, four eyes, the request following along,
conflicts of interest, notifications, and the suggested allocation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.audit import history
from assist.engagements import services
from assist.engagements.allocation import suggest_allocation
from assist.engagements.models import MatchDecision
from assist.engagements.ranking import rank_experts
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.notifications.models import Notification, OutboxEmail
from assist.requests import services as request_services
from assist.roles import Role
from assist.workflow import EngagementStatus, InvalidTransition, RequestStatus
from tests.factories import make_organisation, make_request, make_user, tag


@pytest.fixture
def setup(app):
    strong = tag(
        make_organisation(
            "Strong Fit",
            description="Exit mentoring and family counselling after release.",
            capacity=1,
        ),
        themes=["exit_mentoring", "family_network_support"],
        languages=["es", "en"],
    )
    weak = tag(
        make_organisation("Weak Fit", description="Evaluation of school programmes.", capacity=2),
        themes=["evaluation"],
        languages=["es"],
    )
    req = make_request(
        status=RequestStatus.MATCHING,
        context="Exit mentoring and family counselling for people leaving extremist groups "
        "after release.",
        needs="Train case managers in exit mentoring.",
        terms={"themes": ["exit_mentoring"], "formats": ["training"], "languages": ["es"]},
    )
    staff = make_user(Role.STAFF)
    other_staff = make_user(Role.STAFF)
    expert = make_user(Role.EXPERT, organisation=strong)
    return {
        "strong": strong,
        "weak": weak,
        "req": req,
        "staff": staff,
        "other": other_staff,
        "expert": expert,
    }


def propose(s, org, **kw):
    return services.propose_match(
        s["req"], s["staff"], services.Proposal(organisation_id=org.id, **kw)
    )


def test_top_candidate_needs_no_reason_and_the_decision_is_kept(app, setup) -> None:
    engagement = propose(setup, setup["strong"], comment="Start with a needs assessment.")
    decision = db.session.scalars(sa.select(MatchDecision)).one()
    assert (decision.chosen_organisation_id, decision.chosen_rank) == (setup["strong"].id, 1)
    assert [p["organisation_id"] for p in decision.passed_over] == [setup["weak"].id]
    assert decision.chosen_reasons and engagement.status == EngagementStatus.PROPOSED


def test_choosing_below_the_top_asks_for_a_reason(app, setup) -> None:
    with pytest.raises(ValidationFailed) as info:
        propose(setup, setup["weak"])
    assert "reason" in info.value.errors
    engagement = propose(setup, setup["weak"], reason="The city asked for an evaluation partner.")
    decision = db.session.scalars(
        sa.select(MatchDecision).where(MatchDecision.engagement_id == engagement.id)
    ).one()
    assert decision.chosen_rank == 2
    assert [p["organisation_id"] for p in decision.passed_over] == [setup["strong"].id]


def test_proposals_need_matching_state_and_staff(app, setup) -> None:
    with pytest.raises(NotAllowed):
        services.propose_match(setup["req"], setup["expert"], services.Proposal(setup["strong"].id))
    draft = make_request()
    with pytest.raises(Conflict, match="move it to matching"):
        services.propose_match(draft, setup["staff"], services.Proposal(setup["strong"].id))


def test_the_same_organisation_cannot_be_proposed_twice(app, setup) -> None:
    propose(setup, setup["strong"])
    with pytest.raises(ValidationFailed) as info:
        propose(setup, setup["strong"])
    assert (
        "cannot be proposed for this request: "
        "already engaged or proposed on this request (Proposed)"
        in info.value.errors["organisation_id"][0]
    )


def test_four_eyes(app, setup) -> None:
    engagement = propose(setup, setup["strong"])
    app.config["FOUR_EYES"] = True
    try:
        with pytest.raises(InvalidTransition, match="Four-eyes"):
            services.transition_engagement(engagement, setup["staff"], "approve")
        services.transition_engagement(engagement, setup["other"], "approve")
    finally:
        app.config["FOUR_EYES"] = False
    assert (
        engagement.status == EngagementStatus.APPROVED and engagement.approved_by == setup["other"]
    )


def test_accept_engages_the_request_and_tells_everyone(app, setup) -> None:
    engagement = propose(setup, setup["strong"])
    services.transition_engagement(engagement, setup["staff"], "approve")
    assert db.session.scalar(
        sa.select(Notification).where(Notification.user_id == setup["expert"].id)
    )
    services.transition_engagement(engagement, setup["expert"], "accept")
    req = setup["req"]
    assert req.status == RequestStatus.ENGAGED
    assert [e.action for e in history(req)][-1] == "engage"
    city = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == req.created_by_id)
    ).all()
    assert any("accepted" in n.message for n in city)
    assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) >= 3


def test_an_expert_of_another_organisation_cannot_accept(app, setup) -> None:
    engagement = propose(setup, setup["strong"])
    services.transition_engagement(engagement, setup["staff"], "approve")
    outsider = make_user(Role.EXPERT)
    with pytest.raises(NotAllowed):
        services.transition_engagement(engagement, outsider, "accept")
    assert engagement.status == EngagementStatus.APPROVED


def test_decline_returns_to_matching_and_vetoes_the_organisation(app, setup) -> None:
    engagement = propose(setup, setup["strong"])
    services.transition_engagement(engagement, setup["staff"], "approve")
    with pytest.raises(ValidationFailed):
        services.transition_engagement(engagement, setup["expert"], "decline", "")
    services.transition_engagement(engagement, setup["expert"], "decline", "No capacity in spring.")
    assert setup["req"].status == RequestStatus.MATCHING
    ranked = {r.name: r.match for r in rank_experts(setup["req"])}
    assert ranked["Strong Fit"].excluded_reason == "declined this request"


def test_accept_refused_at_capacity(app, setup) -> None:
    first = propose(setup, setup["strong"])
    services.transition_engagement(first, setup["staff"], "approve")
    services.transition_engagement(first, setup["expert"], "accept")
    other_req = make_request(
        status=RequestStatus.MATCHING,
        terms={"themes": ["exit_mentoring"], "formats": ["training"], "languages": ["es"]},
    )
    second = services.propose_match(
        other_req, setup["staff"], services.Proposal(setup["strong"].id, reason="Only fit.")
    )
    services.transition_engagement(second, setup["staff"], "approve")
    with pytest.raises(Conflict, match="at capacity"):
        services.transition_engagement(second, setup["expert"], "accept")


def test_cancel_after_accept_puts_the_request_back_in_matching(app, setup) -> None:
    engagement = propose(setup, setup["strong"])
    services.transition_engagement(engagement, setup["staff"], "approve")
    services.transition_engagement(engagement, setup["expert"], "accept")
    services.transition_engagement(
        engagement, setup["staff"], "cancel", "The city changed its plans."
    )
    assert setup["req"].status == RequestStatus.MATCHING


def test_withdrawing_the_request_cancels_its_open_engagements(app, setup) -> None:
    engagement = propose(setup, setup["strong"])
    services.transition_engagement(engagement, setup["staff"], "approve")
    req = setup["req"]
    request_services.withdraw_request(req, req.created_by, "No longer needed.")
    assert engagement.status == EngagementStatus.CANCELLED
    assert history(engagement)[-1].action == "withdrawn"


def test_conflict_of_interest_excludes_from_rankings(app, setup) -> None:
    req = setup["req"]
    services.add_conflict(setup["staff"], setup["strong"], req.authority, "Already contracted.")
    ranked = {r.name: r.match for r in rank_experts(req)}
    assert "conflict of interest" in ranked["Strong Fit"].excluded_reason
    with pytest.raises(ValidationFailed) as info:
        services.add_conflict(setup["staff"], setup["strong"], req.authority, "Again.")
    assert "already excluded" in info.value.errors["organisation_id"][0]
    with pytest.raises(NotAllowed):
        services.add_conflict(setup["expert"], setup["weak"], req.authority, "x")


def test_suggested_allocation_respects_capacity(app, setup) -> None:
    twin = make_request(
        status=RequestStatus.MATCHING,
        context="Exit mentoring and family counselling after release.",
        terms={"themes": ["exit_mentoring"], "formats": ["training"], "languages": ["es"]},
    )
    suggestion = suggest_allocation()
    by_request = {row.request.id: row.name for row in suggestion.rows}
    assert set(by_request) >= {setup["req"].id, twin.id}
    # Strong Fit has one free slot: at most one of the two gets it.
    assert list(by_request.values()).count("Strong Fit") <= 1


def test_a_proposal_stays_internal_until_approved(app, setup, login_as) -> None:
    engagement = propose(setup, setup["strong"])
    req = setup["req"]
    city_page = login_as(req.created_by).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Strong Fit" not in city_page
    assert login_as(setup["expert"]).get(f"/engagements/{engagement.id}").status_code == 404
    staff_page = login_as(setup["staff"]).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Strong Fit" in staff_page
    services.transition_engagement(engagement, setup["staff"], "approve")
    db.session.commit()
    city_page = login_as(req.created_by).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Strong Fit" in city_page and "Why Efus proposed them" in city_page


def test_enough_decisions_tune_the_weights(app, setup) -> None:
    """Twenty choices that follow the text over the tags move weight onto the text."""
    from assist.engagements.models import Engagement, MatchDecision
    from assist.engagements.ranking import fitted, reset_cache

    for i in range(20):
        req = make_request(
            status=RequestStatus.MATCHING,
            title=f"Past request {i}",
            context="Evaluation of school programmes: we need an evaluation design.",
            terms={"themes": ["exit_mentoring"], "formats": ["training"], "languages": ["es"]},
        )
        engagement = Engagement(request=req, organisation=setup["weak"], proposed_by=setup["staff"])
        db.session.add(engagement)
        db.session.flush()
        db.session.add(
            MatchDecision(
                request_id=req.id,
                engagement_id=engagement.id,
                chosen_organisation_id=setup["weak"].id,
                chosen_rank=2,
                chosen_score=0.1,
                passed_over=[{"organisation_id": setup["strong"].id, "rank": 1, "score": 0.3}],
                decided_by_id=setup["staff"].id,
            )
        )
    db.session.flush()
    reset_cache()
    matcher = fitted().matcher
    assert matcher.weights_source_ == "learned"
    assert matcher.weights_["text"] > matcher.weights_["themes"]
