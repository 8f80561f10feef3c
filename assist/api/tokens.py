"""Personal API tokens: create, revoke and authenticate bearer tokens (callers commit)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from assist import audit
from assist.api import policy
from assist.auth.models import ApiToken, User
from assist.db import utcnow
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.forms import clean_text

log = logging.getLogger("assist.api")

TOKEN_PREFIX = "pa_"  # noqa: S105 - the public marker of a token, not a secret
#: "pa_" + secrets.token_urlsafe(32): 43 URL-safe characters.
TOKEN_PATTERN = re.compile(r"pa_[A-Za-z0-9_-]{43}")
#: Characters kept (and shown) so a user can tell tokens apart; fits ApiToken.prefix.
SHOWN_PREFIX_LENGTH = 12
NAME_MAX_LENGTH = 100
#: last_used_at is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just created; ``secret`` exists only here and is shown to its owner once."""

    token: ApiToken
    secret: str


def create_token(actor: User, name: str) -> NewToken:
    if not policy.can_use_api(actor):
        raise NotAllowed(_("Only active accounts can create API tokens."))
    name = clean_text(name or "")
    if not name:
        raise ValidationFailed(
            {"name": [_("Give the token a name, e.g. the script that uses it.")]}
        )
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(
            {"name": [_("Keep the name under %(max)d characters.", max=NAME_MAX_LENGTH)]}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=actor,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:SHOWN_PREFIX_LENGTH],
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "create", token, comment=f"{name} ({token.prefix}…)")
    log.info("api token created id=%s user=%s", token.id, actor.id)
    return NewToken(token=token, secret=secret)


def revoke_token(token: ApiToken, actor: User) -> ApiToken:
    if not policy.can_manage_token(actor, token):
        raise NotAllowed(_("You can only revoke your own tokens."))
    if token.revoked_at is not None:
        raise Conflict(_("This token was already revoked."))
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(actor, "revoke", token, comment=f"{token.name} ({token.prefix}…)")
    log.info("api token revoked id=%s user=%s", token.id, actor.id)
    return token


def authenticate_token(secret: str, *, now: datetime | None = None) -> User | None:
    """The active owner of this live token, or None; notes the use (at most once a minute)."""
    if not TOKEN_PATTERN.fullmatch(secret):
        return None
    token = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret))
        .options(sa.orm.joinedload(ApiToken.user))
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        token.last_used_at = now
    return token.user
