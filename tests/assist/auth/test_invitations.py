"""Invitations: staff invite officials and experts by e-mail; the invitee chooses a password (and
sets up a second factor where the role needs one); links expire and work once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from assist.auth import second_factor as mfa
from assist.auth.models import Invitation, User
from assist.db import utcnow
from assist.extensions import db
from assist.roles import Role
from tests.assist.auth.conftest import audit_actions, link_token, outbox_to
from tests.factories import make_authority, make_organisation, make_user

PASSWORD = "my own chosen passphrase"


def invite(client, **fields):
    return client.post("/invitations", data=fields)


def accept(client, token: str, password: str = PASSWORD):
    return client.post(
        "/invitation", data={"token": token, "password": password, "confirm": password}
    )


def test_staff_invite_an_official_who_sets_their_own_password(app, login_as) -> None:
    authority = make_authority("Rennes")
    staff = make_user(Role.STAFF)
    staff_client = login_as(staff)
    assert staff_client.get("/invitations").status_code == 200
    response = invite(
        staff_client,
        email="New.Official@rennes.example",
        name="Nadia Official",
        role="city_official",
        authority_id=str(authority.id),
    )
    assert response.status_code == 302
    (email,) = outbox_to("new.official@rennes.example")
    assert "/invitation?token=" in email.body and email.notification_id is None
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation.invited_by_id == staff.id
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    token = link_token(email, "/invitation")

    invitee = app.test_client()
    page = invitee.get(f"/invitation?token={token}").get_data(as_text=True)
    assert "Nadia Official" in page and "Rennes" in page
    mismatch = invitee.post(
        "/invitation", data={"token": token, "password": PASSWORD, "confirm": PASSWORD + "x"}
    )
    assert mismatch.status_code == 422 and "differ" in mismatch.get_data(as_text=True)
    assert accept(invitee, token).status_code == 302
    assert invitee.get("/requests/").status_code == 200  # signed in, optional factor
    user = db.session.scalar(sa.select(User).where(User.email == "new.official@rennes.example"))
    assert user.role == Role.CITY_OFFICIAL and user.authority_id == authority.id
    assert user.check_password(PASSWORD)
    assert "invitation_accepted" in audit_actions(user)
    # Works once.
    again = accept(app.test_client(), token, "another passphrase!!")
    assert again.status_code == 400 and "already been accepted" in again.get_data(as_text=True)


def test_an_invited_expert_sets_up_a_second_factor_when_required(app, login_as) -> None:
    org = make_organisation()
    admin = make_user(Role.ADMIN)
    mfa.set_role_requirement(admin, Role.EXPERT, True)
    invite(
        login_as(make_user(Role.STAFF)),
        email="expert@org.example",
        name="Eva Expert",
        role="expert",
        organisation_id=str(org.id),
    )
    token = link_token(outbox_to("expert@org.example")[0], "/invitation")
    invitee = app.test_client()
    response = accept(invitee, token)
    assert response.location.endswith("/account/2fa")
    assert invitee.get("/engagements/").location.endswith("/account/2fa")


def test_expired_withdrawn_and_tampered_invitations_are_refused(app, login_as) -> None:
    authority = make_authority()
    staff_client = login_as(make_user(Role.STAFF))
    for n in range(3):
        invite(
            staff_client,
            email=f"person{n}@city.example",
            name=f"Person {n}",
            role="city_official",
            authority_id=str(authority.id),
        )
    tokens = [link_token(outbox_to(f"person{n}@city.example")[0], "/invitation") for n in range(3)]
    expired = db.session.scalar(
        sa.select(Invitation).where(Invitation.email == "person0@city.example")
    )
    expired.expires_at = utcnow() - timedelta(seconds=1)
    withdrawn = db.session.scalar(
        sa.select(Invitation).where(Invitation.email == "person1@city.example")
    )
    db.session.flush()
    assert (
        staff_client.post("/invitations/revoke", data={"invitation_id": withdrawn.id}).status_code
        == 302
    )
    invitee = app.test_client()
    assert "has expired" in accept(invitee, tokens[0]).get_data(as_text=True)
    assert "withdrawn" in accept(invitee, tokens[1]).get_data(as_text=True)
    tampered = tokens[2][:-2] + "zz"
    response = accept(invitee, tampered)
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert (
        db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("person%"))) == 0
    )


def test_a_new_invitation_replaces_the_pending_one(app, login_as) -> None:
    authority = make_authority()
    staff_client = login_as(make_user(Role.STAFF))
    fields = {
        "email": "twice@city.example",
        "name": "Twice",
        "role": "city_official",
        "authority_id": str(authority.id),
    }
    invite(staff_client, **fields)
    invite(staff_client, **fields)
    first, second = (link_token(e, "/invitation") for e in outbox_to("twice@city.example"))
    assert accept(app.test_client(), first).status_code == 400
    assert accept(app.test_client(), second).status_code == 302


def test_who_can_invite_whom(app, login_as) -> None:
    authority = make_authority()
    existing = make_user()
    staff_client = login_as(make_user(Role.STAFF))
    staff_role = invite(staff_client, email="boss@efus.example", name="Boss", role="staff")
    assert staff_role.status_code == 422
    taken = invite(
        staff_client,
        email=existing.email,
        name="Dup",
        role="city_official",
        authority_id=str(authority.id),
    )
    assert taken.status_code == 422 and "already exists" in taken.get_data(as_text=True)
    unbound = invite(staff_client, email="x@city.example", name="X", role="city_official")
    assert unbound.status_code == 422 and "must belong to a local authority" in unbound.get_data(
        as_text=True
    )
    official_client = login_as(make_user())
    assert official_client.get("/invitations").status_code == 403
    assert (
        invite(official_client, email="y@city.example", name="Y", role="city_official").status_code
        == 403
    )
    assert outbox_to("boss@efus.example") == [] and outbox_to("y@city.example") == []


def test_invitation_sent_is_audited(app, login_as) -> None:
    from assist.audit import AuditEntry

    authority = make_authority()
    staff = make_user(Role.STAFF)
    invite(
        login_as(staff),
        email="aud@city.example",
        name="Aud",
        role="city_official",
        authority_id=str(authority.id),
    )
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "invitation_sent"))
    assert entry.actor_id == staff.id and entry.object_type == "invitations"
