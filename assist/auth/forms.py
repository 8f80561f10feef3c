"""Sign-in, the second factor, password and invitation forms, and the admin's account form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

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


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the 6-digit code from your app, or a recovery code."),
            Length(max=40, message="A code has at most 19 characters."),
        ],
        description="The 6 digits your authenticator app shows now, or one of your recovery "
        "codes (xxxx-xxxx-xxxx-xxxx).",
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "Code from your app",
        validators=[
            DataRequired("Enter the 6-digit code your app shows after scanning."),
            Length(max=40),
        ],
        description="After adding the account in your app, type the 6 digits it shows.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmCodeForm(FlaskForm):
    code = StringField(
        "Current code from your app",
        validators=[DataRequired("Enter the 6 digits your app shows now."), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


def _new_password_field(label: str = "New password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired("Choose a password."), Length(max=200)],
        description="At least 12 characters. A few unrelated words are easy to remember.",
        render_kw={"autocomplete": "new-password"},
    )


def _confirm_field(other: str) -> PasswordField:
    return PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Type the password a second time."),
            EqualTo(other, message="The two passwords differ: type them again."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field()
    confirm = _confirm_field("new_password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Enter your e-mail address."), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=100)])
    password = _new_password_field()
    confirm = _confirm_field("password")


class AcceptInvitationForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=100)])
    password = _new_password_field("Choose a password")
    confirm = _confirm_field("password")


class EndSessionForm(FlaskForm):
    session_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class RevokeInvitationForm(FlaskForm):
    invitation_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A button with nothing but the CSRF token."""


class RolePolicyForm(FlaskForm):
    city_official = BooleanField(
        "City officials need a second factor",
        description="They are sent to set one up at their next page view.",
    )
    expert = BooleanField(
        "Experts need a second factor",
        description="They are sent to set one up at their next page view.",
    )


class InvitationForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[
            DataRequired("Enter the e-mail address to invite."),
            Length(max=254, message="Use at most %(max)d characters."),
        ],
    )
    name = CleanStringField(
        "Name",
        validators=[DataRequired("Enter the person's name."), Length(max=120)],
        description="As colleagues will see it in histories.",
    )
    role = SelectField(
        "Role",
        choices=[
            SelectChoice(Role.CITY_OFFICIAL.value, Role.CITY_OFFICIAL.label),
            SelectChoice(Role.EXPERT.value, Role.EXPERT.label),
        ],
    )
    authority_id = SelectField(
        "Local authority", coerce=_optional_int, description="Only for city officials."
    )
    organisation_id = SelectField(
        "Expert organisation", coerce=_optional_int, description="Only for experts."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        none = SelectChoice("", "—")
        self.authority_id.choices = [none, *(SelectChoice(a.id, a.name) for a in all_authorities())]
        self.organisation_id.choices = [
            none,
            *(SelectChoice(o.id, o.name) for o in all_organisations()),
        ]
