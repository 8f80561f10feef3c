"""Request services: the rules hold whatever calls them (page, API, CLI)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.audit import AuditEntry, history
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.requests import services
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import InvalidTransition, RequestStatus
from tests.factories import make_request, make_user


def data(**kw: object) -> services.RequestData:
    base = {
        "title": "Release preparation",
        "context": "Probation and municipal services prepare releases separately, too late.",
        "needs": "Facilitate a roundtable and draft a protocol.",
        "terms": {"themes": ["release_transition"], "formats": ["roundtable"], "languages": ["es"]},
    }
    return services.RequestData(**{**base, **kw})  # type: ignore[arg-type]


def test_create_draft_records_authority_terms_and_history(app) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    req = services.create_draft(official, data())
    assert req.authority_id == official.authority_id
    assert req.status == RequestStatus.DRAFT
    assert req.codes(services.TermKind.THEME) == ["release_transition"]
    assert [e.action for e in history(req)] == ["create"]


@pytest.mark.parametrize("role", [Role.STAFF, Role.EXPERT, Role.ADMIN])
def test_only_city_officials_create(app, role: Role) -> None:
    with pytest.raises(NotAllowed):
        services.create_draft(make_user(role), data())


def test_personal_data_is_refused_per_field_and_nothing_saved(app) -> None:
    official = make_user()
    before = db.session.scalar(sa.select(sa.func.count(AssistanceRequest.id)))
    with pytest.raises(ValidationFailed) as info:
        services.create_draft(
            official,
            data(context="Contact me at ana@example.org", needs="DNI 12345678Z must be checked."),
        )
    assert set(info.value.errors) == {"context", "needs"}
    assert "e-mail address" in info.value.errors["context"][0]
    assert db.session.scalar(sa.select(sa.func.count(AssistanceRequest.id))) == before


def test_unknown_codes_are_named(app) -> None:
    with pytest.raises(ValidationFailed) as info:
        services.create_draft(make_user(), data(terms={"themes": ["teleportation"]}))
    assert "teleportation" in info.value.errors["themes"][0]


def test_overlong_text_and_bad_numbers_are_explained(app) -> None:
    with pytest.raises(ValidationFailed) as info:
        services.create_draft(
            make_user(), data(title="x" * 201, context="y" * 6001, expected_participants=0)
        )
    assert "at most 200" in info.value.errors["title"][0]
    assert "at most 6000" in info.value.errors["context"][0]
    assert "between 1 and 10000" in info.value.errors["expected_participants"][0]


def test_period_must_be_in_order(app) -> None:
    from datetime import date

    with pytest.raises(ValidationFailed) as info:
        services.create_draft(
            make_user(), data(period_start=date(2027, 5, 1), period_end=date(2027, 1, 1))
        )
    assert "before its start" in info.value.errors["period_end"][0]


def test_submit_requires_a_complete_request_and_keeps_the_draft(app) -> None:
    official = make_user()
    req = services.create_draft(official, services.RequestData(title="Just a title", language="en"))
    with pytest.raises(ValidationFailed) as info:
        services.submit_request(req, official)
    assert {"context", "needs", "themes", "formats", "languages"} <= set(info.value.errors)
    db.session.refresh(req)
    assert req.status == RequestStatus.DRAFT


def test_submit_then_edit_is_refused(app) -> None:
    official = make_user()
    req = services.create_draft(official, data())
    services.submit_request(req, official)
    assert req.status == RequestStatus.SUBMITTED and req.submitted_at is not None
    with pytest.raises(NotAllowed, match="can no longer be edited"):
        services.update_request(req, official, data(title="Changed"))


def test_another_authority_cannot_act(app) -> None:
    req = make_request()
    outsider = make_user(Role.CITY_OFFICIAL)
    with pytest.raises(NotAllowed):
        services.update_request(req, outsider, data())
    with pytest.raises(NotAllowed):
        services.withdraw_request(req, outsider, "not mine")
    assert req.status == RequestStatus.DRAFT


def test_withdraw_needs_a_reason_and_is_recorded(app) -> None:
    req = make_request(status=RequestStatus.SUBMITTED)
    official = req.created_by
    with pytest.raises(ValidationFailed):
        services.withdraw_request(req, official, "  ")
    services.withdraw_request(req, official, "Covered by a national programme.")
    entry = history(req)[-1]
    assert (entry.action, entry.from_state, entry.to_state) == (
        "withdraw",
        "submitted",
        "withdrawn",
    )
    assert entry.comment == "Covered by a national programme."
    with pytest.raises(InvalidTransition):
        services.withdraw_request(req, official, "again")


def test_stale_version_is_a_conflict_and_changes_nothing(app) -> None:
    req = make_request()
    official = req.created_by
    with pytest.raises(Conflict):
        services.update_request(req, official, data(title="Mine"), expected_version=req.version - 1)
    assert req.title != "Mine"


def test_concurrent_transition_loses_cleanly(app) -> None:
    """Two withdrawals of the same version: the second UPDATE matches no row and is refused."""
    req = make_request(status=RequestStatus.SUBMITTED)
    official = req.created_by
    # Simulate another worker having moved the request on since we read it.
    db.session.execute(
        sa.update(AssistanceRequest)
        .where(AssistanceRequest.id == req.id)
        .values(version=AssistanceRequest.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict):
        services.withdraw_request(req, official, "too late")


def test_audit_entries_are_append_only(app) -> None:
    req = make_request()
    services.update_request(req, req.created_by, data(title="New title"))
    db.session.commit()
    entry = history(req)[-1]
    entry.comment = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(AuditEntry.comment).where(AuditEntry.id == entry.id)) == ""
