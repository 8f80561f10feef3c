"""Adapter between the database and ``matching/``: profiles from rows, a cached Matcher per process.

Every worker and instance reads the version stamp in ``matching_index_state``; a change to an
expert organisation bumps it in the same transaction (see ``_bump_on_directory_change``), so the
next ranking anywhere rebuilds (or loads the saved index for that stamp) and all rank alike.

One freshness trade-off: when the stamp moved but nothing except delivered reports can have
changed (organisations, tags, capacity, capacity in use and ratings are compared at every stamp),
a process keeps the index whose reports it read less than ``REPORTS_MAX_AGE`` seconds ago. A new
report's words thus reach the text similarity up to that much later, and two workers may differ
by those reports meanwhile; everything else applies at once, everywhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sklearn.base import clone
from sqlalchemy import event
from sqlalchemy.orm import Session

from assist.db import utcnow
from assist.delivery.models import Activity, EngagementFeedback
from assist.directory.models import (
    ExpertOrganisation,
    TaxonomyTerm,
    TermKind,
    expert_organisation_terms,
)
from assist.directory.queries import term_labels
from assist.engagements.models import Engagement, MatchingIndexState
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.workflow import (
    CAPACITY_STATES,
    OPEN_ENGAGEMENT_STATES,
    ActivityStatus,
    EngagementStatus,
)
from matching import Decision, ExpertProfile, Match, Matcher, RequestProfile, load_or_fit

log = logging.getLogger("assist.matching")

#: Changes to these rows change what the index is built from (profiles, delivered-activity
#: reports, ratings, capacity in use).
INDEXED_MODELS: tuple[type, ...] = (ExpertOrganisation, Engagement, Activity, EngagementFeedback)
LABEL_KINDS = (
    TermKind.THEME,
    TermKind.TARGET_GROUP,
    TermKind.FORMAT,
    TermKind.LANGUAGE,
    TermKind.COUNTRY,
)


def _changed(obj: Any, *names: str) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _affects_index(obj: Any, is_new: bool) -> bool:
    """Whether this change alters what the index is built from (so every worker rebuilds)."""
    if isinstance(obj, ExpertOrganisation | EngagementFeedback):
        return True  # profiles and ratings
    if isinstance(obj, Engagement):
        # Only moves into or out of the capacity-holding states change "capacity in use".
        return _changed(obj, "status") and (
            is_new or obj.status in CAPACITY_STATES or _was_in(obj, CAPACITY_STATES)
        )
    if isinstance(obj, Activity):
        # Only delivered reports are documents of the organisation.
        reported = {ActivityStatus.DELIVERED, ActivityStatus.CONFIRMED}
        return obj.status in reported or _was_in(obj, reported)
    return False


def _was_in(obj: Any, states: frozenset[Any] | set[Any]) -> bool:
    deleted = sa.inspect(obj).attrs["status"].history.deleted
    return any(s in states for s in deleted)


@event.listens_for(Session, "before_flush")
def _bump_on_directory_change(session: Session, flush_context: Any, instances: Any) -> None:
    new = [(obj, True) for obj in session.new]
    other = [(obj, False) for obj in (*session.dirty, *session.deleted)]
    if any(
        isinstance(obj, INDEXED_MODELS) and _affects_index(obj, is_new)
        for obj, is_new in new + other
    ):
        session.execute(
            sa.update(MatchingIndexState).values(
                version=MatchingIndexState.version + 1, changed_at=utcnow()
            )
        )


def current_stamp() -> str:
    """Version and time of the last change: a rolled-back bump can never be mistaken for a
    later committed one, because the two carry different times."""
    row = db.session.execute(
        sa.select(MatchingIndexState.version, MatchingIndexState.changed_at)
    ).first()
    return f"{row.version}@{row.changed_at.isoformat()}" if row else "0"


def bump_stamp() -> str:
    """Force every worker to rebuild (used by ``flask rebuild-index``)."""
    db.session.execute(
        sa.update(MatchingIndexState).values(
            version=MatchingIndexState.version + 1, changed_at=utcnow()
        )
    )
    return current_stamp()


def expert_profile(
    org: ExpertOrganisation | DirectoryRow,
    active: int = 0,
    reports: Sequence[str] = (),
    ratings: Sequence[int] = (),
) -> ExpertProfile:
    """The organisation as matching sees it: its profile text plus the reports of what it
    delivered, its tags, capacity in use and the cities' ratings."""
    documents = [d for d in (org.description, *reports) if d.strip()]
    return ExpertProfile(
        id=str(org.id),
        documents=documents,
        themes=org.codes(TermKind.THEME),
        target_groups=org.codes(TermKind.TARGET_GROUP),
        formats=org.codes(TermKind.FORMAT),
        languages=org.codes(TermKind.LANGUAGE),
        countries=org.codes(TermKind.COUNTRY),
        capacity=org.capacity,
        active_engagements=active,
        feedback=list(ratings),
    )


def request_profile(
    req: AssistanceRequest, excluded: dict[str, str] | None = None
) -> RequestProfile:
    text = "\n".join(part for part in (req.title, req.context, req.needs) if part.strip())
    return RequestProfile(
        id=str(req.id),
        text=text,
        themes=req.codes(TermKind.THEME),
        target_groups=req.codes(TermKind.TARGET_GROUP),
        formats=req.codes(TermKind.FORMAT),
        languages=req.codes(TermKind.LANGUAGE),
        country=req.authority.country,
        excluded=excluded or {},
    )


@dataclass(frozen=True)
class DirectoryRow:
    """What matching reads of an active organisation (``expert_profile`` takes it like the
    model): plain rows, because loading 500 organisations and their terms as ORM objects cost
    more than fitting the index."""

    id: int
    name: str
    description: str
    capacity: int
    terms: tuple[tuple[TermKind, str], ...]

    def codes(self, kind: TermKind) -> list[str]:
        return [code for k, code in self.terms if k == kind]


def _directory() -> list[DirectoryRow]:
    """The active organisations in id order, in two queries."""
    link = expert_organisation_terms.c
    stmt = (
        sa.select(link.organisation_id, TaxonomyTerm.kind, TaxonomyTerm.code)
        .join(TaxonomyTerm, TaxonomyTerm.id == link.term_id)
        .join(ExpertOrganisation, ExpertOrganisation.id == link.organisation_id)
        .where(ExpertOrganisation.is_active)
        .order_by(link.organisation_id, TaxonomyTerm.kind, TaxonomyTerm.position)
    )
    terms: dict[int, list[tuple[TermKind, str]]] = {}
    for org_id, kind, code in db.session.execute(stmt):
        terms.setdefault(org_id, []).append((kind, code))
    stmt2 = (
        sa.select(
            ExpertOrganisation.id,
            ExpertOrganisation.name,
            ExpertOrganisation.description,
            ExpertOrganisation.capacity,
        )
        .where(ExpertOrganisation.is_active)
        .order_by(ExpertOrganisation.id)
    )
    return [
        DirectoryRow(org_id, name, description, capacity, tuple(terms.get(org_id, ())))
        for org_id, name, description, capacity in db.session.execute(stmt2)
    ]


#: Seconds a process may keep ranking with the delivered reports it last read, as long as
#: nothing else the index reads has changed (``MATCHING_REPORTS_MAX_AGE``; 0 refits on every
#: stamp). Profiles, tags, active flags, capacity, capacity in use and ratings always apply at
#: once; only a new report's words may reach the text similarity up to this much later.
REPORTS_MAX_AGE = 30.0


@dataclass(frozen=True)
class _Fitted:
    stamp: str
    matcher: Matcher | None  # None when the directory is empty
    names: dict[str, str]
    # Everything the index was built from except the delivered reports, and when this process
    # read the reports (time.monotonic()).
    structure: tuple[Any, ...] = ()
    reports_read_at: float = 0.0
    # Kept for a later stamp without reading the reports again: they may have changed since.
    stale: bool = False

    def expired(self, now: float) -> bool:
        return self.stale and now - self.reports_read_at >= _reports_max_age()


def _reports_max_age() -> float:
    return float(current_app.config.get("MATCHING_REPORTS_MAX_AGE", REPORTS_MAX_AGE))


_clock = time.monotonic  # replaced in tests


@dataclass
class _Cache:
    """Per app and process; a cache only: losing it costs a rebuild, never a wrong answer."""

    lock: threading.Lock
    fitted: _Fitted | None = None
    # Whether this process has built an index before: its per-process cache of analysed
    # documents (matching.text) is then warm, and refitting is the cheapest way to a new stamp.
    warm: bool = False
    # organisation id -> (what its profile was made from, the profile), from the last build.
    profiles: dict[int, tuple[tuple[Any, ...], ExpertProfile]] = field(default_factory=dict)


def _cache() -> _Cache:
    return current_app.extensions.setdefault("assist.ranking", _Cache(threading.Lock()))


def reset_cache() -> None:
    """Forget this process's index (the next ranking rebuilds it); the analysed documents
    that ``matching.text`` keeps are not forgotten, they never change a result."""
    _cache().fitted = None


def _cache_dir() -> Path:
    path = Path(current_app.config.get("MATCHING_CACHE_DIR") or current_app.instance_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(stamp: str, previous: _Fitted | None = None) -> _Fitted:
    """The index for ``stamp``; ``previous`` (this process's last one) is reused when only
    delivered reports can have changed since and it read them under REPORTS_MAX_AGE ago."""
    orgs = _directory()
    names = {str(o.id): o.name for o in orgs}
    if not orgs:
        return _Fitted(stamp, None, names)
    from assist.engagements.queries import active_engagement_counts

    active = active_engagement_counts()
    ratings = _ratings()
    structure = (
        tuple(orgs),
        tuple(sorted(active.items())),
        tuple(sorted((org_id, tuple(r)) for org_id, r in ratings.items())),
    )
    now = _clock()
    if (
        previous is not None
        and previous.matcher is not None
        and previous.structure == structure
        and now - previous.reports_read_at < _reports_max_age()
    ):
        # Under load every delivered report moves the stamp (several a second in the bench),
        # and refitting for each cost more than the page itself.
        log.debug(
            "matching index %s: reports as read %.1f s ago", stamp, now - previous.reports_read_at
        )
        return replace(previous, stamp=stamp, stale=True)
    reports = _reports()
    template = Matcher(labels=term_labels(LABEL_KINDS))
    cache = _cache()
    # Profiles are frozen: an organisation whose inputs did not change keeps its profile object
    # (most of them on each rebuild), which skips its validation and keeps the garbage
    # collector's long-lived generation from growing with copies.
    known, cache.profiles = cache.profiles, {}
    profiles = []
    for o in orgs:
        key = (o, active.get(o.id, 0), tuple(reports.get(o.id, ())), tuple(ratings.get(o.id, ())))
        hit = known.get(o.id)
        profile = hit[1] if hit is not None and hit[0] == key else expert_profile(*key)
        cache.profiles[o.id] = (key, profile)
        profiles.append(profile)
    if cache.warm:
        # Refitting with this process's analysed documents (~17 ms for 500 organisations, one
        # new report re-analysed) beats fingerprinting the directory and loading a saved index
        # (~30 ms), and saving it (45 to 135 ms) would be paid on every stamp change.
        matcher = clone(template).fit(profiles)
    else:
        # A new process: load what another one saved for this stamp, or fit and save it.
        matcher = load_or_fit(_cache_dir(), "experts", profiles, template, stamp=stamp)
        cache.warm = True
    # Staff's past choices tune the signal weights once there are enough of them.
    result = matcher.learn(staff_decisions())
    log.info("matching index %s: %d organisations; %s", stamp, len(orgs), result.message)
    return _Fitted(stamp, matcher, names, structure, now)


def delivery_history() -> tuple[dict[int, list[str]], dict[int, list[int]]]:
    """Per organisation: the report of each delivered activity, and each city's rating."""
    return _reports(), _ratings()


def _reports() -> dict[int, list[str]]:
    reports: dict[int, list[str]] = {}
    stmt = (
        sa.select(Engagement.organisation_id, Activity.topic, Activity.summary, Activity.outcomes)
        .join(Activity, Activity.engagement_id == Engagement.id)
        .where(Activity.status.in_([ActivityStatus.DELIVERED, ActivityStatus.CONFIRMED]))
        .order_by(Activity.id)
    )
    for org_id, topic, summary, outcomes in db.session.execute(stmt):
        reports.setdefault(org_id, []).append("\n".join((topic, summary, outcomes)))
    return reports


def _ratings() -> dict[int, list[int]]:
    ratings: dict[int, list[int]] = {}
    stmt = (
        sa.select(Engagement.organisation_id, EngagementFeedback.rating)
        .join(EngagementFeedback, EngagementFeedback.engagement_id == Engagement.id)
        .order_by(EngagementFeedback.id)
    )
    for org_id, rating in db.session.execute(stmt):
        ratings.setdefault(org_id, []).append(rating)
    return ratings


def staff_decisions() -> list[Decision]:
    """Every recorded match decision as ``matching.Decision`` (chosen vs. passed over)."""
    from assist.engagements.models import MatchDecision

    stmt = sa.select(MatchDecision).options(
        sa.orm.joinedload(MatchDecision.request).joinedload(AssistanceRequest.authority),
        sa.orm.joinedload(MatchDecision.request).selectinload(AssistanceRequest.terms),
    )
    return [
        Decision(
            request=request_profile(d.request),
            chosen=str(d.chosen_organisation_id),
            passed_over=[str(p["organisation_id"]) for p in d.passed_over],
        )
        for d in db.session.scalars(stmt).unique()
    ]


def fitted() -> _Fitted:
    """The matcher for the current stamp: cached in this process, rebuilt when the stamp moves
    (or, for delivered reports only, once the reports it kept are REPORTS_MAX_AGE old)."""
    cache = _cache()
    stamp = current_stamp()
    cached = cache.fitted
    if cached is not None and cached.stamp == stamp and not cached.expired(_clock()):
        return cached
    with cache.lock:
        cached = cache.fitted
        if cached is None or cached.stamp != stamp or cached.expired(_clock()):
            cache.fitted = build(stamp, cached)
        return cache.fitted


@dataclass(frozen=True)
class RankedExpert:
    organisation_id: int
    name: str
    match: Match


def vetoes_for(req: AssistanceRequest) -> dict[str, str]:
    """Hard exclusions for this request: conflicts of interest, and organisations already
    proposed, engaged or declined on it."""
    from assist.engagements.queries import conflicts_for_authority, request_engagements

    # Worked out for each page, so they are written in the reader's language.
    vetoes = {
        str(org_id): _(
            "conflict of interest with %(authority)s: %(reason)s",
            authority=req.authority.name,
            reason=reason,
        )
        for org_id, reason in conflicts_for_authority(req.authority_id).items()
    }
    for engagement in request_engagements(req.id):
        if engagement.status in OPEN_ENGAGEMENT_STATES:
            vetoes[str(engagement.organisation_id)] = _(
                "already engaged or proposed on this request (%(status)s)",
                status=engagement.status.label,
            )
        elif engagement.status == EngagementStatus.DECLINED:
            vetoes.setdefault(str(engagement.organisation_id), _("declined this request"))
    return vetoes


def rank_experts(req: AssistanceRequest, *, k: int | None = None) -> list[RankedExpert]:
    """Expert organisations for this request, best first, each with its reasons; vetoed ones
    last, each saying why."""
    index = fitted()
    if index.matcher is None:
        return []
    matches: Iterable[Match] = index.matcher.rank(
        request_profile(req, vetoes_for(req)), k=k, include_excluded=True
    )
    return [RankedExpert(int(m.expert_id), index.names[m.expert_id], m) for m in matches]
