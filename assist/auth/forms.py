"""Sign-in, the second factor, password and invitation forms, the admin's account form, and
the interface language preference."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from assist.i18n import DEFAULT_LANGUAGE, LANGUAGES
from assist.roles import Role


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)]
    )


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None  # type: ignore[arg-type]


def current_language() -> str:
    """The interface language of the person filling the form: the default for someone they
    invite or create (the field lets them choose another)."""
    code = str(get_locale() or "")
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def language_choices(follow_browser: Any = None) -> list[SelectChoice]:
    """The interface languages, each named in itself (and marked so for screen readers), after
    an empty choice labelled ``follow_browser`` when there is one (stored as None)."""
    choices = [SelectChoice("", str(follow_browser))] if follow_browser is not None else []
    choices += [
        SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items()
    ]
    return choices


class UserForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Length(max=254, message=_l("Use at most %(max)d characters.")),
        ],
    )
    name = CleanStringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
        description=_l("As colleagues will see it in histories."),
    )
    role = SelectField(_l("Role"))
    authority_id = SelectField(
        _l("Local authority"), coerce=_optional_int, description=_l("Only for city officials.")
    )
    organisation_id = SelectField(
        _l("Expert organisation"), coerce=_optional_int, description=_l("Only for experts.")
    )
    is_active = BooleanField(_l("Account active"), default=True)
    # None (the empty choice) follows the browser; a new account starts in the admin's language.
    language = SelectField(
        _l("Preferred language"),
        default=current_language,
        validators=[Optional()],
        description=_l("Of the pages and of the e-mails this person receives."),
    )
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "At least 12 characters. When editing, leave empty to keep the current one; "
            "setting one signs the user out everywhere."
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r.value, r.label) for r in Role]
        # NOTE: a choice in an administrator's "Language" list for another person's account.
        self.language.choices = language_choices(_("Follow their browser"))
        none = SelectChoice("", "—")
        self.authority_id.choices = [none, *(SelectChoice(a.id, a.name) for a in all_authorities())]
        self.organisation_id.choices = [
            none,
            *(SelectChoice(o.id, o.name) for o in all_organisations()),
        ]


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter the 6-digit code from your app, or a recovery code.")),
            Length(max=40, message=_l("A code has at most 19 characters.")),
        ],
        description=_l(
            "The 6 digits your authenticator app shows now, or one of your recovery "
            "codes (xxxx-xxxx-xxxx-xxxx)."
        ),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code from your app"),
        validators=[
            DataRequired(_l("Enter the 6-digit code your app shows after scanning.")),
            Length(max=40),
        ],
        description=_l("After adding the account in your app, type the 6 digits it shows."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmCodeForm(FlaskForm):
    code = StringField(
        _l("Current code from your app"),
        validators=[DataRequired(_l("Enter the 6 digits your app shows now.")), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


def _new_password_field(label: Any = None) -> PasswordField:
    return PasswordField(
        label or _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=200)],
        description=_l("At least 12 characters. A few unrelated words are easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )


def _confirm_field(other: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Type the password a second time.")),
            EqualTo(other, message=_l("The two passwords differ: type them again.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field()
    confirm = _confirm_field("new_password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=100)])
    password = _new_password_field()
    confirm = _confirm_field("password")


class AcceptInvitationForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=100)])
    password = _new_password_field(_l("Choose a password"))
    confirm = _confirm_field("password")


class EndSessionForm(FlaskForm):
    session_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class RevokeInvitationForm(FlaskForm):
    invitation_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A button with nothing but the CSRF token."""


class RolePolicyForm(FlaskForm):
    city_official = BooleanField(
        _l("City officials need a second factor"),
        description=_l("They are sent to set one up at their next page view."),
    )
    expert = BooleanField(
        _l("Experts need a second factor"),
        description=_l("They are sent to set one up at their next page view."),
    )


class InvitationForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter the e-mail address to invite.")),
            Length(max=254, message=_l("Use at most %(max)d characters.")),
        ],
    )
    name = CleanStringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter the person's name.")), Length(max=120)],
        description=_l("As colleagues will see it in histories."),
    )
    role = SelectField(_l("Role"))
    authority_id = SelectField(
        _l("Local authority"), coerce=_optional_int, description=_l("Only for city officials.")
    )
    organisation_id = SelectField(
        _l("Expert organisation"), coerce=_optional_int, description=_l("Only for experts.")
    )
    # Optional in the request (a form without it invites in the inviter's language).
    language = SelectField(
        _l("Preferred language"),
        default=current_language,
        validators=[Optional()],
        description=_l("Of the invitation e-mail and of their account; they can change it later."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [
            SelectChoice(Role.CITY_OFFICIAL.value, Role.CITY_OFFICIAL.label),
            SelectChoice(Role.EXPERT.value, Role.EXPERT.label),
        ]
        self.language.choices = language_choices()
        none = SelectChoice("", "—")
        self.authority_id.choices = [none, *(SelectChoice(a.id, a.name) for a in all_authorities())]
        self.organisation_id.choices = [
            none,
            *(SelectChoice(o.id, o.name) for o in all_organisations()),
        ]


class LanguageForm(FlaskForm):
    """The account page's language preference; the empty choice (None) follows the browser."""

    language = SelectField(
        _l("Preferred language"),
        description=_l(
            "Of the pages and of the e-mails sent to you. Following your browser, pages use the "
            "language it asks for and e-mails are in English."
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # NOTE: a choice in the "Language" list of one's own account page.
        self.language.choices = language_choices(_("Follow my browser"))
