"""The admin manages authorities, organisations (with profiles) and accounts; others cannot."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.auth.models import User
from assist.directory.models import ExpertOrganisation, TermKind
from assist.directory.services import sync_taxonomy
from assist.extensions import db
from assist.roles import Role
from tests.factories import make_authority, make_organisation, make_user

ORG_FORM = {
    "name": "Hayat Counselling",
    "country": "DE",
    "description": "Family counselling for relatives of radicalised young people.",
    "capacity": "2",
    "is_active": "y",
    "themes": ["family_network_support", "exit_mentoring"],
    "formats": ["remote_advice", "training"],
    "languages": ["de", "en"],
    "countries": ["DE", "AT"],
    "target_groups": ["families"],
}


def test_admin_creates_and_edits_an_organisation_profile(app, login_as) -> None:
    client = login_as(make_user(Role.ADMIN))
    response = client.post("/admin/organisations/new", data=ORG_FORM)
    assert response.status_code == 302
    org = db.session.scalars(
        sa.select(ExpertOrganisation).where(ExpertOrganisation.name == "Hayat Counselling")
    ).one()
    assert org.codes(TermKind.THEME) == ["exit_mentoring", "family_network_support"]
    assert org.codes(TermKind.COUNTRY) == ["AT", "DE"]
    response = client.post(
        f"/organisations/{org.id}/edit",
        data={**ORG_FORM, "capacity": "4", "themes": ["exit_mentoring"]},
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.capacity == 4 and org.codes(TermKind.THEME) == ["exit_mentoring"]
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Exit work and mentoring" in page and "Family counselling" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("capacity", "-1", "between 0 and 100"),
        ("name", "", "Enter the organisation&#39;s name."),
        ("languages", "klingon", "Not an option here: klingon"),
        ("country", "XX", "Not a valid choice"),
    ],
)
def test_bad_organisation_input_is_explained(app, login_as, field, value, message) -> None:
    client = login_as(make_user(Role.ADMIN))
    response = client.post("/admin/organisations/new", data={**ORG_FORM, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(ExpertOrganisation).where(ExpertOrganisation.name == "Hayat Counselling")
        )
        is None
    )


def test_duplicate_names_are_refused(app, login_as) -> None:
    make_authority("Rennes", country="FR")
    client = login_as(make_user(Role.ADMIN))
    response = client.post(
        "/admin/authorities/new", data={"name": "rennes", "country": "FR", "level": "municipality"}
    )
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_admin_creates_accounts_bound_to_their_tenant(app, login_as) -> None:
    authority = make_authority()
    client = login_as(make_user(Role.ADMIN))
    form = {
        "email": "New.Official@Assist.example",
        "name": "New official",
        "role": "city_official",
        "authority_id": str(authority.id),
        "organisation_id": "",
        "is_active": "y",
        "password": "a long enough password",
    }
    assert client.post("/admin/users/new", data=form).status_code == 302
    user = db.session.scalars(
        sa.select(User).where(User.email == "new.official@assist.example")
    ).one()
    assert user.authority_id == authority.id and user.check_password("a long enough password")
    # An official without authority, or a short password, is explained and not created.
    bad = client.post(
        "/admin/users/new",
        data={**form, "email": "x@assist.example", "authority_id": "", "password": "short"},
    )
    html = bad.get_data(as_text=True)
    assert (
        bad.status_code == 422
        and "must belong to a local authority" in html
        and "at least 12" in html
    )


def test_admin_password_reset_ends_the_users_sessions(app, login_as) -> None:
    user = make_user()
    token = user.session_token
    client = login_as(make_user(Role.ADMIN))
    form = {
        "email": user.email,
        "name": user.name,
        "role": "city_official",
        "authority_id": str(user.authority_id),
        "organisation_id": "",
        "is_active": "y",
        "password": "a brand new password",
    }
    assert client.post(f"/admin/users/{user.id}/edit", data=form).status_code == 302
    db.session.refresh(user)
    assert user.session_token != token


def test_admin_cannot_lock_themselves_out(app, login_as) -> None:
    admin = make_user(Role.ADMIN)
    client = login_as(admin)
    form = {
        "email": admin.email,
        "name": admin.name,
        "role": "staff",
        "authority_id": "",
        "organisation_id": "",
        "is_active": "y",
    }
    response = client.post(f"/admin/users/{admin.id}/edit", data=form)
    assert response.status_code == 422
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN


@pytest.mark.parametrize("role", [Role.CITY_OFFICIAL, Role.EXPERT, Role.STAFF])
def test_non_admins_cannot_change_the_directory(app, login_as, role) -> None:
    client = login_as(make_user(role))
    for url in ("/admin/users/new", "/admin/authorities/new", "/admin/organisations/new"):
        assert client.post(url, data=ORG_FORM).status_code == 403
    assert (
        db.session.scalar(
            sa.select(ExpertOrganisation).where(ExpertOrganisation.name == "Hayat Counselling")
        )
        is None
    )


def test_experts_see_only_their_own_organisation(app, login_as) -> None:
    org = make_organisation()
    expert = make_user(Role.EXPERT, organisation=org)
    client = login_as(expert)
    assert client.get(f"/organisations/{org.id}").status_code == 200
    assert client.get(f"/organisations/{make_organisation().id}").status_code == 404
    assert client.get("/").location.endswith("/engagements/")


def test_taxonomy_sync_is_idempotent_and_retires_removed_codes(app, tmp_path) -> None:
    assert sync_taxonomy() == {"added": 0, "updated": 0, "retired": 0}
    trimmed = tmp_path / "taxonomy.json"
    trimmed.write_text('{"theme": [{"code": "housing", "label": "Housing"}]}')
    counts = sync_taxonomy(trimmed)
    assert counts["retired"] > 50 and counts["added"] == 0
    sync_taxonomy()  # and back
    from assist.directory.queries import active_terms

    assert len(active_terms(TermKind.THEME)) == 18


def test_experts_keep_their_own_profile_and_staff_see_what_changed(app, login_as) -> None:
    org = make_organisation("Own Org", capacity=2)
    expert = make_user(Role.EXPERT, organisation=org)
    client = login_as(expert)
    form = {**ORG_FORM, "name": "Renamed by expert", "capacity": "3", "themes": ["housing"]}
    assert client.post(f"/organisations/{org.id}/edit", data=form).status_code == 302
    db.session.refresh(org)
    assert org.capacity == 3 and org.name == "Own Org"  # the name stays Efus's call
    assert org.codes(TermKind.THEME) == ["housing"]
    other = make_organisation()
    assert client.post(f"/organisations/{other.id}/edit", data=form).status_code == 404
    page = login_as(make_user(Role.STAFF)).get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "capacity 2 → 3" in page and "themes + Housing" in page
