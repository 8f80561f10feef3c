"""Both workflow tables, checked over every (state, action, role); no database."""

from __future__ import annotations

import itertools

import pytest

from assist.roles import Role
from assist.workflow import (
    ACTIVITIES,
    ENGAGEMENTS,
    MACHINES,
    REQUESTS,
    ActivityStatus,
    EngagementStatus,
    GuardContext,
    InvalidTransition,
    RequestStatus,
)

R, E, A = RequestStatus, EngagementStatus, ActivityStatus
CITY = {Role.CITY_OFFICIAL}
STAFF = {Role.STAFF, Role.ADMIN}
EXPERT = {Role.EXPERT}

# What the issues ask for, written out independently of assist/workflow.py:
# (machine, state, action) -> (roles allowed, target); None as roles = automatic.
EXPECTED = {
    (REQUESTS, R.DRAFT, "submit"): (CITY, R.SUBMITTED),
    (REQUESTS, R.SUBMITTED, "start_review"): (STAFF, R.IN_REVIEW),
    (REQUESTS, R.IN_REVIEW, "ask_info"): (STAFF, R.NEEDS_INFO),
    (REQUESTS, R.NEEDS_INFO, "resubmit"): (CITY, R.SUBMITTED),
    (REQUESTS, R.IN_REVIEW, "decline"): (STAFF, R.DECLINED),
    (REQUESTS, R.IN_REVIEW, "start_matching"): (STAFF, R.MATCHING),
    (REQUESTS, R.MATCHING, "engage"): (None, R.ENGAGED),
    (REQUESTS, R.ENGAGED, "rematch"): (None, R.MATCHING),
    (REQUESTS, R.ENGAGED, "complete"): (None, R.COMPLETED),
    **{
        (REQUESTS, s, "withdraw"): (CITY, R.WITHDRAWN)
        for s in (R.DRAFT, R.SUBMITTED, R.IN_REVIEW, R.NEEDS_INFO, R.MATCHING)
    },
    (ENGAGEMENTS, E.PROPOSED, "approve"): (STAFF, E.APPROVED),
    (ENGAGEMENTS, E.APPROVED, "accept"): (EXPERT, E.ACCEPTED),
    (ENGAGEMENTS, E.APPROVED, "decline"): (EXPERT, E.DECLINED),
    (ENGAGEMENTS, E.ACCEPTED, "confirm_plan"): (EXPERT | CITY, E.PLANNED),
    (ENGAGEMENTS, E.PLANNED, "start_delivery"): (None, E.DELIVERING),
    (ENGAGEMENTS, E.DELIVERING, "finish_delivery"): (EXPERT, E.DELIVERED),
    (ENGAGEMENTS, E.DELIVERED, "close"): (STAFF, E.CLOSED),
    (ACTIVITIES, A.PLANNED, "record"): (EXPERT, A.DELIVERED),
    (ACTIVITIES, A.DISPUTED, "record"): (EXPERT, A.DELIVERED),
    (ACTIVITIES, A.DELIVERED, "confirm"): (CITY, A.CONFIRMED),
    (ACTIVITIES, A.DELIVERED, "dispute"): (CITY, A.DISPUTED),
    (ACTIVITIES, A.PLANNED, "cancel"): (EXPERT | CITY, A.CANCELLED),
    **{
        (ENGAGEMENTS, s, "cancel"): (STAFF, E.CANCELLED)
        for s in (E.PROPOSED, E.APPROVED, E.ACCEPTED, E.PLANNED, E.DELIVERING)
    },
    **{
        (ENGAGEMENTS, s, "withdrawn"): (None, E.CANCELLED)
        for s in (E.PROPOSED, E.APPROVED, E.ACCEPTED, E.PLANNED, E.DELIVERING)
    },
}


def combinations():
    for machine in MACHINES:
        for state, action, role in itertools.product(
            machine.states, machine.actions(), [*Role, None]
        ):
            yield pytest.param(
                machine, state, action, role, id=f"{machine.name}-{state}-{action}-{role}"
            )


@pytest.mark.parametrize(("machine", "state", "action", "role"), list(combinations()))
def test_table_matches_expectation(machine, state, action, role) -> None:
    roles, target = EXPECTED.get((machine, state, action), (set(), None))
    allowed = (roles is None and role is None) or (roles and role in roles)
    if allowed:
        assert machine.find(state, action, role).target == target
    else:
        with pytest.raises(InvalidTransition) as info:
            machine.find(state, action, role)
        assert str(info.value)


def test_every_declared_move_is_expected() -> None:
    declared = {(m, s, t.action) for m in MACHINES for t in m.transitions for s in t.sources}
    assert declared == set(EXPECTED)


def test_refusals_say_why() -> None:
    with pytest.raises(InvalidTransition, match="'teleport' is not an action on a request"):
        REQUESTS.find(R.DRAFT, "teleport", Role.CITY_OFFICIAL)
    with pytest.raises(InvalidTransition, match="while the request is 'Withdrawn'"):
        REQUESTS.find(R.WITHDRAWN, "submit", Role.CITY_OFFICIAL)
    with pytest.raises(InvalidTransition, match=r"Your role \(Efus staff\) cannot"):
        REQUESTS.find(R.DRAFT, "submit", Role.STAFF)
    with pytest.raises(InvalidTransition, match="happens on its own"):
        REQUESTS.find(R.MATCHING, "engage", Role.STAFF)


def test_four_eyes_guard() -> None:
    proposer = GuardContext(actor_id=1, proposer_id=1, four_eyes=True)
    with pytest.raises(InvalidTransition, match="Four-eyes"):
        ENGAGEMENTS.find(E.PROPOSED, "approve", Role.STAFF, proposer)
    other = GuardContext(actor_id=2, proposer_id=1, four_eyes=True)
    assert ENGAGEMENTS.find(E.PROPOSED, "approve", Role.STAFF, other).target == E.APPROVED
    off = GuardContext(actor_id=1, proposer_id=1, four_eyes=False)
    assert ENGAGEMENTS.find(E.PROPOSED, "approve", Role.STAFF, off).target == E.APPROVED


def test_terminal_states_offer_nothing() -> None:
    for machine, states in (
        (REQUESTS, (R.WITHDRAWN, R.DECLINED, R.COMPLETED)),
        (ENGAGEMENTS, (E.DECLINED, E.CANCELLED)),
    ):
        for state in states:
            for role in Role:
                assert machine.allowed(state, role) == []


def test_reasons_are_required_for_refusals_and_endings() -> None:
    needing = {(m.name, t.action) for m in MACHINES for t in m.transitions if t.needs_comment}
    assert needing == {
        ("request", "ask_info"),
        ("request", "decline"),
        ("request", "withdraw"),
        ("engagement", "decline"),
        ("engagement", "cancel"),
        ("activity", "dispute"),
        ("activity", "cancel"),
    }


def test_mermaid_diagram_lists_every_move() -> None:
    diagram = REQUESTS.mermaid()
    assert diagram.startswith("stateDiagram-v2")
    assert "in_review --> needs_info: ask_info (admin/staff)" in diagram
    assert "matching --> engaged: engage (system)" in diagram


def test_delivery_guards_explain_what_is_missing() -> None:
    ctx = GuardContext(actor_id=1)
    with pytest.raises(InvalidTransition, match="Plan at least one activity"):
        ENGAGEMENTS.find(E.ACCEPTED, "confirm_plan", Role.EXPERT, ctx)
    busy = GuardContext(actor_id=1, activities={"planned": 1, "delivered": 1})
    with pytest.raises(InvalidTransition, match="still planned or disputed"):
        ENGAGEMENTS.find(E.DELIVERING, "finish_delivery", Role.EXPERT, busy)
    unconfirmed = GuardContext(actor_id=1, activities={"delivered": 1}, has_feedback=True)
    with pytest.raises(InvalidTransition, match="not confirmed every delivered activity"):
        ENGAGEMENTS.find(E.DELIVERED, "close", Role.STAFF, unconfirmed)
    unrated = GuardContext(actor_id=1, activities={"confirmed": 2})
    with pytest.raises(InvalidTransition, match="not rated"):
        ENGAGEMENTS.find(E.DELIVERED, "close", Role.STAFF, unrated)
    done = GuardContext(actor_id=1, activities={"confirmed": 2}, has_feedback=True)
    assert ENGAGEMENTS.find(E.DELIVERED, "close", Role.STAFF, done).target == E.CLOSED


def test_each_enum_keeps_its_own_labels() -> None:
    """Members of different enums share values ("declined", "delivered"): labels must not mix."""
    assert R.DECLINED.label == "Declined"
    assert E.DECLINED.label == "Declined by the expert"
    assert E.DELIVERED.label == "Delivered"
    assert A.DELIVERED.label == "Delivered, awaiting the city's confirmation"
    assert E.PLANNED.label == "Activities planned" and A.PLANNED.label == "Planned"
