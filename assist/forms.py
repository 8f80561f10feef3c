"""Field types shared by every form: clean text at the edge, multi-choice from the taxonomy."""

from __future__ import annotations

import re
from typing import Any

from flask import flash
from flask_babel import gettext as _
from wtforms import SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import ValidationError

from assist.errors import ValidationFailed

# NUL and other control characters: PostgreSQL refuses NUL, and none belongs in prose.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROL.sub("", value.replace("\r\n", "\n")).strip()
    return value


class CleanStringField(StringField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["filters"] = (clean_text, *kwargs.get("filters", ()))
        super().__init__(*args, **kwargs)


class CleanTextAreaField(TextAreaField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["filters"] = (clean_text, *kwargs.get("filters", ()))
        super().__init__(*args, **kwargs)


class CodesField(SelectMultipleField):
    """Checkboxes over taxonomy codes; the choices are set per request from the database."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        known = {str(c.value) for c in self.choices or []}
        unknown = [v for v in self.data or [] if v not in known]
        if unknown:
            raise ValidationError(
                _(
                    "Not an option here: %(values)s. Tick boxes from the list only.",
                    values=", ".join(unknown),
                )
            )


def attach_errors(form: Any, exc: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields; the rest as a banner."""
    for name, messages in exc.errors.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            flash(" ".join(messages), "danger")
    flash(exc.message, "danger")
