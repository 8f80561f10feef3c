"""The account page: who you are, your interface language (saved by ``auth.set_language``), and
your personal API tokens (create, shown once; revoke)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from assist.api import tokens
from assist.api.forms import RevokeForm, TokenForm
from assist.api.queries import get_token_or_404, user_tokens
from assist.auth.decorators import current_actor
from assist.auth.forms import LanguageForm
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.forms import attach_errors

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(form: TokenForm, new_secret: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "account/index.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=user_tokens(current_user),
        new_secret=new_secret,
        api_prefix=url_for("api.openapi").rsplit("/", 1)[0],
        # NOTE: an HTTP header: keep "Authorization: Bearer", translate the word between < >.
        api_header=_("Authorization: Bearer <token>"),
        # Saved by auth.set_language, with the other account settings' rate limit.
        language_form=LanguageForm(formdata=None, data={"language": current_user.language or ""}),
    ), status


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    return _page(TokenForm())


@bp.post("/tokens")
@login_required
def create_token() -> tuple[str, int]:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        new = tokens.create_token(current_actor(), form.name.data or "")
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _page(form, status=422)
    # Rendered, not redirected: the secret must not travel through the session cookie.
    flash(
        _(
            "Token “%(name)s” created. Copy it now: it will not be shown again.",
            name=new.token.name,
        ),
        "success",
    )
    return _page(TokenForm(formdata=None), new_secret=new.secret, status=201)


# The token's id travels in the form, not the path: revoking is scoped to the signed-in user,
# and get_token_or_404 answers 404 for anyone else's token.
@bp.post("/tokens/revoke")
@login_required
def revoke_token() -> Response:
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Choose a token to revoke, from this page."), "danger")
        return redirect(url_for("account.index"))
    token = get_token_or_404(current_user, form.token_id.data or 0)
    try:
        tokens.revoke_token(token, current_actor())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash(
            _("Token “%(name)s” revoked: it no longer opens the API.", name=token.name), "success"
        )
    return redirect(url_for("account.index"))
