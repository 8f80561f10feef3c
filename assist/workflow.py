"""The request and engagement lifecycles declared as data: one table each, read by everyone.

Services ask ``Machine.find`` before any state change, pages list ``Machine.allowed`` as buttons,
the tests walk every (state, action, role), and the README's diagrams come from ``mermaid()``.
Pure Python: no Flask, no database. Tenancy (whose object it is) is decided in each feature's
``policy.py``; conditions that depend on who did what before (four eyes) are guards here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
        return _REQUEST_LABELS[self]


class EngagementStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PLANNED = "planned"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _ENGAGEMENT_LABELS[self]


# One dict per enum: StrEnum members of different enums with the same value are equal
# (and hash alike), so a shared dict would let one label overwrite another.
_REQUEST_LABELS = {
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
_ENGAGEMENT_LABELS = {
    EngagementStatus.PROPOSED: "Proposed",
    EngagementStatus.APPROVED: "Approved, awaiting the expert",
    EngagementStatus.ACCEPTED: "Accepted by the expert",
    EngagementStatus.DECLINED: "Declined by the expert",
    EngagementStatus.PLANNED: "Activities planned",
    EngagementStatus.DELIVERING: "Delivering",
    EngagementStatus.DELIVERED: "Delivered",
    EngagementStatus.CLOSED: "Closed",
    EngagementStatus.CANCELLED: "Cancelled",
}

#: States in which the city may still change what it wrote.
EDITABLE_REQUEST_STATES = frozenset({RequestStatus.DRAFT, RequestStatus.NEEDS_INFO})
#: Efus staff's actions; administrators may take them too.
STAFF = frozenset({Role.STAFF, Role.ADMIN})
CITY = frozenset({Role.CITY_OFFICIAL})
EXPERT = frozenset({Role.EXPERT})
#: Moves the services make as a consequence of another action, never a person directly.
SYSTEM: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class GuardContext:
    """What a guard may look at, gathered by the service."""

    actor_id: int
    proposer_id: int | None = None
    four_eyes: bool = False
    #: Activities of the engagement by status value, e.g. {"planned": 2, "confirmed": 1}.
    activities: dict[str, int] = field(default_factory=dict)
    has_feedback: bool = False


#: A guard returns None when the action may go ahead, else the reason it may not.
Guard = Callable[[GuardContext], str | None]


def _four_eyes(ctx: GuardContext) -> str | None:
    if ctx.four_eyes and ctx.proposer_id is not None and ctx.actor_id == ctx.proposer_id:
        return "Four-eyes rule: a match must be approved by someone other than its proposer."
    return None


def _has_planned_activity(ctx: GuardContext) -> str | None:
    if not any(ctx.activities.get(s, 0) for s in ("planned", "delivered", "confirmed")):
        return "Plan at least one activity first."
    return None


def _nothing_left_to_deliver(ctx: GuardContext) -> str | None:
    if ctx.activities.get("planned", 0) or ctx.activities.get("disputed", 0):
        return (
            "Some activities are still planned or disputed: record them as delivered "
            "(or cancel them) first."
        )
    if not any(ctx.activities.get(s, 0) for s in ("delivered", "confirmed")):
        return "Record at least one delivered activity first."
    return None


def _confirmed_and_rated(ctx: GuardContext) -> str | None:
    if ctx.activities.get("delivered", 0) or ctx.activities.get("disputed", 0):
        return "The city has not confirmed every delivered activity yet."
    if not ctx.has_feedback:
        return "The city has not rated the engagement yet."
    return None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[StrEnum]
    target: StrEnum
    roles: frozenset[Role]
    label: str
    #: A comment the actor must give (e.g. a reason for declining).
    needs_comment: bool = False
    #: Shown as a secondary, cautious button.
    destructive: bool = False
    guards: tuple[Guard, ...] = ()

    @property
    def automatic(self) -> bool:
        return not self.roles


@dataclass(frozen=True)
class Machine:
    name: str
    states: type[StrEnum]
    initial: StrEnum
    #: Who may create an object (which starts in ``initial``).
    creators: frozenset[Role]
    transitions: tuple[Transition, ...] = field(default=())

    def actions(self) -> list[str]:
        return sorted({t.action for t in self.transitions})

    def allowed(self, state: StrEnum, role: Role) -> list[Transition]:
        """The actions this role may take from this state, in declaration order."""
        return [t for t in self.transitions if state in t.sources and role in t.roles]

    def find(
        self, state: StrEnum, action: str, role: Role | None, ctx: GuardContext | None = None
    ) -> Transition:
        """The transition for (state, action, role), or ``InvalidTransition`` saying why not.

        ``role=None`` asks for an automatic transition (taken by the system).
        """
        candidates = [t for t in self.transitions if t.action == action]
        if not candidates:
            raise InvalidTransition(f"'{action}' is not an action on a {self.name}.")
        from_here = [t for t in candidates if state in t.sources]
        if not from_here:
            label = getattr(state, "label", str(state))
            raise InvalidTransition(
                f"'{candidates[0].label}' is not possible while the {self.name} is '{label}'."
            )
        for t in from_here:
            if (role is None and t.automatic) or (role is not None and role in t.roles):
                for guard in t.guards:
                    if ctx is not None and (reason := guard(ctx)):
                        raise InvalidTransition(reason)
                return t
        if role is None:
            raise InvalidTransition(f"'{from_here[0].label}' is not an automatic step.")
        if from_here[0].automatic:
            raise InvalidTransition(f"'{from_here[0].label}' happens on its own, not by hand.")
        raise InvalidTransition(f"Your role ({role.label}) cannot '{from_here[0].label}'.")

    def mermaid(self) -> str:
        """A Mermaid state diagram of this table (the README's diagrams are generated from it)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for t in self.transitions:
            who = "system" if t.automatic else "/".join(sorted(r.value for r in t.roles))
            for source in sorted(t.sources, key=list(self.states).index):
                lines.append(f"    {source.value} --> {t.target.value}: {t.action} ({who})")
        return "\n".join(lines)


REQUESTS = Machine(
    name="request",
    states=RequestStatus,
    initial=RequestStatus.DRAFT,
    creators=CITY,
    transitions=(
        Transition(
            "submit",
            frozenset({RequestStatus.DRAFT}),
            RequestStatus.SUBMITTED,
            CITY,
            "Submit to Efus",
        ),
        Transition(
            "start_review",
            frozenset({RequestStatus.SUBMITTED}),
            RequestStatus.IN_REVIEW,
            STAFF,
            "Take into review",
        ),
        Transition(
            "ask_info",
            frozenset({RequestStatus.IN_REVIEW}),
            RequestStatus.NEEDS_INFO,
            STAFF,
            "Ask the city for more information",
            needs_comment=True,
        ),
        Transition(
            "resubmit",
            frozenset({RequestStatus.NEEDS_INFO}),
            RequestStatus.SUBMITTED,
            CITY,
            "Send the completed request back to Efus",
        ),
        Transition(
            "decline",
            frozenset({RequestStatus.IN_REVIEW}),
            RequestStatus.DECLINED,
            STAFF,
            "Decline the request",
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "start_matching",
            frozenset({RequestStatus.IN_REVIEW}),
            RequestStatus.MATCHING,
            STAFF,
            "Move to matching",
        ),
        Transition(
            "engage",
            frozenset({RequestStatus.MATCHING}),
            RequestStatus.ENGAGED,
            SYSTEM,
            "An expert organisation accepted",
        ),
        Transition(
            "complete",
            frozenset({RequestStatus.ENGAGED}),
            RequestStatus.COMPLETED,
            SYSTEM,
            "Every engagement is closed",
        ),
        Transition(
            "rematch",
            frozenset({RequestStatus.ENGAGED}),
            RequestStatus.MATCHING,
            SYSTEM,
            "The engagement ended before delivery",
        ),
        Transition(
            "withdraw",
            frozenset(
                {
                    RequestStatus.DRAFT,
                    RequestStatus.SUBMITTED,
                    RequestStatus.IN_REVIEW,
                    RequestStatus.NEEDS_INFO,
                    RequestStatus.MATCHING,
                }
            ),
            RequestStatus.WITHDRAWN,
            CITY,
            "Withdraw request",
            needs_comment=True,
            destructive=True,
        ),
    ),
)

#: Engagements still running: the request is matched, the expert's capacity is used.
OPEN_ENGAGEMENT_STATES = frozenset(
    {
        EngagementStatus.PROPOSED,
        EngagementStatus.APPROVED,
        EngagementStatus.ACCEPTED,
        EngagementStatus.PLANNED,
        EngagementStatus.DELIVERING,
    }
)
#: Engagements that hold one of the expert organisation's capacity slots.
CAPACITY_STATES = frozenset(
    {
        EngagementStatus.ACCEPTED,
        EngagementStatus.PLANNED,
        EngagementStatus.DELIVERING,
    }
)

ENGAGEMENTS = Machine(
    name="engagement",
    states=EngagementStatus,
    initial=EngagementStatus.PROPOSED,
    creators=STAFF,
    transitions=(
        Transition(
            "approve",
            frozenset({EngagementStatus.PROPOSED}),
            EngagementStatus.APPROVED,
            STAFF,
            "Approve the match",
            guards=(_four_eyes,),
        ),
        Transition(
            "accept",
            frozenset({EngagementStatus.APPROVED}),
            EngagementStatus.ACCEPTED,
            EXPERT,
            "Accept the engagement",
        ),
        Transition(
            "decline",
            frozenset({EngagementStatus.APPROVED}),
            EngagementStatus.DECLINED,
            EXPERT,
            "Decline the engagement",
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "confirm_plan",
            frozenset({EngagementStatus.ACCEPTED}),
            EngagementStatus.PLANNED,
            EXPERT | CITY,
            "Confirm the plan of activities",
            guards=(_has_planned_activity,),
        ),
        Transition(
            "start_delivery",
            frozenset({EngagementStatus.PLANNED}),
            EngagementStatus.DELIVERING,
            SYSTEM,
            "The first activity was delivered",
        ),
        Transition(
            "finish_delivery",
            frozenset({EngagementStatus.DELIVERING}),
            EngagementStatus.DELIVERED,
            EXPERT,
            "Mark all activities as delivered",
            guards=(_nothing_left_to_deliver,),
        ),
        Transition(
            "close",
            frozenset({EngagementStatus.DELIVERED}),
            EngagementStatus.CLOSED,
            STAFF,
            "Close the engagement",
            guards=(_confirmed_and_rated,),
        ),
        Transition(
            "cancel",
            OPEN_ENGAGEMENT_STATES,
            EngagementStatus.CANCELLED,
            STAFF,
            "Cancel the engagement",
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "withdrawn",
            OPEN_ENGAGEMENT_STATES,
            EngagementStatus.CANCELLED,
            SYSTEM,
            "The city withdrew the request",
        ),
    ),
)


class ActivityStatus(StrEnum):
    PLANNED = "planned"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _ACTIVITY_LABELS[self]


_ACTIVITY_LABELS = {
    ActivityStatus.PLANNED: "Planned",
    ActivityStatus.DELIVERED: "Delivered, awaiting the city's confirmation",
    ActivityStatus.CONFIRMED: "Confirmed by the city",
    ActivityStatus.DISPUTED: "Disputed by the city",
    ActivityStatus.CANCELLED: "Cancelled",
}

#: Engagement states in which activities can be planned or recorded.
ACTIVITY_OPEN_ENGAGEMENT_STATES = frozenset(
    {EngagementStatus.ACCEPTED, EngagementStatus.PLANNED, EngagementStatus.DELIVERING}
)

ACTIVITIES = Machine(
    name="activity",
    states=ActivityStatus,
    initial=ActivityStatus.PLANNED,
    creators=EXPERT | CITY,
    transitions=(
        Transition(
            "record",
            frozenset({ActivityStatus.PLANNED, ActivityStatus.DISPUTED}),
            ActivityStatus.DELIVERED,
            EXPERT,
            "Record as delivered",
        ),
        Transition(
            "confirm",
            frozenset({ActivityStatus.DELIVERED}),
            ActivityStatus.CONFIRMED,
            CITY,
            "Confirm this activity",
        ),
        Transition(
            "dispute",
            frozenset({ActivityStatus.DELIVERED}),
            ActivityStatus.DISPUTED,
            CITY,
            "Dispute this record",
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "cancel",
            frozenset({ActivityStatus.PLANNED}),
            ActivityStatus.CANCELLED,
            EXPERT | CITY,
            "Cancel this planned activity",
            needs_comment=True,
            destructive=True,
        ),
    ),
)

MACHINES = (REQUESTS, ENGAGEMENTS, ACTIVITIES)


if __name__ == "__main__":  # python -m assist.workflow: the diagrams pasted into the README
    for machine in MACHINES:
        print(f"```mermaid\n{machine.mermaid()}\n```\n")
