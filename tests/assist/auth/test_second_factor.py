"""The second factor: enrolment is forced for staff and admins, codes are checked once, recovery
codes work once, an admin reset is audited, and an admin can require it per role."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from assist.auth import second_factor as mfa
from assist.auth.models import RecoveryCode, TotpCredential
from assist.auth.sessions import start_session
from assist.errors import ValidationFailed
from assist.extensions import db
from assist.roles import Role
from tests.assist.auth.conftest import (
    audit_actions,
    code_at,
    enrol_through_pages,
    enrolled,
    password_step,
)
from tests.factories import make_user


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admins_must_enrol_before_anything_else(app, client, role) -> None:
    user = make_user(role)
    response = password_step(client, user.email)
    assert response.status_code == 302 and response.location.endswith("/account/2fa")
    for url in ("/", "/requests/review", "/requests/", "/account", "/admin/users"):
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked.location.endswith("/account/2fa"), url
    # Writes are refused too, not only pages.
    assert client.post("/account/password", data={}).location.endswith("/account/2fa")
    assert client.get("/account/2fa").status_code == 200
    assert client.get("/account/2fa/qr.svg").status_code == 200
    _, codes = enrol_through_pages(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/requests/").status_code == 200
    assert "2fa_enrolled" in audit_actions(user)
    # Only hashes are kept.
    stored = db.session.scalars(
        sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
    )
    assert not set(codes) & set(stored)


def test_sign_out_is_allowed_before_enrolment(app, client) -> None:
    user = make_user(Role.STAFF)
    password_step(client, user.email)
    assert client.post("/logout").location.endswith("/login")


def test_qr_code_is_svg_drawn_here_and_not_cached(app, client) -> None:
    user = make_user(Role.STAFF)
    password_step(client, user.email)
    page = client.get("/account/2fa").get_data(as_text=True)
    svg = client.get("/account/2fa/qr.svg")
    assert svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "no-store"
    body = svg.get_data(as_text=True)
    assert body.startswith("<svg") and "style=" not in body and "<script" not in body
    assert 'src="/account/2fa/qr.svg"' in page
    assert "https://" not in page.split("<main", 1)[1]  # no external QR service


def test_full_sign_in_with_code_then_replay_and_wrong_codes(app, client) -> None:
    user = make_user(Role.STAFF)
    password_step(client, user.email)
    secret, _ = enrol_through_pages(client)
    client.post("/logout")

    response = password_step(client, user.email)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert client.get("/requests/").status_code == 302  # not signed in yet
    wrong = client.post("/login/code", data={"code": "000000"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    # The code used for enrolment cannot be replayed.
    replay = client.post("/login/code", data={"code": code_at(secret)})
    assert replay.status_code == 401
    ok = client.post("/login/code", data={"code": code_at(secret, +1)})
    assert ok.status_code == 302
    assert client.get("/requests/").status_code == 200
    client.post("/logout")
    # Same code again, on a fresh password step: refused.
    password_step(client, user.email)
    assert client.post("/login/code", data={"code": code_at(secret, +1)}).status_code == 401
    actions = audit_actions(user)
    assert actions.count("sign_in_failed") == 3 and "sign_in" in actions


def test_drift_of_one_step_only(app) -> None:
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    now = datetime.now(UTC)
    totp = pyotp.TOTP(secret)
    assert not mfa.verify(user, totp.at(now - timedelta(seconds=60)), now).ok
    assert not mfa.verify(user, totp.at(now + timedelta(seconds=60)), now).ok
    assert mfa.verify(user, totp.at(now - timedelta(seconds=30)), now).ok
    assert mfa.verify(user, totp.at(now), now).ok
    # An older step after a newer one is a replay, even within the window.
    assert not mfa.verify(user, totp.at(now - timedelta(seconds=30)), now).ok


def test_recovery_code_works_once(app, client) -> None:
    user = make_user(Role.STAFF)
    password_step(client, user.email)
    _, codes = enrol_through_pages(client)
    client.post("/logout")
    password_step(client, user.email)
    used = client.post("/login/code", data={"code": codes[3].upper().replace("-", " ")})
    assert used.status_code == 302
    assert "9 left" in client.get("/requests/").get_data(as_text=True)
    client.post("/logout")
    password_step(client, user.email)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 401
    assert "recovery_code_used" in audit_actions(user)


def test_code_step_expires_after_five_minutes(app, client, monkeypatch) -> None:
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    password_step(client, user.email)
    later = time.time() + 5 * 60 + 1
    monkeypatch.setattr("assist.auth.views.time.time", lambda: later)
    response = client.post("/login/code", data={"code": code_at(secret)})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/requests/").status_code == 302


def test_code_step_needs_the_password_step(app, client) -> None:
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 302 and response.location.endswith("/login")


def test_password_change_between_steps_voids_the_code_step(app, client) -> None:
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    password_step(client, user.email)
    user.rotate_session_token()
    db.session.flush()
    assert client.post("/login/code", data={"code": code_at(secret)}).location.endswith("/login")


def test_enrolment_started_in_another_session_cannot_be_confirmed_here(app) -> None:
    user = make_user(Role.STAFF)
    mine, _ = start_session(user)
    theirs, _ = start_session(user)
    cred = mfa.begin_enrolment(user, theirs)
    with pytest.raises(ValidationFailed) as refused:
        mfa.confirm_enrolment(user, mine, pyotp.TOTP(cred.secret).now())
    assert "started elsewhere" in refused.value.errors["code"][0]


def test_enrolment_ends_other_sessions(app, client) -> None:
    user = make_user(Role.CITY_OFFICIAL)
    other = app.test_client()
    password_step(other, user.email)
    assert other.get("/requests/").status_code == 200
    password_step(client, user.email)
    enrol_through_pages(client)
    assert other.get("/requests/").status_code == 302
    assert client.get("/requests/").status_code == 200


def test_regenerate_recovery_codes_needs_a_current_code(app, client) -> None:
    user = make_user(Role.STAFF)
    password_step(client, user.email)
    secret, old = enrol_through_pages(client)
    bad = client.post("/account/2fa/recovery-codes", data={"code": "123456"})
    assert bad.status_code == 302
    page = client.post("/account/2fa/recovery-codes", data={"code": code_at(secret, +1)})
    assert page.status_code == 200 and "previous recovery codes no longer work" in page.get_data(
        as_text=True
    )
    assert not mfa.verify(user, old[0]).ok


def test_admin_reset_is_audited_and_forces_new_enrolment(app, client, login_as) -> None:
    user = make_user(Role.STAFF)
    enrolled(user)
    token = user.session_token
    admin = make_user(Role.ADMIN)
    admin_client = login_as(admin)
    assert "Reset second factor" in admin_client.get(f"/admin/users/{user.id}/edit").get_data(
        as_text=True
    )
    response = admin_client.post(f"/admin/users/{user.id}/reset-second-factor")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.session_token != token
    assert (
        db.session.scalar(sa.select(TotpCredential).where(TotpCredential.user_id == user.id))
        is None
    )
    assert "2fa_reset" in audit_actions(user)
    # The user signs in with the password alone and is sent to set up a new factor.
    fresh = app.test_client()
    assert password_step(fresh, user.email).location.endswith("/account/2fa")


def test_only_admins_reset_and_not_their_own(app, login_as) -> None:
    staff = make_user(Role.STAFF)
    target = make_user(Role.STAFF)
    enrolled(target)
    assert login_as(staff).post(f"/admin/users/{target.id}/reset-second-factor").status_code == 403
    admin = make_user(Role.ADMIN)
    enrolled(admin)
    client = login_as(admin)
    client.post(f"/admin/users/{admin.id}/reset-second-factor")
    assert mfa.is_enrolled(admin)


def test_admin_can_require_a_second_factor_for_officials(app, login_as) -> None:
    official = make_user(Role.CITY_OFFICIAL)
    client = app.test_client()  # login_as signs in on the shared client: the official has their own
    password_step(client, official.email)
    assert client.get("/requests/").status_code == 200  # optional for now
    admin = make_user(Role.ADMIN)
    admin_client = login_as(admin)
    page = admin_client.get("/admin/security")
    assert page.status_code == 200
    saved = admin_client.post("/admin/security", data={"submitted": "1", "city_official": "y"})
    assert saved.status_code == 302
    assert mfa.role_requires_second_factor(Role.CITY_OFFICIAL)
    assert not mfa.role_requires_second_factor(Role.EXPERT)
    # The official's open session is sent to set-up at the next page.
    assert client.get("/requests/").location.endswith("/account/2fa")
    enrol_through_pages(client)
    assert client.get("/requests/").status_code == 200
    # Staff cannot be made optional, and only admins change the rules.
    with pytest.raises(Exception, match="always need"):
        mfa.set_role_requirement(admin, Role.STAFF, False)
    staff_client = login_as(make_user(Role.STAFF))
    assert staff_client.post("/admin/security", data={"expert": "y"}).status_code == 403


def test_a_session_from_before_enrolment_signs_in_again(app, client) -> None:
    """An enrolled staff member's password-only session (e.g. from before 2FA) is not enough."""
    user = make_user(Role.STAFF)
    enrolled(user)
    _, token = start_session(user, second_factor=False)
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
        session["_sid"] = token
    response = client.get("/requests/")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/requests/").location.startswith("/login")
