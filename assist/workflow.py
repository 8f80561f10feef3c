"""The request lifecycle declared as data; services, pages and tests all read this table.

Pure Python: no Flask, no database. ``find_transition`` is the single gate every state change
passes through; it raises ``InvalidTransition`` with a sentence a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from assist.roles import Role


class InvalidTransition(Exception):
    """The action is not possible from the object's current state, or not for this role."""


class RequestStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    MATCHING = "matching"
    ENGAGED = "engaged"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    RequestStatus.DRAFT: "Draft",
    RequestStatus.SUBMITTED: "Submitted",
    RequestStatus.IN_REVIEW: "In review",
    RequestStatus.NEEDS_INFO: "More information needed",
    RequestStatus.MATCHING: "Matching an expert",
    RequestStatus.ENGAGED: "Expert engaged",
    RequestStatus.COMPLETED: "Completed",
    RequestStatus.DECLINED: "Declined",
    RequestStatus.WITHDRAWN: "Withdrawn",
}

#: States in which the city may still change what it wrote.
EDITABLE_REQUEST_STATES = frozenset({RequestStatus.DRAFT, RequestStatus.NEEDS_INFO})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[StrEnum]
    target: StrEnum
    roles: frozenset[Role]
    label: str
    #: A comment the actor must give (e.g. a reason for withdrawing).
    needs_comment: bool = False
    #: Shown as a secondary, cautious button.
    destructive: bool = False


REQUEST_TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        action="submit",
        sources=frozenset({RequestStatus.DRAFT}),
        target=RequestStatus.SUBMITTED,
        roles=frozenset({Role.CITY_OFFICIAL}),
        label="Submit to Efus",
    ),
    Transition(
        action="withdraw",
        sources=frozenset(
            {
                RequestStatus.DRAFT,
                RequestStatus.SUBMITTED,
                RequestStatus.IN_REVIEW,
                RequestStatus.NEEDS_INFO,
                RequestStatus.MATCHING,
            }
        ),
        target=RequestStatus.WITHDRAWN,
        roles=frozenset({Role.CITY_OFFICIAL}),
        label="Withdraw request",
        needs_comment=True,
        destructive=True,
    ),
)


def transitions_from(table: tuple[Transition, ...], state: StrEnum, role: Role) -> list[Transition]:
    """The actions this role may take from this state, in declaration order."""
    return [t for t in table if state in t.sources and role in t.roles]


def find_transition(
    table: tuple[Transition, ...], state: StrEnum, action: str, role: Role
) -> Transition:
    """Return the transition for (state, action, role) or explain why there is none."""
    candidates = [t for t in table if t.action == action]
    if not candidates:
        raise InvalidTransition(f"'{action}' is not an action this workflow knows.")
    from_here = [t for t in candidates if state in t.sources]
    if not from_here:
        label = getattr(state, "label", str(state))
        raise InvalidTransition(
            f"'{candidates[0].label}' is not possible while the status is '{label}'."
        )
    for t in from_here:
        if role in t.roles:
            return t
    raise InvalidTransition(f"Your role ({role.label}) cannot '{from_here[0].label}'.")
