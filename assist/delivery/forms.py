"""Forms for planning and recording activities, rating an engagement and the follow-up."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from assist.delivery.models import FOLLOW_UP_USES
from assist.delivery.services import PlanData, RecordData
from assist.directory.models import TermKind
from assist.directory.queries import active_terms, term_choices
from assist.forms import CleanStringField, CleanTextAreaField, CodesField

_NO_NAMES = " Counts and roles only: never names of participants."


class PlanForm(FlaskForm):
    format = SelectField("Format", description="How the activity is delivered.")
    topic = CleanStringField(
        "Topic",
        validators=[DataRequired("Give the activity a topic."), Length(max=200)],
        description="E.g. “Train-the-trainer on release preparation”.",
    )
    planned_start = DateField("Planned date (or first day)", validators=[Optional()])
    planned_end = DateField("Last day (for several days)", validators=[Optional()])
    place = CleanStringField(
        "Place", validators=[Length(max=200)], description="City and venue, unless remote."
    )
    is_remote = BooleanField("Remote (online)")
    intended_audience = CleanStringField(
        "Intended audience",
        validators=[Length(max=300)],
        description="Which professionals should take part, and roughly how many." + _NO_NAMES,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.format.choices = term_choices(TermKind.FORMAT)

    def to_data(self) -> PlanData:
        return PlanData(
            format=self.format.data or "",
            topic=self.topic.data or "",
            planned_start=self.planned_start.data,
            planned_end=self.planned_end.data,
            place=self.place.data or "",
            is_remote=bool(self.is_remote.data),
            intended_audience=self.intended_audience.data or "",
        )


class _RecordForm(FlaskForm):
    delivered_on = DateField(
        "Date delivered", validators=[DataRequired("Give the date it took place.")]
    )
    duration_hours = FloatField(
        "Duration (hours)",
        validators=[
            DataRequired("Give the duration in hours."),
            NumberRange(min=0.25, max=200, message="Between 0.25 and 200 hours."),
        ],
    )
    summary = CleanTextAreaField(
        "Summary",
        validators=[Length(max=5000)],
        description="What was done: agenda, methods, materials." + _NO_NAMES,
    )
    outcomes = CleanTextAreaField(
        "Outcomes",
        validators=[Length(max=5000)],
        description="What was produced or decided (a protocol, a trained team, an agreement).",
    )
    follow_up = CleanTextAreaField(
        "Follow-up recommendations",
        validators=[Length(max=5000)],
        description="Next steps, who owns them, by when.",
    )

    def participant_fields(self) -> list[IntegerField]:
        return [f for name, f in self._fields.items() if name.startswith("p_")]

    def to_data(self) -> RecordData:
        return RecordData(
            delivered_on=self.delivered_on.data,
            duration_hours=float(self.duration_hours.data or 0),
            participants={f.name[2:]: int(f.data) for f in self.participant_fields() if f.data},
            summary=self.summary.data or "",
            outcomes=self.outcomes.data or "",
            follow_up=self.follow_up.data or "",
        )


def record_form(*args: Any, **kwargs: Any) -> _RecordForm:
    """The record form with one count field per professional group of the taxonomy."""
    fields = {
        f"p_{t.code}": IntegerField(
            t.label,
            validators=[Optional(), NumberRange(min=0, max=100000, message="A whole number.")],
        )
        for t in active_terms(TermKind.PARTICIPANT_GROUP)
    }
    form_class = type("RecordForm", (_RecordForm,), fields)
    return form_class(*args, **kwargs)


class RatingForm(FlaskForm):
    rating = RadioField(
        "Your rating of the engagement",
        choices=[
            SelectChoice(str(n), label)
            for n, label in (
                (5, "5 – excellent"),
                (4, "4 – good"),
                (3, "3 – fair"),
                (2, "2 – poor"),
                (1, "1 – very poor"),
            )
        ],
        validators=[DataRequired("Choose a rating.")],
    )
    comment = CleanTextAreaField(
        "Feedback",
        validators=[Length(max=5000)],
        description="What worked, what to improve; it helps Efus choose experts in future.",
    )


class FollowUpForm(FlaskForm):
    uses = CodesField("Are the results in use?", description="Tick all that apply.")
    comment = CleanTextAreaField("Anything to add", validators=[Length(max=2000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uses.choices = [SelectChoice(code, label) for code, label in FOLLOW_UP_USES.items()]
