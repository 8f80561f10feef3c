"""Deliver queued outbox e-mails over SMTP: claim, send, record; retry failures, never twice."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from assist.auth.models import User
from assist.db import utcnow
from assist.extensions import db
from assist.notifications.models import OutboxEmail, OutboxStatus
from assist.notifications.services import recipient_language

log = logging.getLogger("assist.notifications")

SMTP_TIMEOUT = 10  # seconds, for connecting and for each command
#: A row claimed longer ago than this belongs to a run that died mid-send.
STUCK_AFTER = timedelta(minutes=15)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
INTERRUPTED = "delivery state unknown after an interrupted run; not resent to avoid duplicates"
#: The signature separator (RFC 3676) before the footer, which is in the recipient's language.
SIGNATURE = "-- \n"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass
class DeliveryReport:
    """What one run did; ``summary()`` is the line the CLI prints."""

    configured: bool = True
    sent: int = 0
    retried: int = 0
    failed: int = 0
    #: Claimed by another run between our select and our claim.
    skipped: int = 0
    #: Left in 'sending' by an interrupted run, now marked failed (never resent).
    abandoned: int = 0
    #: Still pending after this run (not configured, or the server was unreachable).
    waiting: int = 0
    #: Why the run stopped early (the SMTP server could not be reached), else "".
    error: str = ""

    def summary(self) -> str:
        if not self.configured:
            return (
                "E-mail is not configured (SMTP_HOST is empty): nothing sent; "
                f"{_plural(self.waiting, 'e-mail')} waiting in the outbox."
            )
        text = (
            f"Sent {self.sent}, will retry {self.retried}, failed {self.failed}, "
            f"skipped {self.skipped} (claimed by another run)"
        )
        if self.abandoned:
            text += f", {self.abandoned} from an interrupted run marked failed (not resent)"
        text += "."
        if self.error:
            text += (
                f" Could not reach the SMTP server ({self.error}); "
                f"{_plural(self.waiting, 'e-mail')} left pending for the next run."
            )
        return text


def deliver_pending(
    config: Mapping[str, Any], *, limit: int = 100, now: datetime | None = None
) -> DeliveryReport:
    """Send up to ``limit`` due outbox e-mails; each claim commits before SMTP is spoken.

    Commits are this loop's own transactional steps (claim, then outcome), so a row is
    never sent by two runs and a crash leaves it visibly in 'sending'. ``now`` moves the
    clock in tests.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    if not str(config.get("SMTP_HOST") or "").strip():
        waiting = db.session.scalar(
            sa.select(sa.func.count(OutboxEmail.id)).where(
                OutboxEmail.status == OutboxStatus.PENDING
            )
        )
        return DeliveryReport(configured=False, waiting=waiting or 0)

    report = DeliveryReport()
    report.abandoned = _fail_interrupted(clock())
    max_attempts = max(1, int(config.get("MAIL_MAX_ATTEMPTS") or 5))
    ids = _due_ids(clock(), limit)
    smtp: smtplib.SMTP | None = None
    try:
        for index, email_id in enumerate(ids):
            if smtp is None:
                try:
                    smtp = _connect(config)
                except (smtplib.SMTPException, OSError) as exc:
                    report.error = _describe(exc)
                    report.waiting = _note_unreachable(ids[index:], report.error)
                    log.warning("outbox: SMTP server unreachable: %s", report.error)
                    break
            if not claim(email_id, clock()):
                report.skipped += 1
                continue
            db.session.commit()  # the claim is durable before anything leaves
            email = db.session.get(OutboxEmail, email_id)
            if email is None:  # pragma: no cover - claimed rows are not deleted
                continue
            try:
                smtp.send_message(build_message(email, config))
            except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
                if _record_failure(email, exc, clock(), max_attempts):
                    report.failed += 1
                else:
                    report.retried += 1
                if _connection_broken(exc):
                    _close(smtp)  # reconnect (once) for the next e-mail
                    smtp = None
            else:
                email.status = OutboxStatus.SENT
                email.attempts += 1
                email.sent_at = clock()
                report.sent += 1
                log.info("outbox %s sent", email.id)
            db.session.commit()
    finally:
        if smtp is not None:
            _close(smtp)
    return report


def claim(email_id: int, now: datetime) -> bool:
    """Move one due row from 'pending' to 'sending'; False if another run got there first."""
    result = db.session.execute(
        sa.update(OutboxEmail)
        .where(
            OutboxEmail.id == email_id,
            OutboxEmail.status == OutboxStatus.PENDING,
            OutboxEmail.next_attempt_at <= now,
        )
        .values(status=OutboxStatus.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def build_message(email: OutboxEmail, config: Mapping[str, Any]) -> EmailMessage:
    """The e-mail as sent: plain text, with an absolute link and a stable Message-ID."""
    public_url = str(config.get("PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    host = urlsplit(public_url).hostname or "localhost"
    msg = EmailMessage()
    msg["From"] = str(config.get("MAIL_FROM") or "PREPARE Assist <no-reply@localhost>")
    msg["To"] = email.to_address
    msg["Subject"] = " ".join(email.subject.split())  # no CR/LF can reach a header
    msg["Date"] = format_datetime(utcnow())
    # The same id on every attempt, so a receiving server can drop a duplicate.
    msg["Message-ID"] = f"<outbox-{email.id}@{host}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    body = email.body
    link = email.notification.link if email.notification is not None else ""
    # The body was written in the recipient's language when queued; the lines added here too.
    with force_locale(recipient_language(_recipient(email))):
        if link.startswith("/") and not link.startswith("//"):
            body += "\n\n" + _("Open: %(url)s", url=f"{public_url}{link}")
        footer = _("This is an automatic message from PREPARE Assist; replies are not read.")
    msg.set_content(f"{body}\n\n{SIGNATURE}{footer}\n")
    return msg


def _recipient(email: OutboxEmail) -> User | None:
    """The account the e-mail goes to: its notification's user, else the one with its address."""
    if email.notification is not None:
        return email.notification.user
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == email.to_address.lower()).limit(1)
    )


def _due_ids(now: datetime, limit: int) -> list[int]:
    stmt = (
        sa.select(OutboxEmail.id)
        .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _fail_interrupted(now: datetime) -> int:
    """Mark rows stuck in 'sending' failed: they may have left, so they are never resent."""
    cutoff = now - STUCK_AFTER
    stuck = sa.and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_at < cutoff)
    count = 0
    for email_id in db.session.scalars(sa.select(OutboxEmail.id).where(stuck)):
        result = db.session.execute(
            sa.update(OutboxEmail)
            .where(OutboxEmail.id == email_id, stuck)
            .values(status=OutboxStatus.FAILED, last_error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            count += 1
            log.error("outbox %s failed: %s", email_id, INTERRUPTED)
    db.session.commit()
    return count


def _note_unreachable(ids: list[int], error: str) -> int:
    """Leave unclaimed rows pending (no attempt used up), with the reason for operators."""
    if not ids:
        return 0
    result = db.session.execute(
        sa.update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids), OutboxEmail.status == OutboxStatus.PENDING)
        .values(last_error=f"SMTP server unreachable: {error}"[:500])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def _record_failure(email: OutboxEmail, exc: Exception, now: datetime, max_attempts: int) -> bool:
    """Count the attempt; back to 'pending' with backoff, or 'failed' at the limit (True)."""
    email.attempts += 1
    email.last_error = _describe(exc)
    if email.attempts >= max_attempts:
        email.status = OutboxStatus.FAILED
        log.error(
            "outbox %s failed after %s attempts: %s", email.id, email.attempts, email.last_error
        )
        return True
    email.status = OutboxStatus.PENDING
    email.next_attempt_at = now + min(FIRST_RETRY * 2**email.attempts, MAX_RETRY)
    log.warning(
        "outbox %s not sent (attempt %s), retry at %s: %s",
        email.id,
        email.attempts,
        email.next_attempt_at.isoformat(timespec="seconds"),
        email.last_error,
    )
    return False


def _connection_broken(exc: BaseException) -> bool:
    """A refusal or a bad header leaves the session usable; a dropped connection does not."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return not isinstance(exc, smtplib.SMTPException | ValueError)


def _describe(exc: BaseException) -> str:
    """A short, single-line reason: the SMTP reply when there is one, never a traceback."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = [_reply(code, text) for code, text in exc.recipients.values()]
        detail = "recipient refused: " + "; ".join(replies)
    elif isinstance(exc, smtplib.SMTPResponseException):
        detail = _reply(exc.smtp_code, exc.smtp_error)
    else:
        detail = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {' '.join(detail.split())}"[:300]


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"


def _connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    host = str(config["SMTP_HOST"]).strip()
    port = int(config.get("SMTP_PORT") or 25)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.get("SMTP_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    try:
        if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
            smtp.starttls(context=context)
        if config.get("SMTP_USERNAME"):
            smtp.login(str(config["SMTP_USERNAME"]), str(config.get("SMTP_PASSWORD") or ""))
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
