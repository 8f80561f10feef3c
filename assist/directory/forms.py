"""Admin forms for local authorities and expert organisation profiles."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length, NumberRange

from assist.directory.models import GovernmentLevel, TermKind
from assist.directory.queries import term_choices
from assist.directory.services import PROFILE_TERM_FIELDS
from assist.forms import CleanStringField, CleanTextAreaField, CodesField


class AuthorityForm(FlaskForm):
    name = CleanStringField(
        "Name", validators=[DataRequired("Enter the authority's name."), Length(max=200)]
    )
    country = SelectField("Country")
    level = SelectField(
        "Level of government",
        choices=[SelectChoice(level.value, level.label) for level in GovernmentLevel],
    )
    description = CleanTextAreaField(
        "Description",
        validators=[Length(max=4000)],
        description="Local set-up and competences, in a few sentences (no individuals).",
    )
    is_active = BooleanField("Active (its officials can create requests)", default=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = term_choices(TermKind.COUNTRY)


class OrganisationForm(FlaskForm):
    name = CleanStringField("Name", validators=[Length(max=200)])
    country = SelectField("Based in")
    description = CleanTextAreaField(
        "Profile",
        validators=[Length(max=8000)],
        description="Methods, experience and past work, as the matching will read it.",
    )
    capacity = IntegerField(
        "Capacity",
        default=2,
        validators=[NumberRange(min=0, max=100, message="Give a number between 0 and 100.")],
        description="How many engagements the organisation can run at the same time.",
    )
    is_active = BooleanField("Active (can be proposed for requests)", default=True)
    themes = CodesField("Themes")
    ideologies = CodesField("Ideologies covered")
    target_groups = CodesField("Target groups")
    settings = CodesField("Settings")
    formats = CodesField("Formats offered")
    languages = CodesField("Working languages")
    countries = CodesField("Countries of experience")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = term_choices(TermKind.COUNTRY)
        for name, kind in PROFILE_TERM_FIELDS.items():
            self[name].choices = term_choices(kind)

    def term_fields(self) -> list[CodesField]:
        return [self[name] for name in PROFILE_TERM_FIELDS]
