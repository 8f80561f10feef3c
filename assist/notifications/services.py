"""Write notifications (and their e-mails, to the outbox) in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import NotFound

from assist.auth.models import User
from assist.db import utcnow
from assist.extensions import db
from assist.i18n import reading_language
from assist.notifications.models import Notification, OutboxEmail
from assist.roles import Role


def recipient_language(user: User | None) -> str:
    """The language a user reads notifications and e-mails in (their saved preference)."""
    return reading_language(getattr(user, "language", None))


def render_for(user: User | None, message: str | LazyString) -> str:
    """The message as ``user`` reads it: a lazy string is evaluated in the user's language."""
    if isinstance(message, str):
        return message
    with force_locale(recipient_language(user)):
        return str(message)


def notify(
    recipients: Iterable[User],
    message: str | LazyString,
    link: str,
    *,
    exclude: User | None = None,
) -> int:
    """One notification and one queued e-mail per active recipient (never the actor).

    ``message`` is best a lazy string (``lazy_gettext("… %(n)s …", n=…)``): it is rendered in
    each recipient's own language, the stored notification and the e-mail alike, since both
    are stored as text. A plain ``str`` is stored as given.

    Messages name objects by number and status only: no free text from requests travels by
    e-mail, so what leaves the platform is never more than "something changed, sign in".
    """
    count = 0
    seen: set[int] = set()
    for user in recipients:
        if user.id in seen or not user.is_active or (exclude is not None and user.id == exclude.id):
            continue
        seen.add(user.id)
        text = render_for(user, message)
        note = Notification(user=user, message=text[:500], link=link)
        db.session.add(note)
        db.session.add(
            OutboxEmail(
                notification=note,
                to_address=user.email,
                subject=f"[PREPARE Assist] {text[:150]}",
                body=text,
            )
        )
        count += 1
    return count


def staff_users() -> list[User]:
    stmt = sa.select(User).where(User.role == Role.STAFF, User.is_active_account)
    return list(db.session.scalars(stmt))


def authority_officials(authority_id: int) -> list[User]:
    stmt = sa.select(User).where(
        User.role == Role.CITY_OFFICIAL, User.authority_id == authority_id, User.is_active_account
    )
    return list(db.session.scalars(stmt))


def organisation_experts(organisation_id: int) -> list[User]:
    stmt = sa.select(User).where(
        User.role == Role.EXPERT, User.organisation_id == organisation_id, User.is_active_account
    )
    return list(db.session.scalars(stmt))


def unread_count(user: User) -> int:
    from assist.auth.loader import prefetched_unread

    # The signed-in user's count comes with the user, unless this request wrote notifications.
    known = prefetched_unread(user)
    if known is not None:
        return known
    stmt = sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return db.session.scalar(stmt) or 0


def recent(user: User, limit: int = 50) -> list[Notification]:
    stmt = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's own notifications read; another user's id matches none."""
    stmt = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=utcnow())).rowcount


def get_own_or_404(user: User, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound()
    return note


def queue_email(to_address: str, subject: str, body: str) -> OutboxEmail:
    """Queue an e-mail to an address with no notification behind it (account links).

    Delivered by ``send-notifications`` like every other outbox row, in the caller's transaction.
    """
    email = OutboxEmail(to_address=to_address[:254], subject=subject[:200], body=body)
    db.session.add(email)
    return email
