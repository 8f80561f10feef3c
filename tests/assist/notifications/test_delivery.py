"""E-mail delivery through a real SMTP server on loopback: sent once, retried, never twice."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask

from assist.config import load_config
from assist.db import utcnow
from assist.extensions import db
from assist.notifications import delivery
from assist.notifications.delivery import deliver_pending
from assist.notifications.models import OutboxEmail, OutboxStatus
from assist.notifications.services import notify
from tests.factories import make_user

MESSAGE = "Request #7 was submitted"


def free_port() -> int:
    # Controller(port=0) is not supported by every aiosmtpd version: ask the OS instead.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """What the loopback server accepted; recipients starting with "refuse" get a 550."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("refuse"):
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"

    def to(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Controller, Inbox]) -> Inbox:
    smtp_server[1].messages.clear()
    return smtp_server[1]


@pytest.fixture
def smtp_config(app: Flask, smtp_server: tuple[Controller, Inbox]) -> dict[str, Any]:
    return {
        **app.config,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server[0].port,
        "PUBLIC_URL": "https://assist.example.org",
        "MAIL_FROM": "PREPARE Assist <no-reply@assist.example.org>",
        "MAIL_MAX_ATTEMPTS": 3,
    }


def queue(*addresses: str, link: str = "/requests/7") -> list[OutboxEmail]:
    notify([make_user(email=address) for address in addresses], MESSAGE, link)
    db.session.flush()
    stmt = (
        sa.select(OutboxEmail).where(OutboxEmail.to_address.in_(addresses)).order_by(OutboxEmail.id)
    )
    return list(db.session.scalars(stmt))


def test_delivers_queued_emails_once(app, inbox, smtp_config) -> None:
    first, second = queue("ana@city.example", "ben@city.example")

    report = deliver_pending(smtp_config)

    assert (report.sent, report.retried, report.failed, report.skipped) == (2, 0, 0, 0)
    assert report.summary().startswith("Sent 2,")
    assert inbox.to() == ["ana@city.example", "ben@city.example"]
    msg = next(m for m in inbox.messages if m["To"] == "ana@city.example")
    assert msg["From"] == "PREPARE Assist <no-reply@assist.example.org>"
    assert msg["Subject"] == f"[PREPARE Assist] {MESSAGE}"
    assert msg["Message-ID"] == f"<outbox-{first.id}@assist.example.org>"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_content()
    assert MESSAGE in text
    assert "Open: https://assist.example.org/requests/7" in text
    assert "automatic message" in text
    for row in (first, second):
        assert row.status == OutboxStatus.SENT
        assert row.sent_at is not None and row.attempts == 1

    again = deliver_pending(smtp_config)
    assert (again.sent, again.retried, again.failed) == (0, 0, 0)
    assert len(inbox.messages) == 2


def test_no_link_no_open_line(app, inbox, smtp_config) -> None:
    queue("cy@city.example", link="")
    deliver_pending(smtp_config)
    assert "Open:" not in inbox.messages[0].get_content()


def test_refused_recipient_is_retried_then_failed(app, inbox, smtp_config) -> None:
    good, refused = queue("good@city.example", "refuse@city.example")
    now = utcnow()

    report = deliver_pending(smtp_config, now=now)

    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    assert inbox.to() == ["good@city.example"]
    assert good.status == OutboxStatus.SENT
    assert refused.status == OutboxStatus.PENDING and refused.attempts == 1
    assert refused.next_attempt_at > now
    assert "550 mailbox unavailable" in refused.last_error
    assert "\n" not in refused.last_error

    # Not due yet: the same moment tries nothing.
    assert deliver_pending(smtp_config, now=now).retried == 0
    assert refused.attempts == 1

    max_attempts = smtp_config["MAIL_MAX_ATTEMPTS"]
    for _ in range(max_attempts - 1):
        now += timedelta(days=1)
        report = deliver_pending(smtp_config, now=now)
    assert report.failed == 1
    assert refused.status == OutboxStatus.FAILED and refused.attempts == max_attempts

    # Failed for good: later runs leave it alone, and the good one never went twice.
    assert deliver_pending(smtp_config, now=now + timedelta(days=30)).failed == 0
    assert inbox.to() == ["good@city.example"]


def test_backoff_grows_with_attempts(app, inbox, smtp_config) -> None:
    (refused,) = queue("refuse-too@city.example")
    config = {**smtp_config, "MAIL_MAX_ATTEMPTS": 10}
    now = utcnow()
    delays = []
    for _ in range(3):
        deliver_pending(config, now=now)
        delays.append(refused.next_attempt_at - now)
        now = refused.next_attempt_at
    assert delays[0] < delays[1] < delays[2]


def test_not_configured_sends_nothing_and_changes_nothing(app, inbox, smtp_config) -> None:
    rows = queue("dee@city.example", "eve@city.example")
    waiting = db.session.scalar(
        sa.select(sa.func.count()).where(OutboxEmail.status == OutboxStatus.PENDING)
    )

    report = deliver_pending({**smtp_config, "SMTP_HOST": ""})

    assert not report.configured and report.sent == 0
    assert "not configured" in report.summary()
    assert f"{waiting} e-mails waiting" in report.summary()
    assert inbox.messages == []
    for row in rows:
        assert row.status == OutboxStatus.PENDING
        assert row.attempts == 0 and row.last_error == "" and row.claimed_at is None


def test_server_down_keeps_rows_pending(app, inbox, smtp_config) -> None:
    rows = queue("fay@city.example", "gus@city.example")

    report = deliver_pending({**smtp_config, "SMTP_PORT": free_port()})  # nothing listening

    assert report.sent == 0 and report.error
    assert report.waiting == 2
    assert "Could not reach the SMTP server" in report.summary()
    for row in rows:
        assert row.status == OutboxStatus.PENDING and row.claimed_at is None
        # An outage is nobody's fault: it uses up no attempt, so no e-mail is given up on.
        assert row.attempts == 0
        assert row.last_error.startswith("SMTP server unreachable")

    # Once the server is back, they go.
    assert deliver_pending(smtp_config).sent == 2
    assert inbox.to() == ["fay@city.example", "gus@city.example"]


def test_row_stuck_in_sending_is_failed_not_resent(app, inbox, smtp_config) -> None:
    stuck, recent = queue("hal@city.example", "ivy@city.example")
    now = utcnow()
    stuck.status, stuck.claimed_at = OutboxStatus.SENDING, now - timedelta(hours=1)
    recent.status, recent.claimed_at = OutboxStatus.SENDING, now - timedelta(minutes=1)
    db.session.flush()

    report = deliver_pending(smtp_config, now=now)

    assert report.abandoned == 1 and report.sent == 0
    assert "interrupted run" in report.summary()
    assert stuck.status == OutboxStatus.FAILED
    assert "not resent to avoid duplicates" in stuck.last_error
    # Claimed a minute ago: another run may be sending it right now.
    assert recent.status == OutboxStatus.SENDING
    assert inbox.messages == []


def test_a_row_can_be_claimed_only_once(app, smtp_config) -> None:
    (row,) = queue("jon@city.example")
    now = utcnow()
    assert delivery.claim(row.id, now) is True
    assert delivery.claim(row.id, now) is False


def test_racing_runs_never_send_twice(app, inbox, smtp_config, monkeypatch) -> None:
    rows = queue("kim@city.example", "lou@city.example")
    ids = [row.id for row in rows]
    # Another worker selected the same rows and claimed the first before this run could.
    assert delivery.claim(ids[0], utcnow())
    db.session.commit()
    monkeypatch.setattr(delivery, "_due_ids", lambda now, limit: ids)

    report = deliver_pending(smtp_config)

    assert (report.sent, report.skipped) == (1, 1)
    assert inbox.to() == ["lou@city.example"]
    assert rows[0].status == OutboxStatus.SENDING  # still the other worker's


def test_limit_caps_a_run(app, inbox, smtp_config) -> None:
    queue("max@city.example", "ned@city.example", "oli@city.example")
    assert deliver_pending(smtp_config, limit=2).sent == 2
    assert deliver_pending(smtp_config, limit=2).sent == 1
    assert len(inbox.messages) == 3


@contextmanager
def configured(app: Flask, **values: Any) -> Iterator[None]:
    """Set app.config keys for one block (the app is shared by the whole session)."""
    saved = {key: app.config.get(key) for key in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)


def test_send_notifications_command(app, inbox, smtp_config) -> None:
    queue("pat@city.example")
    keys = ("SMTP_HOST", "SMTP_PORT", "PUBLIC_URL")
    with configured(app, **{key: smtp_config[key] for key in keys}):
        result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "Sent 1," in result.output
    assert inbox.to() == ["pat@city.example"]


def test_send_notifications_command_without_smtp(app, inbox) -> None:
    (row,) = queue("quin@city.example")
    with configured(app, SMTP_HOST=""):
        result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "not configured" in result.output
    assert inbox.messages == [] and row.status == OutboxStatus.PENDING


def test_smtp_settings_come_from_the_environment(tmp_path, monkeypatch) -> None:
    overrides: dict[str, object] = {"ASSIST_ENV": "development", "SECRET_KEY": "x"}
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_SSL", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path, overrides)
    assert config["SMTP_HOST"] == "" and config["SMTP_PORT"] == 25
    assert config["SMTP_STARTTLS"] is False and config["MAIL_MAX_ATTEMPTS"] == 5
    monkeypatch.setenv("SMTP_HOST", " mail.example.org ")
    monkeypatch.setenv("SMTP_PORT", "587")
    monkeypatch.setenv("SMTP_STARTTLS", "Yes")
    monkeypatch.setenv("PUBLIC_URL", "https://assist.example.org/")
    config = load_config(tmp_path, overrides)
    assert (config["SMTP_HOST"], config["SMTP_PORT"]) == ("mail.example.org", 587)
    assert config["SMTP_STARTTLS"] is True and config["SMTP_SSL"] is False
    assert config["PUBLIC_URL"] == "https://assist.example.org"
