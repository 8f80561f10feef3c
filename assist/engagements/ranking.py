"""Adapter between the database and ``matching/``: profiles from rows, a cached Matcher per process.

Every worker and instance reads the version stamp in ``matching_index_state``; a change to an
expert organisation bumps it in the same transaction (see ``_bump_on_directory_change``), so the
next ranking anywhere rebuilds (or loads the saved index for that stamp) and all rank alike.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from assist.db import utcnow
from assist.directory.models import ExpertOrganisation, TermKind
from assist.directory.queries import term_labels
from assist.engagements.models import MatchingIndexState
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from matching import ExpertProfile, Match, Matcher, RequestProfile, load_or_fit

#: Changes to these rows change what the index is built from.
INDEXED_MODELS: tuple[type, ...] = (ExpertOrganisation,)
LABEL_KINDS = (
    TermKind.THEME,
    TermKind.TARGET_GROUP,
    TermKind.FORMAT,
    TermKind.LANGUAGE,
    TermKind.COUNTRY,
)


@event.listens_for(Session, "before_flush")
def _bump_on_directory_change(session: Session, flush_context: Any, instances: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, INDEXED_MODELS) for obj in changed):
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


def expert_profile(org: ExpertOrganisation) -> ExpertProfile:
    return ExpertProfile(
        id=str(org.id),
        documents=[org.description] if org.description.strip() else [],
        themes=org.codes(TermKind.THEME),
        target_groups=org.codes(TermKind.TARGET_GROUP),
        formats=org.codes(TermKind.FORMAT),
        languages=org.codes(TermKind.LANGUAGE),
        countries=org.codes(TermKind.COUNTRY),
        capacity=org.capacity,
        # Engagements and feedback arrive with the workflow and delivery features.
        active_engagements=0,
        feedback=(),
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


def _directory() -> list[ExpertOrganisation]:
    stmt = (
        sa.select(ExpertOrganisation)
        .where(ExpertOrganisation.is_active)
        .options(sa.orm.selectinload(ExpertOrganisation.terms))
        .order_by(ExpertOrganisation.id)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class _Fitted:
    stamp: str
    matcher: Matcher | None  # None when the directory is empty
    names: dict[str, str]


@dataclass
class _Cache:
    """Per app and process; a cache only: losing it costs a rebuild, never a wrong answer."""

    lock: threading.Lock
    fitted: _Fitted | None = None


def _cache() -> _Cache:
    return current_app.extensions.setdefault("assist.ranking", _Cache(threading.Lock()))


def reset_cache() -> None:
    _cache().fitted = None


def _cache_dir() -> Path:
    path = Path(current_app.config.get("MATCHING_CACHE_DIR") or current_app.instance_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(stamp: str) -> _Fitted:
    orgs = _directory()
    names = {str(o.id): o.name for o in orgs}
    if not orgs:
        return _Fitted(stamp, None, names)
    template = Matcher(labels=term_labels(LABEL_KINDS))
    matcher = load_or_fit(
        _cache_dir(), "experts", [expert_profile(o) for o in orgs], template, stamp=stamp
    )
    return _Fitted(stamp, matcher, names)


def fitted() -> _Fitted:
    """The matcher for the current stamp: cached in this process, rebuilt when the stamp moves."""
    cache = _cache()
    stamp = current_stamp()
    cached = cache.fitted
    if cached is not None and cached.stamp == stamp:
        return cached
    with cache.lock:
        if cache.fitted is None or cache.fitted.stamp != stamp:
            cache.fitted = build(stamp)
        return cache.fitted


@dataclass(frozen=True)
class RankedExpert:
    organisation_id: int
    name: str
    match: Match


def rank_experts(
    req: AssistanceRequest, *, k: int | None = None, excluded: dict[str, str] | None = None
) -> list[RankedExpert]:
    """Expert organisations for this request, best first, each with its reasons."""
    index = fitted()
    if index.matcher is None:
        return []
    matches: Iterable[Match] = index.matcher.rank(
        request_profile(req, excluded), k=k, include_excluded=True
    )
    return [RankedExpert(int(m.expert_id), index.names[m.expert_id], m) for m in matches]
