"""Account test helpers: sign in through the real forms, enrol a factor, read the outbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import sqlalchemy as sa

from assist.audit import AuditEntry
from assist.auth.models import TotpCredential, User
from assist.extensions import db
from assist.notifications.models import OutboxEmail
from tests.factories import PASSWORD

SECRET_ON_PAGE = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7]+)<')


def password_step(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def code_at(secret: str, steps_from_now: int = 0) -> str:
    """The code of a time step near now (the server accepts the current one ± 1)."""
    when = datetime.now(UTC) + timedelta(seconds=30 * steps_from_now)
    return pyotp.TOTP(secret).at(when)


def enrolled(user: User) -> str:
    """Give ``user`` a confirmed factor directly in the database; returns its secret."""
    secret = pyotp.random_base32()
    db.session.add(TotpCredential(user_id=user.id, secret=secret, confirmed_at=datetime.now(UTC)))
    db.session.flush()
    return secret


def enrol_through_pages(client) -> tuple[str, list[str]]:
    """Open the set-up page, read the key, confirm with the current code; (secret, codes)."""
    page = client.get("/account/2fa")
    assert page.status_code == 200, page.status_code
    secret = SECRET_ON_PAGE.search(page.get_data(as_text=True)).group(1)
    done = client.post("/account/2fa/confirm", data={"code": code_at(secret)})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(
        r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", done.get_data(as_text=True)
    )
    return secret, codes


def audit_actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def outbox_to(address: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
        )
    )


def link_token(email: OutboxEmail, path: str) -> str:
    match = re.search(rf"http://[^\s]+{re.escape(path)}\?token=([A-Za-z0-9_-]+)", email.body)
    assert match, email.body
    return match.group(1)
