"""Forms for proposing a match, acting on an engagement, and recording a conflict of interest."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from assist.directory.queries import all_authorities, all_organisations
from assist.forms import CleanTextAreaField


class ProposeForm(FlaskForm):
    organisation_id = IntegerField(validators=[DataRequired(_l("Choose an organisation."))])
    request_version = HiddenField()
    comment = CleanTextAreaField(
        _l("Note to the expert organisation"),
        validators=[Length(max=2000)],
        description=_l("What Efus expects from them (optional). No names or case details."),
    )
    reason = CleanTextAreaField(
        _l("Why this organisation rather than a higher-ranked one"),
        validators=[Length(max=2000)],
        description=_l(
            "Required when you choose a candidate below the top one; kept with the "
            "decision so that the matching can learn from it."
        ),
    )


class ConflictForm(FlaskForm):
    organisation_id = SelectField(_l("Expert organisation"), coerce=int)
    authority_id = SelectField(_l("Local authority"), coerce=int)
    reason = CleanTextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why; it is kept in the history.")), Length(max=500)],
        description=_l("E.g. “already contracted by the city for another project”."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = [SelectChoice(o.id, o.name) for o in all_organisations()]
        self.authority_id.choices = [SelectChoice(a.id, a.name) for a in all_authorities()]
