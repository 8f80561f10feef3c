"""The reporting period form (GET, no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

NOT_A_DATE = "Not a date: give it as YYYY-MM-DD (for example 2026-01-31)."


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(
        "From",
        validators=[Optional()],
        invalid_value_message=NOT_A_DATE,
        description="First day included. Empty: twelve months before the end.",
    )
    end = DateField(
        "To",
        validators=[Optional()],
        invalid_value_message=NOT_A_DATE,
        description="Last day included. Empty: today.",
    )
