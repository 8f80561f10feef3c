"""Suggested allocation of experts to open requests under capacity, vetoes and demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from sklearn.utils.validation import check_is_fitted

from matching.matcher import Matcher
from matching.profiles import FrozenMap, RequestProfile

__all__ = ["Allocation", "Assignment", "BindingConstraint", "assign"]


@dataclass(frozen=True)
class Allocation:
    """One expert suggested for one request."""

    request_id: str
    expert_id: str
    score: float


@dataclass(frozen=True)
class BindingConstraint:
    """A constraint that stops some demand from being met, and how to relax it.

    Attributes
    ----------
    kind : {"eligibility", "capacity", "total_capacity"}
        ``eligibility``: too few experts may serve the request at all (vetoes,
        no common language, score floor). ``capacity``: eligible experts exist
        but their remaining capacity is used up. ``total_capacity``: total
        demand exceeds the total remaining capacity.
    subject : str
        The request id (or ``"*"`` for ``total_capacity``).
    message : str
        What binds, in words.
    relax : str
        What to change to meet the demand.
    """

    kind: str
    subject: str
    message: str
    relax: str


@dataclass(frozen=True)
class Assignment:
    """Result of :func:`assign`.

    Attributes
    ----------
    allocations : tuple of Allocation
        The suggested pairs, by request then descending score. When not
        ``feasible`` this is the best partial allocation.
    total_score : float
        Sum of the allocated pairs' scores.
    feasible : bool
        Whether every request's demand is met.
    unmet : mapping of str to int
        Request id -> experts still missing (only requests with a shortfall).
    binding : tuple of BindingConstraint
        Why demand is unmet and what to relax; empty when feasible.
    """

    allocations: tuple[Allocation, ...]
    total_score: float
    feasible: bool
    unmet: Mapping[str, int] = field(default_factory=FrozenMap)
    binding: tuple[BindingConstraint, ...] = ()

    def experts_for(self, request_id: str) -> list[str]:
        """Expert ids allocated to one request, best first."""
        return [a.expert_id for a in self.allocations if a.request_id == request_id]

    @property
    def message(self) -> str:
        """A one-paragraph summary for the staff view."""
        if self.feasible:
            n = len(self.allocations)
            return f"all demand met with {n} allocation(s), total fit {self.total_score:.3f}"
        parts = [f"{b.message} Relax: {b.relax}" for b in self.binding]
        missing = sum(self.unmet.values())
        return f"{missing} expert place(s) cannot be filled. " + " ".join(parts)


def _names(ids: list[str], limit: int = 6) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def assign(
    matcher: Matcher,
    requests: Sequence[RequestProfile],
    *,
    capacity: Mapping[str, int] | None = None,
    require_common_language: bool = True,
    min_score: float | None = None,
) -> Assignment:
    """Allocate experts to open requests, maximising total fit.

    Solves a b-matching with scipy's HiGHS MILP solver: each request gets
    ``request.demand`` distinct experts, each expert at most its remaining
    capacity, vetoed pairs never. Demand that cannot be met is absorbed by
    penalised slack, so the result is always the best partial allocation plus
    the constraints that bind, never a bare "no solution".

    Parameters
    ----------
    matcher : Matcher
        A fitted matcher; its experts are the candidates.
    requests : sequence of RequestProfile
        Open requests, each with a unique ``id``; ``demand`` and ``excluded``
        are read from them.
    capacity : mapping of str to int or None, default=None
        Remaining capacity per expert id, overriding the profiles'
        ``capacity - active_engagements``. Experts with unknown capacity
        are not limited.
    require_common_language : bool, default=True
        Exclude pairs that share no working language.
    min_score : float or None, default=None
        Exclude pairs scoring below this.

    Returns
    -------
    Assignment

    Raises
    ------
    ValueError
        Unfitted matcher, requests without unique ids, negative capacities.
    """
    check_is_fitted(matcher, "weights_")
    if isinstance(requests, RequestProfile) or not isinstance(requests, Sequence):
        raise ValueError("requests must be a list of RequestProfile")
    ids: list[str] = []
    for i, r in enumerate(requests):
        if not isinstance(r, RequestProfile):
            raise ValueError(f"requests[{i}] is a {type(r).__name__}, not a RequestProfile")
        if r.id is None:
            raise ValueError(f"requests[{i}] has no id; assign needs an id per request")
        ids.append(r.id)
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate request ids: {sorted({x for x in ids if ids.count(x) > 1})}")
    if not requests:
        return Assignment(allocations=(), total_score=0.0, feasible=True)

    experts = matcher.experts_
    n_req, n_exp = len(requests), len(experts)
    remaining = np.array(
        [n_req if e.remaining_capacity is None else e.remaining_capacity for e in experts],
        dtype=float,
    )
    for eid, cap in (capacity or {}).items():
        j = matcher.index_.get(eid)
        if j is None:
            raise ValueError(f"capacity given for unknown expert {eid!r}")
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ValueError(f"capacity of {eid!r} must be a non-negative integer, got {cap!r}")
        remaining[j] = cap

    scores = matcher.score_matrix(list(requests))
    common = matcher.signals_.transform(list(requests)).common_language
    vetoed = np.zeros((n_req, n_exp), dtype=bool)
    for i, r in enumerate(requests):
        for eid in r.excluded:
            j = matcher.index_.get(eid)
            if j is not None:
                vetoed[i, j] = True
    no_language = (common == 0) if require_common_language else np.zeros_like(vetoed)
    low = (scores < min_score) if min_score is not None else np.zeros_like(vetoed)
    eligible = ~vetoed & ~no_language & ~low
    usable = eligible & (remaining[None, :] > 0)

    rows, cols = np.nonzero(usable)
    n_pairs = rows.size
    demand = np.array([r.demand for r in requests], dtype=float)
    pair_scores = scores[rows, cols]
    # Slack per request, priced so that filling one more place always beats any score gain.
    big = 1.0 + 2.0 * float(np.abs(pair_scores).sum())
    c = np.concatenate([-pair_scores, np.full(n_req, big)])
    req_rows = sp.csr_matrix(
        (
            np.ones(n_pairs + n_req),
            (np.concatenate([rows, np.arange(n_req)]), np.arange(n_pairs + n_req)),
        ),
        shape=(n_req, n_pairs + n_req),
    )
    constraints = [LinearConstraint(req_rows, demand, demand)]
    limited = np.flatnonzero(remaining < n_req)
    if n_pairs and limited.size:
        pos = {j: k for k, j in enumerate(limited)}
        keep = np.array([j in pos for j in cols])
        exp_rows = sp.csr_matrix(
            (np.ones(int(keep.sum())), ([pos[j] for j in cols[keep]], np.flatnonzero(keep))),
            shape=(limited.size, n_pairs + n_req),
        )
        constraints.append(LinearConstraint(exp_rows, -np.inf, remaining[limited]))
    result = milp(
        c,
        constraints=constraints,
        integrality=np.ones(n_pairs + n_req),
        bounds=Bounds(np.zeros(n_pairs + n_req), np.concatenate([np.ones(n_pairs), demand])),
    )
    if result.x is None:  # pragma: no cover - the slack keeps the model feasible
        raise RuntimeError(f"assignment solver failed: {result.message}")
    x = np.round(result.x).astype(int)
    chosen = np.flatnonzero(x[:n_pairs] == 1)
    slack = x[n_pairs:]

    allocations = sorted(
        (Allocation(ids[rows[k]], experts[cols[k]].id, float(pair_scores[k])) for k in chosen),
        key=lambda a: (ids.index(a.request_id), -a.score, a.expert_id),
    )
    unmet = {ids[i]: int(slack[i]) for i in range(n_req) if slack[i] > 0}
    binding = _diagnose(
        requests,
        unmet,
        experts_ids=[e.id for e in experts],
        remaining=remaining,
        eligible=eligible,
        excluded={
            "vetoed": vetoed,
            "no common language": no_language,
            "below the score floor": low,
        },
        allocations=allocations,
        demand=demand,
    )
    return Assignment(
        allocations=tuple(allocations),
        total_score=float(sum(a.score for a in allocations)),
        feasible=not unmet,
        unmet=FrozenMap(unmet),
        binding=tuple(binding),
    )


def _diagnose(
    requests: Sequence[RequestProfile],
    unmet: Mapping[str, int],
    *,
    experts_ids: list[str],
    remaining: np.ndarray,
    eligible: np.ndarray,
    excluded: Mapping[str, np.ndarray],
    allocations: list[Allocation],
    demand: np.ndarray,
) -> list[BindingConstraint]:
    """Name the constraint behind each shortfall and what would relax it."""
    if not unmet:
        return []
    out: list[BindingConstraint] = []
    finite = remaining < len(requests)
    if finite.all() and demand.sum() > remaining.sum():
        out.append(
            BindingConstraint(
                kind="total_capacity",
                subject="*",
                message=(
                    f"Total demand ({int(demand.sum())} experts) exceeds the directory's remaining "
                    f"capacity ({int(remaining.sum())})."
                ),
                relax="raise some experts' capacity, add experts, or lower or defer demand.",
            )
        )
    load: dict[str, list[str]] = {}
    for a in allocations:
        load.setdefault(a.expert_id, []).append(a.request_id)
    for i, r in enumerate(requests):
        short = unmet.get(r.id or "", 0)
        if not short:
            continue
        n_eligible = int(eligible[i].sum())
        if n_eligible < r.demand:
            why = []
            seen = np.zeros(len(experts_ids), dtype=bool)
            for label, mask in excluded.items():
                # Each expert is named once, under the first reason that excludes it.
                names = [experts_ids[j] for j in np.flatnonzero(mask[i] & ~seen)]
                seen |= mask[i]
                if names:
                    why.append(f"{label}: {_names(names)}")
            out.append(
                BindingConstraint(
                    kind="eligibility",
                    subject=r.id or str(i),
                    message=(
                        f"Request {r.id} needs {r.demand} expert(s) but only {n_eligible} "
                        "may serve it" + (f" ({'; '.join(why)})." if why else ".")
                    ),
                    relax=(
                        f"lower its demand to {n_eligible}, lift a veto, accept experts without a "
                        "common language, or lower the score floor."
                    ),
                )
            )
            continue
        full = [experts_ids[j] for j in np.flatnonzero(eligible[i] & (remaining <= 0))]
        busy = [
            f"{experts_ids[j]} (to {', '.join(load[experts_ids[j]])})"
            for j in np.flatnonzero(eligible[i] & (remaining > 0))
            if experts_ids[j] in load and r.id not in load[experts_ids[j]]
        ]
        parts = []
        if full:
            parts.append(f"already at capacity: {_names(full)}")
        if busy:
            parts.append(f"capacity used by other requests: {_names(busy)}")
        candidates = [experts_ids[j] for j in np.flatnonzero(eligible[i])]
        out.append(
            BindingConstraint(
                kind="capacity",
                subject=r.id or str(i),
                message=(
                    f"Request {r.id} is short of {short} expert(s): its {len(candidates)} eligible "
                    f"expert(s) have no capacity left"
                    + (f" ({'; '.join(parts)})." if parts else ".")
                ),
                relax=(
                    f"raise the capacity of one of {_names(candidates, 4)}, lower the demand of "
                    f"{r.id} or of a competing request, or defer a competing request."
                ),
            )
        )
    return out
