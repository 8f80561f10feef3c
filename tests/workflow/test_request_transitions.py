"""The request workflow table, checked over every (status, action, role); no database."""

from __future__ import annotations

import itertools

import pytest

from assist.roles import Role
from assist.workflow import (
    REQUEST_TRANSITIONS,
    InvalidTransition,
    RequestStatus,
    find_transition,
    transitions_from,
)

# What the issue asks for so far, written out independently of the table.
EXPECTED = {
    (RequestStatus.DRAFT, "submit", Role.CITY_OFFICIAL): RequestStatus.SUBMITTED,
    **{
        (state, "withdraw", Role.CITY_OFFICIAL): RequestStatus.WITHDRAWN
        for state in (
            RequestStatus.DRAFT,
            RequestStatus.SUBMITTED,
            RequestStatus.IN_REVIEW,
            RequestStatus.NEEDS_INFO,
            RequestStatus.MATCHING,
        )
    },
}
ACTIONS = sorted({t.action for t in REQUEST_TRANSITIONS})


@pytest.mark.parametrize(
    ("state", "action", "role"), list(itertools.product(RequestStatus, ACTIONS, Role))
)
def test_table_matches_expectation(state: RequestStatus, action: str, role: Role) -> None:
    expected = EXPECTED.get((state, action, role))
    if expected is None:
        with pytest.raises(InvalidTransition) as info:
            find_transition(REQUEST_TRANSITIONS, state, action, role)
        assert str(info.value)  # a readable reason, never empty
    else:
        assert find_transition(REQUEST_TRANSITIONS, state, action, role).target == expected


def test_unknown_action_is_named() -> None:
    with pytest.raises(InvalidTransition, match="'teleport' is not an action"):
        find_transition(REQUEST_TRANSITIONS, RequestStatus.DRAFT, "teleport", Role.CITY_OFFICIAL)


def test_refusal_says_why() -> None:
    with pytest.raises(InvalidTransition, match="while the status is 'Withdrawn'"):
        find_transition(REQUEST_TRANSITIONS, RequestStatus.WITHDRAWN, "submit", Role.CITY_OFFICIAL)
    with pytest.raises(InvalidTransition, match=r"Your role \(Efus staff\) cannot"):
        find_transition(REQUEST_TRANSITIONS, RequestStatus.DRAFT, "submit", Role.STAFF)


def test_terminal_states_offer_nothing() -> None:
    for state in (RequestStatus.WITHDRAWN, RequestStatus.DECLINED, RequestStatus.COMPLETED):
        for role in Role:
            assert transitions_from(REQUEST_TRANSITIONS, state, role) == []


def test_withdraw_needs_a_reason() -> None:
    (withdraw,) = [t for t in REQUEST_TRANSITIONS if t.action == "withdraw"]
    assert withdraw.needs_comment and withdraw.destructive
