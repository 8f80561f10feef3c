"""The request form: every field with help text; choices come from the taxonomy table."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, MonthField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from assist.directory.queries import term_choices
from assist.forms import CleanStringField, CleanTextAreaField, CodesField
from assist.requests.services import MAX_LENGTHS, REQUEST_TERM_FIELDS, RequestData

_NO_PEOPLE = " Describe the situation and structures, never individual people or cases."


class RequestForm(FlaskForm):
    title = CleanStringField(
        "Title",
        validators=[
            DataRequired("Give the request a short title."),
            Length(max=MAX_LENGTHS["title"], message="Keep the title under %(max)d characters."),
        ],
        description="A short name Efus and the experts will recognise, "
        "e.g. “Multi-agency release preparation for young adults”.",
    )
    context = CleanTextAreaField(
        "Local context",
        validators=[
            Length(max=MAX_LENGTHS["context"], message="Shorten this to %(max)d characters.")
        ],
        description="The radicalisation-related situation your authority faces, in your own words: "
        "local set-up, legal competences, partners, what has changed." + _NO_PEOPLE,
    )
    needs = CleanTextAreaField(
        "Needs",
        validators=[
            Length(max=MAX_LENGTHS["needs"], message="Shorten this to %(max)d characters.")
        ],
        description="What assistance you are looking for, what it should produce "
        "(e.g. a protocol, a trained team) and why now.",
    )
    existing_activities = CleanTextAreaField(
        "Activities already in place",
        validators=[
            Length(
                max=MAX_LENGTHS["existing_activities"],
                message="Shorten this to %(max)d characters.",
            )
        ],
        description="Programmes, case conferences, trainings or plans that already run, "
        "so the expert builds on them.",
    )
    themes = CodesField("Themes", description="The approaches and reintegration domains concerned.")
    ideologies = CodesField("Ideologies", description="Leave empty if not specific.")
    target_groups = CodesField("Target groups", description="Who the local work is about.")
    settings = CodesField("Settings", description="The phases of the justice process concerned.")
    formats = CodesField(
        "Preferred formats", description="How you would like the assistance delivered."
    )
    agencies = CodesField(
        "Partner agencies involved", description="Agencies that take part locally."
    )
    languages = CodesField(
        "Working languages", description="Languages the activities can be held in."
    )
    period_start = MonthField(
        "Desired period: from",
        validators=[Optional()],
        description="The month you would like the assistance to start (optional).",
    )
    period_end = MonthField(
        "Desired period: until",
        validators=[Optional()],
        description="The month by which it should be done (optional).",
    )
    expected_participants = IntegerField(
        "Expected participants",
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message="Give a whole number between 1 and 10000."),
        ],
        description="Roughly how many local professionals would take part (optional).",
    )
    version = HiddenField()
    save = SubmitField("Save draft")
    save_and_submit = SubmitField("Save and submit to Efus")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in REQUEST_TERM_FIELDS.items():
            self[name].choices = term_choices(kind)

    def to_data(self) -> RequestData:
        return RequestData(
            title=self.title.data or "",
            context=self.context.data or "",
            needs=self.needs.data or "",
            existing_activities=self.existing_activities.data or "",
            period_start=self.period_start.data,
            period_end=self.period_end.data,
            expected_participants=self.expected_participants.data,
            terms={name: list(getattr(self, name).data or []) for name in REQUEST_TERM_FIELDS},
        )

    def term_fields(self) -> list[CodesField]:
        return [getattr(self, name) for name in REQUEST_TERM_FIELDS]
