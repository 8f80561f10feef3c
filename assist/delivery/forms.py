"""Forms for planning and recording activities, rating an engagement and the follow-up."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
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


class PlanForm(FlaskForm):
    format = SelectField(_l("Format"), description=_l("How the activity is delivered."))
    topic = CleanStringField(
        _l("Topic"),
        validators=[DataRequired(_l("Give the activity a topic.")), Length(max=200)],
        description=_l("E.g. “Train-the-trainer on release preparation”."),
    )
    planned_start = DateField(_l("Planned date (or first day)"), validators=[Optional()])
    planned_end = DateField(_l("Last day (for several days)"), validators=[Optional()])
    place = CleanStringField(
        _l("Place"), validators=[Length(max=200)], description=_l("City and venue, unless remote.")
    )
    is_remote = BooleanField(_l("Remote (online)"))
    intended_audience = CleanStringField(
        _l("Intended audience"),
        validators=[Length(max=300)],
        description=_l(
            "Which professionals should take part, and roughly how many. "
            "Counts and roles only: never names of participants."
        ),
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
        _l("Date delivered"), validators=[DataRequired(_l("Give the date it took place."))]
    )
    duration_hours = FloatField(
        _l("Duration (hours)"),
        validators=[
            DataRequired(_l("Give the duration in hours.")),
            NumberRange(min=0.25, max=200, message=_l("Between 0.25 and 200 hours.")),
        ],
    )
    summary = CleanTextAreaField(
        _l("Summary"),
        validators=[Length(max=5000)],
        description=_l(
            "What was done: agenda, methods, materials. "
            "Counts and roles only: never names of participants."
        ),
    )
    outcomes = CleanTextAreaField(
        _l("Outcomes"),
        validators=[Length(max=5000)],
        description=_l("What was produced or decided (a protocol, a trained team, an agreement)."),
    )
    follow_up = CleanTextAreaField(
        _l("Follow-up recommendations"),
        validators=[Length(max=5000)],
        description=_l("Next steps, who owns them, by when."),
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
            t.display_label,
            validators=[Optional(), NumberRange(min=0, max=100000, message=_l("A whole number."))],
        )
        for t in active_terms(TermKind.PARTICIPANT_GROUP)
    }
    form_class = type("RecordForm", (_RecordForm,), fields)
    return form_class(*args, **kwargs)


class RatingForm(FlaskForm):
    rating = RadioField(
        _l("Your rating of the engagement"),
        choices=[
            SelectChoice(str(n), label)
            for n, label in (
                (5, _l("5 – excellent")),
                (4, _l("4 – good")),
                (3, _l("3 – fair")),
                (2, _l("2 – poor")),
                (1, _l("1 – very poor")),
            )
        ],
        validators=[DataRequired(_l("Choose a rating."))],
    )
    comment = CleanTextAreaField(
        _l("Feedback"),
        validators=[Length(max=5000)],
        description=_l("What worked, what to improve; it helps Efus choose experts in future."),
    )


class FollowUpForm(FlaskForm):
    uses = CodesField(_l("Are the results in use?"), description=_l("Tick all that apply."))
    comment = CleanTextAreaField(_l("Anything to add"), validators=[Length(max=2000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uses.choices = [SelectChoice(code, label) for code, label in FOLLOW_UP_USES.items()]
