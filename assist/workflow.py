"""The request and engagement lifecycles declared as data: one table each, read by everyone.

Services ask ``Machine.find`` before any state change, pages list ``Machine.allowed`` as buttons,
the tests walk every (state, action, role), and the README's diagrams come from ``mermaid()``.
Pure Python apart from Flask-Babel's gettext (which works without an app and then answers in
English): no Flask app, no database. Tenancy (whose object it is) is decided in each feature's
``policy.py``; conditions that depend on who did what before (four eyes) are guards here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

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
        return str(_REQUEST_LABELS[self])


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
        return str(_ENGAGEMENT_LABELS[self])


# Status labels carry a context ("engagement status", …): the same English word may need another
# gender or form depending on what it describes (an engagement, an activity, a request).
# One dict per enum: StrEnum members of different enums with the same value are equal
# (and hash alike), so a shared dict would let one label overwrite another.
_REQUEST_LABELS = {
    RequestStatus.DRAFT: lazy_pgettext("request status", "Draft"),
    RequestStatus.SUBMITTED: lazy_pgettext("request status", "Submitted"),
    RequestStatus.IN_REVIEW: lazy_pgettext("request status", "In review"),
    RequestStatus.NEEDS_INFO: lazy_pgettext("request status", "More information needed"),
    RequestStatus.MATCHING: lazy_pgettext("request status", "Matching an expert"),
    RequestStatus.ENGAGED: lazy_pgettext("request status", "Expert engaged"),
    RequestStatus.COMPLETED: lazy_pgettext("request status", "Completed"),
    RequestStatus.DECLINED: lazy_pgettext("request status", "Declined"),
    RequestStatus.WITHDRAWN: lazy_pgettext("request status", "Withdrawn"),
}
_ENGAGEMENT_LABELS = {
    EngagementStatus.PROPOSED: lazy_pgettext("engagement status", "Proposed"),
    EngagementStatus.APPROVED: lazy_pgettext("engagement status", "Approved, awaiting the expert"),
    EngagementStatus.ACCEPTED: lazy_pgettext("engagement status", "Accepted by the expert"),
    EngagementStatus.DECLINED: lazy_pgettext("engagement status", "Declined by the expert"),
    EngagementStatus.PLANNED: lazy_pgettext("engagement status", "Activities planned"),
    EngagementStatus.DELIVERING: lazy_pgettext("engagement status", "Delivering"),
    EngagementStatus.DELIVERED: lazy_pgettext("engagement status", "Delivered"),
    EngagementStatus.CLOSED: lazy_pgettext("engagement status", "Closed"),
    EngagementStatus.CANCELLED: lazy_pgettext("engagement status", "Cancelled"),
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


#: A guard returns None when the action may go ahead, else the reason it may not (translated:
#: guards run when the action is asked for, in the asker's language).
Guard = Callable[[GuardContext], str | None]


def _four_eyes(ctx: GuardContext) -> str | None:
    if ctx.four_eyes and ctx.proposer_id is not None and ctx.actor_id == ctx.proposer_id:
        return _("Four-eyes rule: a match must be approved by someone other than its proposer.")
    return None


def _has_planned_activity(ctx: GuardContext) -> str | None:
    if not any(ctx.activities.get(s, 0) for s in ("planned", "delivered", "confirmed")):
        return _("Plan at least one activity first.")
    return None


def _nothing_left_to_deliver(ctx: GuardContext) -> str | None:
    if ctx.activities.get("planned", 0) or ctx.activities.get("disputed", 0):
        return _(
            "Some activities are still planned or disputed: record them as delivered "
            "(or cancel them) first."
        )
    if not any(ctx.activities.get(s, 0) for s in ("delivered", "confirmed")):
        return _("Record at least one delivered activity first.")
    return None


def _confirmed_and_rated(ctx: GuardContext) -> str | None:
    if ctx.activities.get("delivered", 0) or ctx.activities.get("disputed", 0):
        return _("The city has not confirmed every delivered activity yet.")
    if not ctx.has_feedback:
        return _("The city has not rated the engagement yet.")
    return None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[StrEnum]
    target: StrEnum
    roles: frozenset[Role]
    #: The button's text, a lazy translatable string: read it as ``label`` (a ``str`` in the
    #: reader's language). Left out of comparisons, whose result must not depend on the language.
    label_text: Any = field(compare=False)
    #: A comment the actor must give (e.g. a reason for declining).
    needs_comment: bool = False
    #: Shown as a secondary, cautious button.
    destructive: bool = False
    guards: tuple[Guard, ...] = ()

    @property
    def label(self) -> str:
        return str(self.label_text)

    @property
    def automatic(self) -> bool:
        return not self.roles


# Refusals that name the object: one whole sentence per machine, so that translators can give
# each noun its own article and gender. Keyed by ``Machine.name``.
_NOT_AN_ACTION: dict[str, Callable[[str], str]] = {
    "request": lambda action: _("'%(action)s' is not an action on a request.", action=action),
    "engagement": lambda action: _(
        "'%(action)s' is not an action on an engagement.", action=action
    ),
    "activity": lambda action: _("'%(action)s' is not an action on an activity.", action=action),
}
# NOTE: %(action)s is the action's button text, %(status)s the object's current status label.
_NOT_POSSIBLE_WHILE: dict[str, Callable[[str, str], str]] = {
    "request": lambda action, status: _(
        "'%(action)s' is not possible while the request is '%(status)s'.",
        action=action,
        status=status,
    ),
    "engagement": lambda action, status: _(
        "'%(action)s' is not possible while the engagement is '%(status)s'.",
        action=action,
        status=status,
    ),
    "activity": lambda action, status: _(
        "'%(action)s' is not possible while the activity is '%(status)s'.",
        action=action,
        status=status,
    ),
}


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
            raise InvalidTransition(_NOT_AN_ACTION[self.name](action))
        from_here = [t for t in candidates if state in t.sources]
        if not from_here:
            label = getattr(state, "label", str(state))
            raise InvalidTransition(_NOT_POSSIBLE_WHILE[self.name](candidates[0].label, label))
        for t in from_here:
            if (role is None and t.automatic) or (role is not None and role in t.roles):
                for guard in t.guards:
                    if ctx is not None and (reason := guard(ctx)):
                        raise InvalidTransition(reason)
                return t
        if role is None:
            raise InvalidTransition(
                _("'%(action)s' is not an automatic step.", action=from_here[0].label)
            )
        if from_here[0].automatic:
            raise InvalidTransition(
                _("'%(action)s' happens on its own, not by hand.", action=from_here[0].label)
            )
        raise InvalidTransition(
            _(
                "Your role (%(role)s) cannot '%(action)s'.",
                role=role.label,
                action=from_here[0].label,
            )
        )

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
            _l("Submit to Efus"),
        ),
        Transition(
            "start_review",
            frozenset({RequestStatus.SUBMITTED}),
            RequestStatus.IN_REVIEW,
            STAFF,
            _l("Take into review"),
        ),
        Transition(
            "ask_info",
            frozenset({RequestStatus.IN_REVIEW}),
            RequestStatus.NEEDS_INFO,
            STAFF,
            _l("Ask the city for more information"),
            needs_comment=True,
        ),
        Transition(
            "resubmit",
            frozenset({RequestStatus.NEEDS_INFO}),
            RequestStatus.SUBMITTED,
            CITY,
            _l("Send the completed request back to Efus"),
        ),
        Transition(
            "decline",
            frozenset({RequestStatus.IN_REVIEW}),
            RequestStatus.DECLINED,
            STAFF,
            _l("Decline the request"),
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "start_matching",
            frozenset({RequestStatus.IN_REVIEW}),
            RequestStatus.MATCHING,
            STAFF,
            _l("Move to matching"),
        ),
        Transition(
            "engage",
            frozenset({RequestStatus.MATCHING}),
            RequestStatus.ENGAGED,
            SYSTEM,
            _l("An expert organisation accepted"),
        ),
        Transition(
            "complete",
            frozenset({RequestStatus.ENGAGED}),
            RequestStatus.COMPLETED,
            SYSTEM,
            _l("Every engagement is closed"),
        ),
        Transition(
            "rematch",
            frozenset({RequestStatus.ENGAGED}),
            RequestStatus.MATCHING,
            SYSTEM,
            _l("The engagement ended before delivery"),
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
            _l("Withdraw request"),
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
            _l("Approve the match"),
            guards=(_four_eyes,),
        ),
        Transition(
            "accept",
            frozenset({EngagementStatus.APPROVED}),
            EngagementStatus.ACCEPTED,
            EXPERT,
            _l("Accept the engagement"),
        ),
        Transition(
            "decline",
            frozenset({EngagementStatus.APPROVED}),
            EngagementStatus.DECLINED,
            EXPERT,
            _l("Decline the engagement"),
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "confirm_plan",
            frozenset({EngagementStatus.ACCEPTED}),
            EngagementStatus.PLANNED,
            EXPERT | CITY,
            _l("Confirm the plan of activities"),
            guards=(_has_planned_activity,),
        ),
        Transition(
            "start_delivery",
            frozenset({EngagementStatus.PLANNED}),
            EngagementStatus.DELIVERING,
            SYSTEM,
            _l("The first activity was delivered"),
        ),
        Transition(
            "finish_delivery",
            frozenset({EngagementStatus.DELIVERING}),
            EngagementStatus.DELIVERED,
            EXPERT,
            _l("Mark all activities as delivered"),
            guards=(_nothing_left_to_deliver,),
        ),
        Transition(
            "close",
            frozenset({EngagementStatus.DELIVERED}),
            EngagementStatus.CLOSED,
            STAFF,
            _l("Close the engagement"),
            guards=(_confirmed_and_rated,),
        ),
        Transition(
            "cancel",
            OPEN_ENGAGEMENT_STATES,
            EngagementStatus.CANCELLED,
            STAFF,
            _l("Cancel the engagement"),
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "withdrawn",
            OPEN_ENGAGEMENT_STATES,
            EngagementStatus.CANCELLED,
            SYSTEM,
            _l("The city withdrew the request"),
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
        return str(_ACTIVITY_LABELS[self])


_ACTIVITY_LABELS = {
    ActivityStatus.PLANNED: lazy_pgettext("activity status", "Planned"),
    ActivityStatus.DELIVERED: lazy_pgettext(
        "activity status", "Delivered, awaiting the city's confirmation"
    ),
    ActivityStatus.CONFIRMED: lazy_pgettext("activity status", "Confirmed by the city"),
    ActivityStatus.DISPUTED: lazy_pgettext("activity status", "Disputed by the city"),
    ActivityStatus.CANCELLED: lazy_pgettext("activity status", "Cancelled"),
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
            _l("Record as delivered"),
        ),
        Transition(
            "confirm",
            frozenset({ActivityStatus.DELIVERED}),
            ActivityStatus.CONFIRMED,
            CITY,
            _l("Confirm this activity"),
        ),
        Transition(
            "dispute",
            frozenset({ActivityStatus.DELIVERED}),
            ActivityStatus.DISPUTED,
            CITY,
            _l("Dispute this record"),
            needs_comment=True,
            destructive=True,
        ),
        Transition(
            "cancel",
            frozenset({ActivityStatus.PLANNED}),
            ActivityStatus.CANCELLED,
            EXPERT | CITY,
            _l("Cancel this planned activity"),
            needs_comment=True,
            destructive=True,
        ),
    ),
)

MACHINES = (REQUESTS, ENGAGEMENTS, ACTIVITIES)


if __name__ == "__main__":  # python -m assist.workflow: the diagrams pasted into the README
    for machine in MACHINES:
        print(f"```mermaid\n{machine.mermaid()}\n```\n")
