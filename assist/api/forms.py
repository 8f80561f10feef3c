"""Account page forms: name a new API token; revoke one (CSRF token only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired, Length, NumberRange

from assist.api.tokens import NAME_MAX_LENGTH
from assist.forms import CleanStringField


class TokenForm(FlaskForm):
    name = CleanStringField(
        _l("Token name"),
        validators=[
            DataRequired(_l("Give the token a name, e.g. the script or tool that will use it.")),
            Length(max=NAME_MAX_LENGTH, message=_l("Keep the name under %(max)d characters.")),
        ],
        description=_l("So you can tell your tokens apart later, e.g. “Monthly report script”."),
    )


class RevokeForm(FlaskForm):
    """Which token to revoke (a hidden field of each row's button), and the CSRF token."""

    token_id = IntegerField(
        _l("Token"), validators=[DataRequired(_l("Choose a token.")), NumberRange(min=1)]
    )
