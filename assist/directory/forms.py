"""Admin forms for local authorities and expert organisation profiles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length, NumberRange

from assist.directory.models import GovernmentLevel, TermKind
from assist.directory.queries import term_choices
from assist.directory.services import PROFILE_TERM_FIELDS
from assist.forms import CleanStringField, CleanTextAreaField, CodesField


class AuthorityForm(FlaskForm):
    name = CleanStringField(
        _l("Name"), validators=[DataRequired(_l("Enter the authority's name.")), Length(max=200)]
    )
    country = SelectField(_l("Country"))
    level = SelectField(_l("Level of government"))
    description = CleanTextAreaField(
        _l("Description"),
        validators=[Length(max=4000)],
        description=_l("Local set-up and competences, in a few sentences (no individuals)."),
    )
    is_active = BooleanField(_l("Active (its officials can create requests)"), default=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = term_choices(TermKind.COUNTRY)
        # Set per request: the labels are in the reader's language.
        self.level.choices = [SelectChoice(level.value, level.label) for level in GovernmentLevel]


class OrganisationForm(FlaskForm):
    name = CleanStringField(_l("Name"), validators=[Length(max=200)])
    country = SelectField(_l("Based in"))
    description = CleanTextAreaField(
        _l("Profile"),
        validators=[Length(max=8000)],
        description=_l("Methods, experience and past work, as the matching will read it."),
    )
    capacity = IntegerField(
        _l("Capacity"),
        default=2,
        validators=[NumberRange(min=0, max=100, message=_l("Give a number between 0 and 100."))],
        description=_l("How many engagements the organisation can run at the same time."),
    )
    is_active = BooleanField(_l("Active (can be proposed for requests)"), default=True)
    themes = CodesField(_l("Themes"))
    ideologies = CodesField(_l("Ideologies covered"))
    target_groups = CodesField(_l("Target groups"))
    # NOTE: places of intervention (prison, probation, community...), not preferences.
    settings = CodesField(_l("Settings"))
    formats = CodesField(_l("Formats offered"))
    languages = CodesField(_l("Working languages"))
    countries = CodesField(_l("Countries of experience"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = term_choices(TermKind.COUNTRY)
        for name, kind in PROFILE_TERM_FIELDS.items():
            self[name].choices = term_choices(kind)

    def term_fields(self) -> list[CodesField]:
        return [self[name] for name in PROFILE_TERM_FIELDS]
