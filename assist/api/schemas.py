"""The API's input shapes as data: strict parsing of JSON bodies and query strings, and the
JSON Schemas the OpenAPI document shows for them (one source, so they cannot drift apart)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from flask_babel import gettext as _
from flask_babel import ngettext

from assist.api.queries import MAX_ID
from assist.delivery.services import LONG_TEXT_LIMIT, TEXT_LIMITS
from assist.errors import ValidationFailed
from assist.forms import clean_text
from assist.i18n import TEXT_LANGUAGES
from assist.requests.services import MAX_LENGTHS, REQUEST_TERM_FIELDS
from assist.workflow import ACTIVITIES, ENGAGEMENTS, REQUESTS, RequestStatus

Kind = Literal["text", "code", "integer", "number", "boolean", "date", "codes", "counts", "choice"]

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_CODE = re.compile(CODE_PATTERN)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_CODES = 50
MAX_COUNT = 100000
COMMENT_MAX_LENGTH = 2000


class BadQuery(Exception):
    """A query-string parameter of the wrong type or out of range (answered with 400)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(_("Some query parameters are not valid."))
        self.errors = errors


@dataclass(frozen=True)
class Field:
    kind: Kind
    description: str
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """This field as a JSON Schema (OpenAPI 3.1 dialect)."""
        s: dict[str, Any]
        if self.kind == "text":
            s = {"type": "string", "maxLength": self.max_length}
        elif self.kind == "code":
            s = {"type": "string", "pattern": CODE_PATTERN}
        elif self.kind == "choice":
            s = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "integer":
            s = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        elif self.kind == "number":
            s = {"type": "number", "minimum": self.minimum, "maximum": self.maximum}
        elif self.kind == "boolean":
            s = {"type": "boolean"}
        elif self.kind == "counts":
            s = {
                "type": "object",
                "propertyNames": {"pattern": CODE_PATTERN},
                "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
                "maxProperties": MAX_CODES,
            }
        elif self.kind == "date":
            s = {"type": "string", "format": "date"}
        else:
            s = {
                "type": "array",
                "items": {"type": "string", "pattern": CODE_PATTERN},
                "maxItems": MAX_CODES,
            }
        s = {k: v for k, v in s.items() if v is not None and v is not False}
        if self.nullable:
            s["type"] = [s["type"], "null"]
        s["description"] = self.description
        return s

    def parse(self, value: Any) -> tuple[Any, str | None]:
        """The cleaned value, or an error message saying what to send instead."""
        if value is None:
            return (None, None) if self.nullable else (None, _("Must not be null."))
        if self.kind in {"text", "code", "choice", "date"}:
            if not isinstance(value, str):
                return None, _("Must be a string.")
            if _SURROGATE.search(value):
                return None, _("Contains an invalid character (an unpaired surrogate); remove it.")
        if self.kind == "text":
            if self.max_length is not None and len(value) > self.max_length:
                return None, _(
                    "Too long: %(length)d characters, at most %(limit)d. Shorten it.",
                    length=len(value),
                    limit=self.max_length,
                )
            return clean_text(value), None
        if self.kind == "code":
            if not _CODE.fullmatch(value):
                return None, _("Must be a code: 1 to 64 letters, digits, '_' or '-'.")
            return value, None
        if self.kind == "choice":
            if value not in self.choices:
                return None, _("Must be one of: %(choices)s.", choices=", ".join(self.choices))
            return value, None
        if self.kind == "date":
            try:
                if not _DATE.fullmatch(value):
                    raise ValueError
                return date.fromisoformat(value), None
            except ValueError:
                return None, _("Must be a date written YYYY-MM-DD.")
        if self.kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return None, _("Must be a whole number.")
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                return None, self._range_message()
            return value, None
        if self.kind == "number":
            if not isinstance(value, int | float) or isinstance(value, bool):
                return None, _("Must be a number.")
            if (isinstance(value, float) and not math.isfinite(value)) or (
                (self.minimum is not None and value < self.minimum)
                or (self.maximum is not None and value > self.maximum)
            ):
                return None, self._range_message()
            return float(value), None
        if self.kind == "boolean":
            if not isinstance(value, bool):
                return None, _("Must be true or false.")
            return value, None
        if self.kind == "counts":
            if not isinstance(value, dict):
                return None, _("Must be an object of code: whole number.")
            if len(value) > MAX_CODES:
                return None, ngettext("At most %(num)d code.", "At most %(num)d codes.", MAX_CODES)
            if not all(isinstance(k, str) and _CODE.fullmatch(k) for k in value):
                return None, _("Every key must be a code: 1 to 64 letters, digits, '_' or '-'.")
            if not all(
                isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_COUNT
                for n in value.values()
            ):
                return None, _(
                    "Every count must be a whole number from 0 to %(max)d.", max=MAX_COUNT
                )
            return dict(value), None
        # codes
        if not isinstance(value, list):
            return None, _("Must be a list of codes.")
        if len(value) > MAX_CODES:
            return None, ngettext("At most %(num)d code.", "At most %(num)d codes.", MAX_CODES)
        bad = [v for v in value if not isinstance(v, str) or not _CODE.fullmatch(v)]
        if bad:
            return None, _("Every item must be a code: 1 to 64 letters, digits, '_' or '-'.")
        return list(value), None

    def _range_message(self) -> str:
        # Numbers as the API writes them (JSON), not formatted for a locale.
        return _("Must be between %(min)s and %(max)s.", min=self.minimum, max=self.maximum)


Body = dict[str, Field]


def parse_body(spec: Body, body: dict[str, Any]) -> dict[str, Any]:
    """The fields present in ``body``, cleaned; ValidationFailed (422) names each problem."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(body) - set(spec))
    for name in unknown:
        errors[name[:100]] = [_("Unknown field. Allowed: %(names)s.", names=", ".join(spec))]
    values: dict[str, Any] = {}
    for name, f in spec.items():
        if name not in body:
            if f.required:
                errors[name] = [_("This field is required.")]
            continue
        value, error = f.parse(body[name])
        if error:
            errors[name] = [error]
        else:
            values[name] = value
    if errors:
        raise ValidationFailed(errors, _("The request body does not fit the schema."))
    return values


def object_schema(spec: Body, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": {name: f.schema() for name, f in spec.items()},
        "additionalProperties": False,
    }
    required = [name for name, f in spec.items() if f.required]
    if required:
        schema["required"] = required
    return schema


_MAX_ID_FIELD = {"minimum": 1, "maximum": MAX_ID}

REQUEST_CONTENT: Body = {
    "title": Field(
        "text",
        "A short name Efus and the experts will recognise.",
        max_length=MAX_LENGTHS["title"],
    ),
    "context": Field(
        "text",
        "The local situation and structures, never individual people or cases.",
        max_length=MAX_LENGTHS["context"],
    ),
    "needs": Field(
        "text", "What assistance is wanted and why now.", max_length=MAX_LENGTHS["needs"]
    ),
    "existing_activities": Field(
        "text",
        "Programmes and plans that already run.",
        max_length=MAX_LENGTHS["existing_activities"],
    ),
    "period_start": Field("date", "Desired start of the assistance.", nullable=True),
    "period_end": Field("date", "Desired end of the assistance.", nullable=True),
    "expected_participants": Field(
        "integer", "How many people take part.", nullable=True, minimum=1, maximum=10000
    ),
    **{
        name: Field("codes", f"Taxonomy codes ({kind.label.lower()}).")
        for name, kind in REQUEST_TERM_FIELDS.items()
    },
    "language": Field(
        "choice",
        "The language the text (title, context, needs, activities) is written in. Optional: "
        "when not sent, a new request gets the detected language (422 on `language` when the "
        "text is too short or mixed to tell), and a PATCH keeps the stored one. When sent it "
        "is stored as stated, even if detection says otherwise; `detected_language` in the "
        "answer shows what detection said.",
        choices=tuple(TEXT_LANGUAGES),
    ),
}

REQUEST_CREATE: Body = {
    **REQUEST_CONTENT,
    "title": Field(
        "text",
        REQUEST_CONTENT["title"].description,
        required=True,
        max_length=MAX_LENGTHS["title"],
    ),
}
VERSION = Field(
    "integer",
    "The version you read; a different current version answers 409 and changes nothing.",
    required=True,
    **_MAX_ID_FIELD,
)
REQUEST_PATCH: Body = {**REQUEST_CONTENT, "version": VERSION}


def _transition_body(actions: list[str]) -> Body:
    return {
        "action": Field("choice", "The workflow action.", required=True, choices=tuple(actions)),
        "comment": Field("text", "Kept in the history; required by some actions.", max_length=2000),
        "version": VERSION,
    }


REQUEST_TRANSITION = _transition_body(REQUESTS.actions())
ENGAGEMENT_TRANSITION = _transition_body(ENGAGEMENTS.actions())
PROPOSAL: Body = {
    "expert_organisation_id": Field(
        "integer", "The organisation proposed (from the matches).", required=True, **_MAX_ID_FIELD
    ),
    "comment": Field("text", "A note to the expert organisation.", max_length=2000),
    "reason": Field(
        "text", "Why this organisation; required when it is not the top match.", max_length=2000
    ),
    "version": Field("integer", "The request's version you read (optional).", **_MAX_ID_FIELD),
}

FEEDBACK: Body = {
    "rating": Field(
        "integer", "From 1 (very poor) to 5 (excellent).", required=True, minimum=1, maximum=5
    ),
    "comment": Field("text", "What worked, what to improve.", max_length=LONG_TEXT_LIMIT),
}

ACTIVITY_PLAN: Body = {
    "format": Field("code", "The activity's format (a taxonomy code).", required=True),
    "topic": Field("text", "What the activity is about.", required=True, max_length=200),
    "planned_start": Field("date", "Planned first day.", nullable=True),
    "planned_end": Field("date", "Planned last day.", nullable=True),
    "place": Field(
        "text", "Where it takes place (required unless remote).", max_length=TEXT_LIMITS["place"]
    ),
    "is_remote": Field("boolean", "Held online."),
    "intended_audience": Field(
        "text",
        "Who it is for, as professional groups (never named people).",
        max_length=TEXT_LIMITS["intended_audience"],
    ),
}

#: Fields sent only with action "record": what was delivered.
ACTIVITY_RECORD: Body = {
    "delivered_on": Field("date", "The day it took place (not in the future)."),
    "duration_hours": Field("number", "Duration in hours, more than 0.", minimum=0, maximum=200),
    "participants": Field(
        "counts", "Participants per professional group code: counts only, never names."
    ),
    "summary": Field(
        "text", "What was done (no names of participants).", max_length=LONG_TEXT_LIMIT
    ),
    "outcomes": Field("text", "What came out of it.", max_length=LONG_TEXT_LIMIT),
    "follow_up": Field("text", "Agreed next steps.", max_length=LONG_TEXT_LIMIT),
    "format": Field("code", "The format actually delivered, if it changed."),
    "place": Field("text", "The place, if it changed.", max_length=TEXT_LIMITS["place"]),
    "is_remote": Field("boolean", "Whether it was held online, if that changed."),
}
ACTIVITY_TRANSITION: Body = {**_transition_body(ACTIVITIES.actions()), **ACTIVITY_RECORD}

#: Query-string parameters, parsed from strings.
QUERY: dict[str, Field] = {
    "page": Field("integer", "Page number, from 1.", minimum=1, maximum=100000),
    "per_page": Field("integer", "Items per page (default 20).", minimum=1, maximum=100),
    "status": Field(
        "choice", "Only requests in this status.", choices=tuple(s.value for s in RequestStatus)
    ),
    "theme": Field("code", "Only requests tagged with this theme code."),
    "k": Field("integer", "How many non-excluded matches to return.", minimum=1, maximum=100),
    "start": Field("date", "First day of the period (YYYY-MM-DD), inclusive."),
    "end": Field("date", "Last day of the period (YYYY-MM-DD), inclusive."),
}


def parse_query(args: Any, names: list[str]) -> dict[str, Any]:
    """Typed query parameters; BadQuery (400) names each one that does not parse."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in names:
        raw = args.get(name)
        if raw is None or raw == "":
            continue
        f = QUERY[name]
        value: Any = raw
        if f.kind == "integer":
            value = int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else raw
        parsed, error = f.parse(value)
        if error:
            errors[name] = [error]
        else:
            values[name] = parsed
    if errors:
        raise BadQuery(errors)
    return values
