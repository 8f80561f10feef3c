"""Programme figures for Efus staff, as aggregate SQL: the number of queries does not grow with
the number of rows. Everything returned is plain JSON-able data (pages, CSV, the API).

Labels (statuses, taxonomy terms) are in the reader's language, as plain ``str``; codes, CSV
column names and machine values ("yes"/"no", ISO dates) stay the same in every language, so
files and scripts that read them keep working whoever downloaded them.

Definitions (also shown on the report page):

- A request belongs to the period when it was submitted in it (``submitted_at``, the latest
  submission: a request sent back for information counts from its resubmission). Drafts that
  were never submitted are not counted.
- *Time to match*: from submission to the first time an expert organisation accepted an
  engagement on the request (the ``accept`` entry of the audit trail).
- *Time to first activity*: from the day of submission to the earliest ``delivered_on`` of the
  request's activities recorded as delivered (delivered or confirmed).
- An activity belongs to the period by its delivery date; one not delivered (yet) by its
  planned start, or, without one, by the day it was planned.
- An engagement belongs to the period when it was proposed in it, closed in it, or has an
  activity in it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from assist.audit import AuditEntry
from assist.delivery.models import Activity, EngagementFeedback
from assist.directory.models import (
    ExpertOrganisation,
    LocalAuthority,
    TaxonomyTerm,
    TermKind,
    expert_organisation_terms,
    translate_term,
)
from assist.engagements.models import Engagement
from assist.extensions import db
from assist.reports.periods import Period, make_period
from assist.requests.models import AssistanceRequest, request_terms
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus

#: Activities that took place (the city may still confirm a delivered one).
IMPLEMENTED = frozenset({ActivityStatus.DELIVERED, ActivityStatus.CONFIRMED})
#: Activities still to happen, or recorded and disputed by the city (to be corrected).
PENDING = frozenset({ActivityStatus.PLANNED, ActivityStatus.DISPUTED})
#: Engagements that went ahead: the expert organisation accepted and it was not cancelled.
WENT_AHEAD = frozenset(
    {
        EngagementStatus.ACCEPTED,
        EngagementStatus.PLANNED,
        EngagementStatus.DELIVERING,
        EngagementStatus.DELIVERED,
        EngagementStatus.CLOSED,
    }
)
ACCEPT_ACTION = "accept"
ENGAGEMENT_OBJECT = Engagement.__tablename__


# Shared pieces ---------------------------------------------------------------------------------


def term_labels(kinds: Iterable[TermKind]) -> dict[TermKind, dict[str, str]]:
    """kind -> code -> label in the reader's language, in the vocabulary's order (one query)."""
    stmt = (
        sa.select(TaxonomyTerm.kind, TaxonomyTerm.code, TaxonomyTerm.label)
        .where(TaxonomyTerm.kind.in_(list(kinds)))
        .order_by(TaxonomyTerm.kind, TaxonomyTerm.position, TaxonomyTerm.id)
    )
    labels: dict[TermKind, dict[str, str]] = {kind: {} for kind in kinds}
    for kind, code, label in db.session.execute(stmt):
        labels[kind][code] = translate_term(label)
    return labels


def requests_in(period: Period) -> sa.ColumnElement[bool]:
    return sa.and_(
        _within(AssistanceRequest.submitted_at, period),
        AssistanceRequest.status != RequestStatus.DRAFT,
    )


def activities_in(period: Period) -> sa.ColumnElement[bool]:
    not_delivered = Activity.delivered_on.is_(None)
    return sa.or_(
        Activity.delivered_on.between(period.start, period.end),
        sa.and_(not_delivered, Activity.planned_start.between(period.start, period.end)),
        sa.and_(
            not_delivered,
            Activity.planned_start.is_(None),
            _within(Activity.created_at, period),
        ),
    )


def engagements_in(period: Period) -> sa.ColumnElement[bool]:
    has_activity = (
        sa.select(Activity.id)
        .where(Activity.engagement_id == Engagement.id, activities_in(period))
        .exists()
    )
    return sa.or_(
        _within(Engagement.created_at, period),
        _within(Engagement.closed_at, period),
        has_activity,
    )


def _within(column: Any, period: Period) -> sa.ColumnElement[bool]:
    return sa.and_(column >= period.start_at, column < period.end_before)


def first_accept_by_request() -> sa.Subquery:
    """request_id -> the earliest ``accept`` of any of its engagements (audit trail)."""
    return (
        sa.select(
            Engagement.request_id.label("request_id"),
            sa.func.min(AuditEntry.created_at).label("first_accept"),
        )
        .join(
            AuditEntry,
            sa.and_(
                AuditEntry.object_type == ENGAGEMENT_OBJECT,
                AuditEntry.object_id == Engagement.id,
                AuditEntry.action == ACCEPT_ACTION,
            ),
        )
        .group_by(Engagement.request_id)
        .subquery("first_accept")
    )


def first_accept_by_engagement() -> sa.Subquery:
    return (
        sa.select(
            AuditEntry.object_id.label("engagement_id"),
            sa.func.min(AuditEntry.created_at).label("accepted_at"),
        )
        .where(AuditEntry.object_type == ENGAGEMENT_OBJECT, AuditEntry.action == ACCEPT_ACTION)
        .group_by(AuditEntry.object_id)
        .subquery("accepted")
    )


def first_delivery_by_request() -> sa.Subquery:
    return (
        sa.select(
            Engagement.request_id.label("request_id"),
            sa.func.min(Activity.delivered_on).label("first_delivered"),
        )
        .join(Activity, Activity.engagement_id == Engagement.id)
        .where(Activity.status.in_(IMPLEMENTED), Activity.delivered_on.is_not(None))
        .group_by(Engagement.request_id)
        .subquery("first_delivered")
    )


def days_between(start: datetime | None, end: datetime | date | None) -> float | int | None:
    """Days from a timestamp to a timestamp (fractional) or to a date (whole days)."""
    if start is None or end is None:
        return None
    if isinstance(end, datetime):
        return (end - start).total_seconds() / 86400
    return (end - start.date()).days


def duration_stats(values: list[float | int]) -> dict[str, Any]:
    """Count, median and mean in days (one decimal), or None when there is nothing to measure."""
    if not values:
        return {"count": 0, "median_days": None, "mean_days": None}
    return {
        "count": len(values),
        "median_days": round(statistics.median(values), 1),
        "mean_days": round(statistics.fmean(values), 1),
    }


def participant_sums(where: sa.ColumnElement[bool]) -> dict[str, int]:
    """Sum of the ``participants`` JSON per group code, in SQL (json_each per backend)."""
    if db.session.get_bind().dialect.name == "postgresql":
        each = sa.func.json_each_text(Activity.participants).table_valued("key", "value")
    else:
        each = sa.func.json_each(Activity.participants).table_valued("key", "value")
    stmt = (
        sa.select(each.c.key, sa.func.sum(sa.cast(each.c.value, sa.Integer)))
        .select_from(Activity)
        .join(each, sa.true())
        .where(where)
        .group_by(each.c.key)
    )
    return {str(code): int(total or 0) for code, total in db.session.execute(stmt)}


def _counted(
    counts: dict[str, int], labels: dict[str, str], *, keep_order: bool = False
) -> list[dict[str, Any]]:
    """[{code, label, count}] for the codes counted, biggest first (or in vocabulary order)."""
    order = {code: i for i, code in enumerate(labels)}
    rows = [
        {"code": code, "label": labels.get(code, code), "count": n}
        for code, n in counts.items()
        if n
    ]
    if keep_order:
        return sorted(rows, key=lambda r: (order.get(r["code"], len(order)), r["code"]))
    return sorted(rows, key=lambda r: (-r["count"], order.get(r["code"], len(order)), r["code"]))


# The summary -----------------------------------------------------------------------------------


def summary(start: date | None, end: date | None) -> dict[str, Any]:
    """The programme's figures for a period, as plain data (dates as ISO strings).

    ``start``/``end`` default to the twelve months up to today; an impossible period raises
    ``PeriodError`` (a ``ValueError``) whose message says what to fix. Seven queries whatever
    the number of rows.
    """
    period = make_period(start, end)
    labels = term_labels(
        [TermKind.THEME, TermKind.COUNTRY, TermKind.FORMAT, TermKind.PARTICIPANT_GROUP]
    )
    return {
        "period": period.as_dict(),
        "requests": _request_figures(period, labels),
        "timing": _timing(period),
        "activities": _activity_figures(period, labels[TermKind.FORMAT]),
        "participants": _participant_figures(period, labels[TermKind.PARTICIPANT_GROUP]),
    }


def _request_figures(period: Period, labels: dict[TermKind, dict[str, str]]) -> dict[str, Any]:
    in_period = requests_in(period)
    by_status = dict(
        db.session.execute(
            sa.select(AssistanceRequest.status, sa.func.count(AssistanceRequest.id))
            .where(in_period)
            .group_by(AssistanceRequest.status)
        ).all()
    )
    by_authority = db.session.execute(
        sa.select(
            LocalAuthority.id,
            LocalAuthority.name,
            LocalAuthority.country,
            sa.func.count(AssistanceRequest.id),
        )
        .join(AssistanceRequest, AssistanceRequest.authority_id == LocalAuthority.id)
        .where(in_period)
        .group_by(LocalAuthority.id, LocalAuthority.name, LocalAuthority.country)
        .order_by(sa.func.count(AssistanceRequest.id).desc(), LocalAuthority.name)
    ).all()
    by_theme = dict(
        db.session.execute(
            sa.select(TaxonomyTerm.code, sa.func.count(sa.distinct(AssistanceRequest.id)))
            .select_from(AssistanceRequest)
            .join(request_terms, request_terms.c.request_id == AssistanceRequest.id)
            .join(TaxonomyTerm, TaxonomyTerm.id == request_terms.c.term_id)
            .where(in_period, TaxonomyTerm.kind == TermKind.THEME)
            .group_by(TaxonomyTerm.code)
        ).all()
    )
    countries: dict[str, int] = defaultdict(int)
    for _, _, country, n in by_authority:  # the authority's country: no extra query
        countries[country] += n
    return {
        "total": sum(by_status.values()),
        "by_status": [
            {"code": s.value, "label": str(s.label), "count": by_status[s]}
            for s in RequestStatus
            if by_status.get(s)
        ],
        "by_authority": [
            {"id": id_, "name": name, "country": country, "count": n}
            for id_, name, country, n in by_authority
        ],
        "by_theme": _counted(by_theme, labels[TermKind.THEME]),
        "by_country": _counted(dict(countries), labels[TermKind.COUNTRY]),
    }


def _timing(period: Period) -> dict[str, Any]:
    accepted = first_accept_by_request()
    delivered = first_delivery_by_request()
    rows = db.session.execute(
        sa.select(
            AssistanceRequest.submitted_at, accepted.c.first_accept, delivered.c.first_delivered
        )
        .outerjoin(accepted, accepted.c.request_id == AssistanceRequest.id)
        .outerjoin(delivered, delivered.c.request_id == AssistanceRequest.id)
        .where(requests_in(period))
    ).all()
    to_match = [d for s, a, _ in rows if (d := days_between(s, a)) is not None]
    to_activity = [d for s, _, f in rows if (d := days_between(s, f)) is not None]
    return {
        "to_match": duration_stats(to_match),
        "to_first_activity": duration_stats(to_activity),
    }


def _activity_figures(period: Period, format_labels: dict[str, str]) -> dict[str, Any]:
    rows = db.session.execute(
        sa.select(Activity.format, Activity.status, sa.func.count(Activity.id))
        .where(activities_in(period))
        .group_by(Activity.format, Activity.status)
    ).all()
    by_status: dict[ActivityStatus, int] = defaultdict(int)
    by_format: dict[str, dict[str, int]] = defaultdict(
        lambda: {"implemented": 0, "pending": 0, "cancelled": 0}
    )
    for code, status, n in rows:
        by_status[status] += n
        column = (
            "implemented"
            if status in IMPLEMENTED
            else "pending"
            if status in PENDING
            else "cancelled"
        )
        by_format[code][column] += n
    order = {code: i for i, code in enumerate(format_labels)}
    return {
        "total": sum(by_status.values()),
        "implemented": sum(by_status[s] for s in IMPLEMENTED),
        "pending": sum(by_status[s] for s in PENDING),
        "cancelled": by_status[ActivityStatus.CANCELLED],
        "by_status": [
            {"code": s.value, "label": str(s.label), "count": by_status[s]}
            for s in ActivityStatus
            if by_status.get(s)
        ],
        "by_format": [
            {"code": code, "label": format_labels.get(code, code), **counts}
            for code, counts in sorted(
                by_format.items(),
                key=lambda kv: (-kv[1]["implemented"], order.get(kv[0], len(order)), kv[0]),
            )
        ],
    }


def _participant_figures(period: Period, group_labels: dict[str, str]) -> dict[str, Any]:
    sums = participant_sums(sa.and_(activities_in(period), Activity.status.in_(IMPLEMENTED)))
    return {
        "total": sum(sums.values()),
        "by_group": _counted(sums, group_labels, keep_order=True),
    }


# The expert pool's coverage --------------------------------------------------------------------


def coverage() -> dict[str, Any]:
    """Per setting, an ideology × target group grid of how many active expert organisations
    have all three terms in their profile (two queries)."""
    kinds = (TermKind.SETTING, TermKind.IDEOLOGY, TermKind.TARGET_GROUP)
    terms = db.session.execute(
        sa.select(TaxonomyTerm.kind, TaxonomyTerm.code, TaxonomyTerm.label)
        .where(TaxonomyTerm.kind.in_(kinds), TaxonomyTerm.is_active)
        .order_by(TaxonomyTerm.position, TaxonomyTerm.id)
    ).all()
    by_kind: dict[TermKind, list[dict[str, str]]] = {k: [] for k in kinds}
    for kind, code, label in terms:
        by_kind[kind].append({"code": code, "label": translate_term(label)})

    links = [expert_organisation_terms.alias(f"link_{k.value}") for k in kinds]
    term_rows = [sa.orm.aliased(TaxonomyTerm, name=f"term_{k.value}") for k in kinds]
    stmt = sa.select(
        *(t.code for t in term_rows), sa.func.count(sa.distinct(ExpertOrganisation.id))
    ).select_from(ExpertOrganisation)
    for kind, link, term in zip(kinds, links, term_rows, strict=True):
        stmt = stmt.join(link, link.c.organisation_id == ExpertOrganisation.id).join(
            term, sa.and_(term.id == link.c.term_id, term.kind == kind)
        )
    stmt = stmt.where(ExpertOrganisation.is_active).group_by(*(t.code for t in term_rows))
    counts = {(s, i, g): n for s, i, g, n in db.session.execute(stmt)}

    settings = []
    for setting in by_kind[TermKind.SETTING]:
        s_code = setting["code"]
        rows = [
            {
                **ideology,
                "cells": [
                    {**group, "count": counts.get((s_code, ideology["code"], group["code"]), 0)}
                    for group in by_kind[TermKind.TARGET_GROUP]
                ],
            }
            for ideology in by_kind[TermKind.IDEOLOGY]
        ]
        gaps = sum(1 for row in rows for cell in row["cells"] if not cell["count"])
        settings.append({**setting, "rows": rows, "gaps": gaps})
    return {
        "settings": settings,
        "ideologies": by_kind[TermKind.IDEOLOGY],
        "target_groups": by_kind[TermKind.TARGET_GROUP],
    }


# Rows for the CSV exports ----------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def _round(value: float | int | None) -> float | int | str:
    return "" if value is None else round(value, 1)


REQUEST_COLUMNS = [
    "request_id",
    "title",
    "status",
    "status_label",
    "authority",
    "country",
    "country_label",
    "submitted_at_utc",
    "themes",
    "theme_labels",
    "formats",
    "format_labels",
    "engagements",
    "first_accepted_at_utc",
    "days_to_match",
    "first_delivered_on",
    "days_to_first_activity",
]


def request_rows(period: Period) -> list[list[Any]]:
    labels = term_labels([TermKind.COUNTRY])[TermKind.COUNTRY]
    accepted = first_accept_by_request()
    delivered = first_delivery_by_request()
    engagements = (
        sa.select(Engagement.request_id, sa.func.count(Engagement.id).label("n"))
        .group_by(Engagement.request_id)
        .subquery("engagement_counts")
    )
    rows = db.session.execute(
        sa.select(
            AssistanceRequest.id,
            AssistanceRequest.title,
            AssistanceRequest.status,
            LocalAuthority.name,
            LocalAuthority.country,
            AssistanceRequest.submitted_at,
            sa.func.coalesce(engagements.c.n, 0),
            accepted.c.first_accept,
            delivered.c.first_delivered,
        )
        .join(LocalAuthority, LocalAuthority.id == AssistanceRequest.authority_id)
        .outerjoin(engagements, engagements.c.request_id == AssistanceRequest.id)
        .outerjoin(accepted, accepted.c.request_id == AssistanceRequest.id)
        .outerjoin(delivered, delivered.c.request_id == AssistanceRequest.id)
        .where(requests_in(period))
        .order_by(AssistanceRequest.submitted_at, AssistanceRequest.id)
    ).all()
    terms: dict[tuple[int, TermKind], list[tuple[str, str]]] = defaultdict(list)
    for request_id, kind, code, label in db.session.execute(
        sa.select(
            request_terms.c.request_id, TaxonomyTerm.kind, TaxonomyTerm.code, TaxonomyTerm.label
        )
        .join(TaxonomyTerm, TaxonomyTerm.id == request_terms.c.term_id)
        .join(AssistanceRequest, AssistanceRequest.id == request_terms.c.request_id)
        .where(requests_in(period), TaxonomyTerm.kind.in_([TermKind.THEME, TermKind.FORMAT]))
        .order_by(request_terms.c.request_id, TaxonomyTerm.position, TaxonomyTerm.id)
    ):
        terms[(request_id, kind)].append((code, label))
    out = []
    for id_, title, status, authority, country, submitted, n, first_accept, first_delivered in rows:
        themes, formats = terms[(id_, TermKind.THEME)], terms[(id_, TermKind.FORMAT)]
        out.append(
            [
                id_,
                title,
                status.value,
                str(status.label),
                authority,
                country,
                labels.get(country, country),
                _iso(submitted),
                "; ".join(c for c, _ in themes),
                "; ".join(translate_term(label) for _, label in themes),
                "; ".join(c for c, _ in formats),
                "; ".join(translate_term(label) for _, label in formats),
                n,
                _iso(first_accept),
                _round(days_between(submitted, first_accept)),
                _iso(first_delivered),
                _round(days_between(submitted, first_delivered)),
            ]
        )
    return out


ENGAGEMENT_COLUMNS = [
    "engagement_id",
    "request_id",
    "request_title",
    "authority",
    "country",
    "organisation",
    "status",
    "status_label",
    "proposed_at_utc",
    "accepted_at_utc",
    "closed_at_utc",
    "activities_implemented",
    "activities_pending",
    "activities_cancelled",
    "participants_total",
    "city_rating",
]


def engagement_rows(period: Period) -> list[list[Any]]:
    """One row per engagement of the period; activity counts cover the whole engagement."""
    accepted = first_accept_by_engagement()
    implemented = Activity.status.in_(IMPLEMENTED)
    activity_counts = (
        sa.select(
            Activity.engagement_id,
            sa.func.sum(sa.case((implemented, 1), else_=0)).label("implemented"),
            sa.func.sum(sa.case((Activity.status.in_(PENDING), 1), else_=0)).label("pending"),
            sa.func.sum(sa.case((Activity.status == ActivityStatus.CANCELLED, 1), else_=0)).label(
                "cancelled"
            ),
            sa.func.sum(
                sa.case((implemented, sa.func.coalesce(Activity.participants_total, 0)), else_=0)
            ).label("participants"),
        )
        .group_by(Activity.engagement_id)
        .subquery("activity_counts")
    )
    rows = db.session.execute(
        sa.select(
            Engagement.id,
            AssistanceRequest.id,
            AssistanceRequest.title,
            LocalAuthority.name,
            LocalAuthority.country,
            ExpertOrganisation.name,
            Engagement.status,
            Engagement.created_at,
            accepted.c.accepted_at,
            Engagement.closed_at,
            sa.func.coalesce(activity_counts.c.implemented, 0),
            sa.func.coalesce(activity_counts.c.pending, 0),
            sa.func.coalesce(activity_counts.c.cancelled, 0),
            sa.func.coalesce(activity_counts.c.participants, 0),
            EngagementFeedback.rating,
        )
        .join(AssistanceRequest, AssistanceRequest.id == Engagement.request_id)
        .join(LocalAuthority, LocalAuthority.id == AssistanceRequest.authority_id)
        .join(ExpertOrganisation, ExpertOrganisation.id == Engagement.organisation_id)
        .outerjoin(accepted, accepted.c.engagement_id == Engagement.id)
        .outerjoin(activity_counts, activity_counts.c.engagement_id == Engagement.id)
        .outerjoin(EngagementFeedback, EngagementFeedback.engagement_id == Engagement.id)
        .where(engagements_in(period))
        .order_by(Engagement.created_at, Engagement.id)
    ).all()
    return [
        [
            e_id,
            r_id,
            title,
            authority,
            country,
            org,
            status.value,
            str(status.label),
            _iso(created),
            _iso(accepted_at),
            _iso(closed),
            int(n_impl),
            int(n_pending),
            int(n_cancelled),
            int(participants),
            "" if rating is None else rating,
        ]
        for (
            e_id,
            r_id,
            title,
            authority,
            country,
            org,
            status,
            created,
            accepted_at,
            closed,
            n_impl,
            n_pending,
            n_cancelled,
            participants,
            rating,
        ) in rows
    ]


def activity_columns(group_labels: dict[str, str]) -> list[str]:
    return [
        "activity_id",
        "engagement_id",
        "request_id",
        "authority",
        "country",
        "organisation",
        "status",
        "status_label",
        "implemented",
        "format",
        "format_label",
        "topic",
        "planned_start",
        "planned_end",
        "delivered_on",
        "duration_hours",
        "remote",
        "participants_total",
        *(f"participants_{code}" for code in group_labels),
        "summary",
        "outcomes",
    ]


def activity_rows(period: Period) -> tuple[list[str], list[list[Any]]]:
    """The header (one participants column per professional group) and one row per activity."""
    labels = term_labels([TermKind.FORMAT, TermKind.PARTICIPANT_GROUP])
    groups = labels[TermKind.PARTICIPANT_GROUP]
    rows = db.session.execute(
        sa.select(
            Activity,
            AssistanceRequest.id,
            LocalAuthority.name,
            LocalAuthority.country,
            ExpertOrganisation.name,
        )
        .join(Engagement, Engagement.id == Activity.engagement_id)
        .join(AssistanceRequest, AssistanceRequest.id == Engagement.request_id)
        .join(LocalAuthority, LocalAuthority.id == AssistanceRequest.authority_id)
        .join(ExpertOrganisation, ExpertOrganisation.id == Engagement.organisation_id)
        .where(activities_in(period))
        .order_by(sa.func.coalesce(Activity.delivered_on, Activity.planned_start), Activity.id)
    ).all()
    out = []
    for activity, request_id, authority, country, org in rows:
        participants = activity.participants or {}
        out.append(
            [
                activity.id,
                activity.engagement_id,
                request_id,
                authority,
                country,
                org,
                activity.status.value,
                str(activity.status.label),
                "yes" if activity.status in IMPLEMENTED else "no",
                activity.format,
                labels[TermKind.FORMAT].get(activity.format, activity.format),
                activity.topic,
                _iso(activity.planned_start),
                _iso(activity.planned_end),
                _iso(activity.delivered_on),
                "" if activity.duration_hours is None else activity.duration_hours,
                "yes" if activity.is_remote else "no",
                "" if activity.participants_total is None else activity.participants_total,
                *(participants.get(code, 0) if participants else "" for code in groups),
                activity.summary,
                activity.outcomes,
            ]
        )
    return activity_columns(groups), out


# Engagement summaries --------------------------------------------------------------------------


def load_engagements(ids: list[int]) -> list[Engagement]:
    """Engagements with everything a summary shows, in a fixed number of queries."""
    if not ids:
        return []
    stmt = (
        sa.select(Engagement)
        .where(Engagement.id.in_(ids))
        .options(
            sa.orm.joinedload(Engagement.organisation),
            sa.orm.joinedload(Engagement.feedback),
            sa.orm.joinedload(Engagement.request).options(
                sa.orm.joinedload(AssistanceRequest.authority),
                sa.orm.selectinload(AssistanceRequest.terms),
            ),
            sa.orm.selectinload(Engagement.activities).selectinload(Activity.attachments),
        )
        .order_by(Engagement.id)
    )
    return list(db.session.scalars(stmt).unique())


def went_ahead_ids(period: Period) -> list[int]:
    """Engagements of the period that the expert accepted and that were not cancelled."""
    stmt = (
        sa.select(Engagement.id)
        .where(engagements_in(period), Engagement.status.in_(WENT_AHEAD))
        .order_by(Engagement.id)
    )
    return list(db.session.scalars(stmt))


def summary_context(engagements: list[Engagement]) -> dict[str, Any]:
    """What the engagement summary template needs besides the engagements (two queries)."""
    ids = [e.id for e in engagements]
    accepted_at = dict(
        db.session.execute(
            sa.select(AuditEntry.object_id, sa.func.min(AuditEntry.created_at))
            .where(
                AuditEntry.object_type == ENGAGEMENT_OBJECT,
                AuditEntry.action == ACCEPT_ACTION,
                AuditEntry.object_id.in_(ids or [0]),
            )
            .group_by(AuditEntry.object_id)
        ).all()
    )
    labels = term_labels([TermKind.FORMAT, TermKind.PARTICIPANT_GROUP, TermKind.COUNTRY])
    return {
        "accepted_at": accepted_at,
        "format_labels": labels[TermKind.FORMAT],
        "group_labels": labels[TermKind.PARTICIPANT_GROUP],
        "country_labels": labels[TermKind.COUNTRY],
        "implemented": IMPLEMENTED,
        "engagement_participants": engagement_participants,
        "now": datetime.now(UTC),
    }


def engagement_participants(engagement: Engagement) -> dict[str, int]:
    """Participants of the engagement's implemented activities per group (already loaded)."""
    totals: dict[str, int] = defaultdict(int)
    for activity in engagement.activities:
        if activity.status in IMPLEMENTED:
            for code, n in (activity.participants or {}).items():
                totals[code] += int(n)
    return dict(totals)
