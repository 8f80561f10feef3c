"""Sign-in and the admin's account form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length, Optional

from assist.directory.queries import all_authorities, all_organisations
from assist.forms import CleanStringField
from assist.roles import Role


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Enter your e-mail address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None  # type: ignore[arg-type]


class UserForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[
            DataRequired("Enter an e-mail address."),
            Length(max=254, message="Use at most %(max)d characters."),
        ],
    )
    name = CleanStringField(
        "Name",
        validators=[DataRequired("Enter a name."), Length(max=120)],
        description="As colleagues will see it in histories.",
    )
    role = SelectField("Role", choices=[SelectChoice(r.value, r.label) for r in Role])
    authority_id = SelectField(
        "Local authority", coerce=_optional_int, description="Only for city officials."
    )
    organisation_id = SelectField(
        "Expert organisation", coerce=_optional_int, description="Only for experts."
    )
    is_active = BooleanField("Account active", default=True)
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(max=200)],
        description="At least 12 characters. When editing, leave empty to keep the current one; "
        "setting one signs the user out everywhere.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        none = SelectChoice("", "—")
        self.authority_id.choices = [none, *(SelectChoice(a.id, a.name) for a in all_authorities())]
        self.organisation_id.choices = [
            none,
            *(SelectChoice(o.id, o.name) for o in all_organisations()),
        ]
