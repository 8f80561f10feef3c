"""Reads for the API and the account page, already scoped to the user."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from assist.api import policy
from assist.api.policy import DirectoryView
from assist.auth.models import ApiToken, User
from assist.delivery import policy as delivery_policy
from assist.delivery.models import Activity
from assist.directory.models import ExpertOrganisation
from assist.extensions import db

#: Ids beyond this are refused before they reach the database (SQLite overflows on them).
MAX_ID = 2**31 - 1


def user_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    stmt = (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    )
    return list(db.session.scalars(stmt))


def get_token_or_404(user: User, token_id: int) -> ApiToken:
    """The token, or 404 when it does not exist or belongs to someone else (no leak)."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or not policy.can_manage_token(user, token):
        raise NotFound()
    return token


def visible_organisations(user: User) -> sa.Select[tuple[ExpertOrganisation]]:
    """The expert directory as this user's role may see it (see ``policy.directory_view``)."""
    stmt = (
        sa.select(ExpertOrganisation)
        .options(sa.orm.selectinload(ExpertOrganisation.terms))
        .order_by(ExpertOrganisation.name, ExpertOrganisation.id)
    )
    view = policy.directory_view(user)
    if view == DirectoryView.OWN:
        stmt = stmt.where(ExpertOrganisation.id == user.organisation_id)
    elif view == DirectoryView.PUBLIC:
        stmt = stmt.where(ExpertOrganisation.is_active)
    return stmt


def get_activity_or_404(user: User, activity_id: int) -> Activity:
    """The activity, or 404 when it does not exist or its engagement is not visible to the user."""
    activity = db.session.get(Activity, activity_id) if 0 < activity_id <= MAX_ID else None
    if activity is None or not delivery_policy.can_view(user, activity):
        raise NotFound()
    return activity
