"""Two staff acting on the same object at once, on PostgreSQL with real concurrent connections:
exactly one wins, the others get a conflict, and nothing is half-applied."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from assist.audit import AuditEntry
from assist.directory.services import sync_taxonomy
from assist.engagements import services
from assist.engagements.models import Engagement
from assist.errors import Conflict
from assist.extensions import db
from assist.requests import services as request_services
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import EngagementStatus, InvalidTransition, RequestStatus
from tests.conftest import ROOT, TEST_DATABASE_URL, make_app, require
from tests.factories import make_organisation, make_request, make_user
from tests.migrations.test_migrations import scratch_postgres_url

WORKERS = 8


@pytest.fixture(scope="module")
def pg_app() -> Iterator[Flask]:
    require(bool(TEST_DATABASE_URL), "TEST_DATABASE_URL not set (PostgreSQL)")
    application = make_app(scratch_postgres_url(), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": WORKERS})
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        sync_taxonomy()
        db.session.commit()
    yield application
    with application.app_context():
        db.engine.dispose()


def race(app: Flask, attempt: Callable[[], None]) -> tuple[int, list[Exception]]:
    """Run ``attempt`` in WORKERS threads, each with its own session, released together."""
    barrier = threading.Barrier(WORKERS)
    wins: list[int] = []
    losses: list[Exception] = []
    errors: list[Exception] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                attempt()
                db.session.commit()
                wins.append(1)
            except (Conflict, InvalidTransition) as exc:
                db.session.rollback()
                losses.append(exc)
            except Exception as exc:  # anything else is a bug: report it, don't lose it
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [], errors
    return len(wins), losses


def test_concurrent_approvals_exactly_one_wins(pg_app: Flask) -> None:
    with pg_app.app_context():
        org = make_organisation(capacity=5)
        req = make_request(status=RequestStatus.MATCHING)
        proposer = make_user(Role.STAFF)
        engagement = Engagement(request=req, organisation=org, proposed_by=proposer)
        db.session.add(engagement)
        approvers = [make_user(Role.STAFF).id for _ in range(WORKERS)]
        db.session.commit()
        engagement_id = engagement.id
    ids = iter(approvers)
    lock = threading.Lock()

    def approve() -> None:
        with lock:
            approver_id = next(ids)
        from assist.auth.models import User

        eng = db.session.get(Engagement, engagement_id)
        services.transition_engagement(eng, db.session.get(User, approver_id), "approve")

    wins, losses = race(pg_app, approve)
    assert wins == 1 and len(losses) == WORKERS - 1
    assert all("changed since you opened it" in str(e) or "not possible" in str(e) for e in losses)
    with pg_app.app_context():
        eng = db.session.get(Engagement, engagement_id)
        assert eng.status == EngagementStatus.APPROVED and eng.version == 2
        approvals = db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.object_type == "engagements",
                AuditEntry.object_id == engagement_id,
                AuditEntry.action == "approve",
            )
        )
        assert approvals == 1  # the losers' audit entries were rolled back with them


def test_concurrent_review_of_one_request_exactly_one_wins(pg_app: Flask) -> None:
    with pg_app.app_context():
        req = make_request(status=RequestStatus.SUBMITTED)
        staff_ids = [make_user(Role.STAFF).id for _ in range(WORKERS)]
        db.session.commit()
        request_id = req.id
    ids = iter(staff_ids)
    lock = threading.Lock()

    def start_review() -> None:
        from assist.auth.models import User

        with lock:
            staff_id = next(ids)
        r = db.session.get(AssistanceRequest, request_id)
        request_services.transition_request(r, db.session.get(User, staff_id), "start_review")

    wins, losses = race(pg_app, start_review)
    assert wins == 1 and len(losses) == WORKERS - 1
    with pg_app.app_context():
        r = db.session.get(AssistanceRequest, request_id)
        assert r.status == RequestStatus.IN_REVIEW and r.version == 2
