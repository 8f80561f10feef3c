"""The request form: every field with help text; choices come from the taxonomy table."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, MonthField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from assist.directory.queries import term_choices
from assist.forms import CleanStringField, CleanTextAreaField, CodesField
from assist.i18n import DEFAULT_LANGUAGE, TEXT_LANGUAGES
from assist.requests.services import MAX_LENGTHS, REQUEST_TERM_FIELDS, RequestData

_SHORTEN = _l("Shorten this to %(max)d characters.")


def interface_text_language() -> str:
    """The reader's interface language, as a default for the language of what they write."""
    code = str(get_locale() or DEFAULT_LANGUAGE)
    return code if code in TEXT_LANGUAGES else DEFAULT_LANGUAGE


class RequestForm(FlaskForm):
    title = CleanStringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Give the request a short title.")),
            Length(
                max=MAX_LENGTHS["title"], message=_l("Keep the title under %(max)d characters.")
            ),
        ],
        description=_l(
            "A short name Efus and the experts will recognise, "
            "e.g. “Multi-agency release preparation for young adults”."
        ),
    )
    context = CleanTextAreaField(
        _l("Local context"),
        validators=[Length(max=MAX_LENGTHS["context"], message=_SHORTEN)],
        description=_l(
            "The radicalisation-related situation your authority faces, in your own words: "
            "local set-up, legal competences, partners, what has changed. Describe the "
            "situation and structures, never individual people or cases."
        ),
    )
    needs = CleanTextAreaField(
        _l("Needs"),
        validators=[Length(max=MAX_LENGTHS["needs"], message=_SHORTEN)],
        description=_l(
            "What assistance you are looking for, what it should produce "
            "(e.g. a protocol, a trained team) and why now."
        ),
    )
    existing_activities = CleanTextAreaField(
        _l("Activities already in place"),
        validators=[Length(max=MAX_LENGTHS["existing_activities"], message=_SHORTEN)],
        description=_l(
            "Programmes, case conferences, trainings or plans that already run, "
            "so the expert builds on them."
        ),
    )
    language = SelectField(
        _l("Language of the text"),
        choices=[SelectChoice(code, label) for code, label in TEXT_LANGUAGES.items()],
        default=interface_text_language,
        validators=[DataRequired(_l("Choose the language your text is written in."))],
        description=_l(
            "The language your title, context and needs are written in. You may write in any "
            "of the languages listed; Efus and the matching of expert organisations take it "
            "into account."
        ),
    )
    #: What detection said when the author was asked to confirm the language: saving again
    #: with this same detection accepts the language chosen.
    confirmed_detection = HiddenField()
    themes = CodesField(
        _l("Themes"), description=_l("The approaches and reintegration domains concerned.")
    )
    ideologies = CodesField(_l("Ideologies"), description=_l("Leave empty if not specific."))
    target_groups = CodesField(_l("Target groups"), description=_l("Who the local work is about."))
    settings = CodesField(
        _l("Settings"), description=_l("The phases of the justice process concerned.")
    )
    formats = CodesField(
        _l("Preferred formats"), description=_l("How you would like the assistance delivered.")
    )
    agencies = CodesField(
        _l("Partner agencies involved"), description=_l("Agencies that take part locally.")
    )
    languages = CodesField(
        _l("Working languages"), description=_l("Languages the activities can be held in.")
    )
    period_start = MonthField(
        _l("Desired period: from"),
        validators=[Optional()],
        description=_l("The month you would like the assistance to start (optional)."),
    )
    period_end = MonthField(
        _l("Desired period: until"),
        validators=[Optional()],
        description=_l("The month by which it should be done (optional)."),
    )
    expected_participants = IntegerField(
        _l("Expected participants"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Give a whole number between 1 and 10000.")),
        ],
        description=_l("Roughly how many local professionals would take part (optional)."),
    )
    version = HiddenField()
    save = SubmitField(_l("Save draft"))
    save_and_submit = SubmitField(_l("Save and submit to Efus"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in REQUEST_TERM_FIELDS.items():
            self[name].choices = term_choices(kind)
        if self.language.data not in TEXT_LANGUAGES and not self.language.raw_data:
            # A request saved before languages were recorded (or a post without the field):
            # start from what detection said, else the reader's interface language.
            stored = getattr(kwargs.get("obj"), "detected_language", None)
            self.language.data = stored if stored in TEXT_LANGUAGES else interface_text_language()

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
            language=self.language.data,
            confirmed_detection=self.confirmed_detection.data or None,
        )

    def term_fields(self) -> list[CodesField]:
        return [getattr(self, name) for name in REQUEST_TERM_FIELDS]
