"""The reporting period form (GET, no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

NOT_A_DATE = _l("Not a date: give it as YYYY-MM-DD (for example 2026-01-31).")


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(
        lazy_pgettext("first day of the reporting period", "From"),
        validators=[Optional()],
        invalid_value_message=NOT_A_DATE,
        description=_l("First day included. Empty: twelve months before the end."),
    )
    end = DateField(
        lazy_pgettext("last day of the reporting period", "To"),
        validators=[Optional()],
        invalid_value_message=NOT_A_DATE,
        description=_l("Last day included. Empty: today."),
    )
