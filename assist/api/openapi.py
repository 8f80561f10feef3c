"""The OpenAPI 3.1 document of /api/v1, kept as data; request bodies come from api.schemas."""

from __future__ import annotations

import copy
from typing import Any

from assist.api import schemas
from assist.api.queries import MAX_ID
from assist.i18n import TEXT_LANGUAGES
from assist.requests.services import REQUEST_TERM_FIELDS
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus

DESCRIPTION = """\
The JSON API of PREPARE Assist. It calls the same services, queries and permission rules as the
pages: whatever a page refuses, the API refuses too.

**Authentication.** Every call except this document needs a personal token, created on the
account page (`/account`) or with `flask --app wsgi create-token EMAIL`:
`Authorization: Bearer pa_…`. Session cookies are ignored, so a browser session never
authenticates an API call. A missing, unknown, malformed or revoked token, or an inactive account,
answers 401 with a `WWW-Authenticate: Bearer` header.

**Tenancy.** Objects of another local authority or expert organisation answer 404, exactly as if
they did not exist.

**Concurrency.** Every request, engagement and activity carries a `version`. Writes send the
version they read; when the object changed meanwhile the answer is 409 and nothing is changed.

**Language of a request.** A request may be written in any of these languages: English (`en`),
French (`fr`), Spanish (`es`), Dutch (`nl`), German (`de`), Catalan (`ca`), Swedish (`sv`). Its
`language` is optional on `POST` and `PATCH`. When it is not sent, a new request gets the language
detected from its title, context, needs and activities; when the text is too short or mixed to
tell, the answer is 422 with a message on `language` asking you to state it. A `PATCH` without
`language` keeps the stored one. When `language` is sent it is stored as stated, even if detection
says otherwise: an API client states it deliberately (the pages, in contrast, ask the author to
confirm a language that differs from the detected one). Every answer carries `language` and
`detected_language` (what detection said at the last save; null when unclear).

**Workflow.** `allowed_actions` lists what the caller may do now; transitions outside the
workflow table answer 409 (`invalid_transition`).

**Activities** of an engagement are planned by either side once the expert organisation has
accepted (`POST /api/v1/engagements/{id}/activities`), recorded as delivered by the expert
organisation and confirmed or disputed by the city (`POST /api/v1/activities/{id}/transitions`
with `action` `record` and the delivery details, or `confirm`, `dispute` with a `comment`,
`cancel`). Participants are counts per professional group, never names. Attachments are listed
with their metadata; they are downloaded from the engagement page, not through the API.

**Expert directory** (`GET /api/v1/experts`): Efus staff and administrators see every
organisation (active or not) with its full profile, capacity and current load; an expert sees
only their own organisation, with the same detail; a city official sees the active organisations'
public profile only (name, country, description, themes, formats, working languages).

**Errors** are always `{"error": {"code", "message", "fields"}}`: 400 a body that is not JSON or
not an object, or a query parameter of the wrong type; 401; 403 the role may not do this; 404;
405; 409 a version conflict or a move the workflow does not allow; 413 body too large; 415 not
`application/json`; 422 a field is unknown, of the wrong type, too long, or breaks a rule (for
example text that looks like personal data): `fields` says which and how to fix it; 429 too many
calls, see `Retry-After`.
"""

ERROR_STATUSES = {
    "400": "The body is not a JSON object, or a query parameter does not parse.",
    "401": "No valid bearer token.",
    "403": "Your role may not do this.",
    "404": "No such object, or it is not visible to your account.",
    "405": "This path does not accept that method.",
    "409": "Changed meanwhile (version), or not possible in the current state.",
    "413": "The body is too large.",
    "415": "The body is not application/json.",
    "422": "A field is unknown, of the wrong type, or breaks a rule; see `fields`.",
    "429": "Too many calls; retry after `Retry-After` seconds.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
DATETIME = {"type": "string", "format": "date-time"}
CODES = {"type": "array", "items": STRING}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


NAMED = _object({"id": INTEGER, "name": STRING})
ACTION = _object(
    {
        "action": STRING,
        "label": STRING,
        "needs_comment": {"type": "boolean"},
    }
)

REQUEST = _object(
    {
        "id": INTEGER,
        "title": STRING,
        "context": STRING,
        "needs": STRING,
        "existing_activities": STRING,
        "period_start": {"type": ["string", "null"], "format": "date"},
        "period_end": {"type": ["string", "null"], "format": "date"},
        "expected_participants": _nullable(INTEGER),
        **{name: CODES for name in REQUEST_TERM_FIELDS},
        "language": {
            "type": ["string", "null"],
            "enum": [*TEXT_LANGUAGES, None],
            "description": "The language the text is written in, as stated by its author or "
            "client, or detected when not stated (null only for requests saved before "
            "languages were recorded).",
        },
        "detected_language": {
            "type": ["string", "null"],
            "enum": [*TEXT_LANGUAGES, None],
            "description": "The language detected from the text at the last save; null when the "
            "text was too short or mixed to tell.",
        },
        "status": {"type": "string", "enum": [s.value for s in RequestStatus]},
        "status_label": STRING,
        "authority": NAMED,
        "created_by": _object({"name": STRING}),
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "submitted_at": _nullable(DATETIME),
        "version": INTEGER,
        "can_edit": {"type": "boolean", "description": "Whether PATCH is open to you now."},
        "allowed_actions": {"type": "array", "items": _ref("Action")},
    }
)

ENGAGEMENT = _object(
    {
        "id": INTEGER,
        "request": _object({"id": INTEGER, "title": STRING, "status": STRING, "authority": NAMED}),
        "organisation": NAMED,
        "status": {"type": "string", "enum": [s.value for s in EngagementStatus]},
        "status_label": STRING,
        "comment": {"type": "string", "description": "Efus's note to the expert organisation."},
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "version": INTEGER,
        "allowed_actions": {"type": "array", "items": _ref("Action")},
        "activities_count": {"type": "integer", "description": "Activities in any status."},
        "feedback": {
            **_nullable(
                _object(
                    {
                        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                        "comment": STRING,
                        "created_at": DATETIME,
                    }
                )
            ),
            "description": "The city's rating once the activities are done, else null.",
        },
    }
)

DATE = {"type": "string", "format": "date"}
ATTACHMENT = _object(
    {
        "id": INTEGER,
        "filename": STRING,
        "content_type": STRING,
        "size": {"type": "integer", "description": "Bytes."},
        "sha256": STRING,
        "created_at": DATETIME,
    }
)
ACTIVITY = _object(
    {
        "id": INTEGER,
        "engagement_id": INTEGER,
        "status": {"type": "string", "enum": [s.value for s in ActivityStatus]},
        "status_label": STRING,
        "format": STRING,
        "topic": STRING,
        "planned_start": _nullable(DATE),
        "planned_end": _nullable(DATE),
        "place": STRING,
        "is_remote": {"type": "boolean"},
        "intended_audience": STRING,
        "delivered_on": _nullable(DATE),
        "duration_hours": {"type": ["number", "null"]},
        "participants": {
            "type": "object",
            "additionalProperties": INTEGER,
            "description": "Participant group code -> count (counts only, never names).",
        },
        "participants_total": _nullable(INTEGER),
        "summary": STRING,
        "outcomes": STRING,
        "follow_up": STRING,
        "created_by": _object({"name": STRING}),
        "recorded_by": _nullable(_object({"name": STRING})),
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "recorded_at": _nullable(DATETIME),
        "confirmed_at": _nullable(DATETIME),
        "attachments": {"type": "array", "items": _ref("Attachment")},
        "version": INTEGER,
        "allowed_actions": {"type": "array", "items": _ref("Action")},
    }
)

_FIGURES = {"type": "object", "additionalProperties": True}
REPORT_SUMMARY = {
    **_object(
        {
            "period": _object({"start": DATE, "end": DATE}),
            "requests": _FIGURES,
            "timing": _FIGURES,
            "activities": _FIGURES,
            "participants": _FIGURES,
        }
    ),
    "description": (
        "The same figures as the reports page. Without `start`/`end` the period is the twelve "
        "months up to today (a missing start is twelve months before the end); dates from "
        "2000-01-01 to 2100-12-31, both included. Participants are counts, never names."
    ),
}

MATCH = _object(
    {
        "expert_organisation_id": INTEGER,
        "name": STRING,
        "score": {"type": "number"},
        "reasons": {"type": "array", "items": STRING},
        "contributions": {
            "type": "object",
            "additionalProperties": {"type": "number"},
            "description": "Weighted contribution of each signal; they sum to the score.",
        },
        "excluded_reason": _nullable(STRING),
        "has_common_language": {"type": ["boolean", "null"]},
        "at_capacity": {"type": "boolean"},
    }
)

HISTORY_ENTRY = _object(
    {
        "at": DATETIME,
        "who": _object({"name": STRING, "role": STRING}),
        "action": STRING,
        "from": _nullable(STRING),
        "to": _nullable(STRING),
        "comment": STRING,
        "changed_fields": {
            "type": "array",
            "items": STRING,
            "description": "Names of the fields changed, never their values.",
        },
    }
)

_FULL_ONLY = (
    "ideologies",
    "target_groups",
    "settings",
    "countries",
    "is_active",
    "capacity",
    "active_engagements",
    "updated_at",
)
EXPERT = _object(
    {
        "id": INTEGER,
        "name": STRING,
        "country": STRING,
        "description": STRING,
        "themes": CODES,
        "formats": CODES,
        "languages": CODES,
        "ideologies": CODES,
        "target_groups": CODES,
        "settings": CODES,
        "countries": CODES,
        "is_active": {"type": "boolean"},
        "capacity": INTEGER,
        "active_engagements": INTEGER,
        "updated_at": DATETIME,
    },
    optional=_FULL_ONLY,
)
EXPERT["description"] = (
    "The fields after `languages` are shown to Efus staff, administrators and the "
    "organisation's own experts only."
)

ERROR = _object(
    {
        "error": _object(
            {
                "code": STRING,
                "message": STRING,
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": STRING},
                    "description": "Field name -> what to fix (may be empty).",
                },
            }
        )
    }
)


def _page_of(item: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "page": INTEGER,
            "per_page": INTEGER,
            "total": INTEGER,
            "pages": INTEGER,
        }
    )


def _query(name: str) -> dict[str, Any]:
    f = schemas.QUERY[name]
    schema = f.schema()
    description = schema.pop("description")
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID_SCHEMA}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(
    operation_id: str,
    summary: str,
    ok: tuple[str, str, str],
    errors: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    status, description, schema = ok
    responses: dict[str, Any] = {status: {"description": description, **_json(_ref(schema))}}
    if status == "201":
        responses[status]["headers"] = {
            "Location": {"schema": STRING, "description": "The new object's address."}
        }
    codes = ["401", "405", "429", *errors.split()]
    if body:
        codes += ["400", "413", "415", "422"]
    for code in sorted(set(codes)):
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": parameters or [],
        "responses": responses,
    }
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    return op


PAGING = [_query("page"), _query("per_page")]
REQUEST_ID = _path("request_id")
ENGAGEMENT_ID = _path("engagement_id")
ACTIVITY_ID = _path("activity_id")

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (no token needed)",
            "security": [],
            "responses": {
                "200": {"description": "OpenAPI 3.1", **_json({"type": "object"})},
                "405": {"$ref": "#/components/responses/E405"},
            },
        }
    },
    "/api/v1/requests": {
        "get": _operation(
            "list_requests",
            "Requests you may see, newest change first",
            ("200", "A page of requests", "RequestPage"),
            "400 403",
            parameters=[*PAGING, _query("status"), _query("theme")],
        ),
        "post": _operation(
            "create_request",
            "Create a draft (city officials of an active authority)",
            ("201", "The draft", "Request"),
            "403",
            body="RequestCreate",
        ),
    },
    "/api/v1/requests/{request_id}": {
        "get": _operation(
            "get_request",
            "One request",
            ("200", "The request", "Request"),
            "404",
            parameters=[REQUEST_ID],
        ),
        "patch": _operation(
            "update_request",
            "Change some fields of a draft (or a request Efus sent back); others keep their value",
            ("200", "The request", "Request"),
            "403 404 409",
            parameters=[REQUEST_ID],
            body="RequestPatch",
        ),
    },
    "/api/v1/requests/{request_id}/transitions": {
        "post": _operation(
            "transition_request",
            "Take a workflow action (submit, start_review, start_matching, withdraw, …)",
            ("200", "The request after the action", "Request"),
            "403 404 409",
            parameters=[REQUEST_ID],
            body="RequestTransition",
        ),
    },
    "/api/v1/requests/{request_id}/matches": {
        "get": _operation(
            "request_matches",
            "Expert organisations ranked for this request, with reasons (Efus staff only)",
            ("200", "The best k eligible organisations, then the excluded ones", "MatchList"),
            "400 403 404",
            parameters=[REQUEST_ID, _query("k")],
        ),
    },
    "/api/v1/requests/{request_id}/engagements": {
        "post": _operation(
            "propose_engagement",
            "Propose an expert organisation for a request in matching (Efus staff only)",
            ("201", "The proposed engagement", "Engagement"),
            "403 404 409",
            parameters=[REQUEST_ID],
            body="Proposal",
        ),
    },
    "/api/v1/requests/{request_id}/history": {
        "get": _operation(
            "request_history",
            "The request's audit trail, oldest first",
            ("200", "The history", "History"),
            "404",
            parameters=[REQUEST_ID],
        ),
    },
    "/api/v1/engagements": {
        "get": _operation(
            "list_engagements",
            "Engagements you may see (experts and cities: once Efus approved them)",
            ("200", "A page of engagements", "EngagementPage"),
            "400",
            parameters=PAGING,
        ),
    },
    "/api/v1/engagements/{engagement_id}": {
        "get": _operation(
            "get_engagement",
            "One engagement",
            ("200", "The engagement", "Engagement"),
            "404",
            parameters=[ENGAGEMENT_ID],
        ),
    },
    "/api/v1/engagements/{engagement_id}/transitions": {
        "post": _operation(
            "transition_engagement",
            "Take a workflow action (approve, accept, decline, cancel)",
            ("200", "The engagement after the action", "Engagement"),
            "403 404 409",
            parameters=[ENGAGEMENT_ID],
            body="EngagementTransition",
        ),
    },
    "/api/v1/engagements/{engagement_id}/feedback": {
        "post": _operation(
            "rate_engagement",
            "The city rates the engagement once every activity is confirmed",
            ("201", "The engagement, with its feedback", "Engagement"),
            "403 404 409",
            parameters=[ENGAGEMENT_ID],
            body="Feedback",
        ),
    },
    "/api/v1/engagements/{engagement_id}/history": {
        "get": _operation(
            "engagement_history",
            "The engagement's audit trail, oldest first",
            ("200", "The history", "History"),
            "404",
            parameters=[ENGAGEMENT_ID],
        ),
    },
    "/api/v1/engagements/{engagement_id}/activities": {
        "get": _operation(
            "list_activities",
            "The engagement's activities, oldest first",
            ("200", "The activities", "ActivityList"),
            "404",
            parameters=[ENGAGEMENT_ID],
        ),
        "post": _operation(
            "plan_activity",
            "Plan an activity (the expert organisation or the city, once accepted)",
            ("201", "The planned activity", "Activity"),
            "403 404 409",
            parameters=[ENGAGEMENT_ID],
            body="ActivityPlan",
        ),
    },
    "/api/v1/activities/{activity_id}": {
        "get": _operation(
            "get_activity",
            "One activity",
            ("200", "The activity", "Activity"),
            "404",
            parameters=[ACTIVITY_ID],
        ),
    },
    "/api/v1/activities/{activity_id}/transitions": {
        "post": _operation(
            "transition_activity",
            "Record (with the delivery details), confirm, dispute or cancel an activity",
            ("200", "The activity after the action", "Activity"),
            "403 404 409",
            parameters=[ACTIVITY_ID],
            body="ActivityTransition",
        ),
    },
    "/api/v1/reports/summary": {
        "get": _operation(
            "reports_summary",
            "Programme figures for a period (Efus staff and administrators)",
            ("200", "The figures", "ReportSummary"),
            "400 403",
            parameters=[_query("start"), _query("end")],
        ),
    },
    "/api/v1/experts": {
        "get": _operation(
            "list_experts",
            "The expert directory as your role may see it",
            ("200", "A page of organisations", "ExpertPage"),
            "400",
            parameters=PAGING,
        ),
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "PREPARE Assist API", "version": "1.0.0", "description": DESCRIPTION},
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "pa_ followed by 43 URL-safe characters",
                "description": "A personal token from /account or `flask create-token EMAIL`.",
            }
        },
        "schemas": {
            "Action": ACTION,
            "Request": REQUEST,
            "RequestPage": _page_of("Request"),
            "Engagement": ENGAGEMENT,
            "EngagementPage": _page_of("Engagement"),
            "Activity": ACTIVITY,
            "ActivityList": _object({"items": {"type": "array", "items": _ref("Activity")}}),
            "Attachment": ATTACHMENT,
            "ReportSummary": REPORT_SUMMARY,
            "Match": MATCH,
            "MatchList": _object(
                {
                    "request_id": INTEGER,
                    "request_version": INTEGER,
                    "items": {"type": "array", "items": _ref("Match")},
                }
            ),
            "HistoryEntry": HISTORY_ENTRY,
            "History": _object({"items": {"type": "array", "items": _ref("HistoryEntry")}}),
            "Expert": EXPERT,
            "ExpertPage": _page_of("Expert"),
            "Error": ERROR,
            "RequestCreate": schemas.object_schema(
                schemas.REQUEST_CREATE,
                "A new draft; only the title is required. Without `language`, the detected one "
                "is stored, or 422 when the text is too short or mixed to tell.",
            ),
            "RequestPatch": schemas.object_schema(
                schemas.REQUEST_PATCH,
                "A partial update: fields not sent keep their value; `version` is required.",
            ),
            "RequestTransition": schemas.object_schema(
                schemas.REQUEST_TRANSITION, "A workflow action on a request."
            ),
            "EngagementTransition": schemas.object_schema(
                schemas.ENGAGEMENT_TRANSITION, "A workflow action on an engagement."
            ),
            "Feedback": schemas.object_schema(
                schemas.FEEDBACK, "The city's rating of an engagement (once, by its city)."
            ),
            "ActivityPlan": schemas.object_schema(
                schemas.ACTIVITY_PLAN, "A new activity; `place` is required unless remote."
            ),
            "ActivityTransition": schemas.object_schema(
                schemas.ACTIVITY_TRANSITION,
                "A workflow action on an activity. With `record`, send `delivered_on`, "
                "`duration_hours`, `participants` and `summary` (and optionally `outcomes`, "
                "`follow_up`, a changed `format`, `place` or `is_remote`); the other actions "
                "take only `comment` (required to dispute).",
            ),
            "Proposal": schemas.object_schema(
                schemas.PROPOSAL, "Propose one expert organisation for the request."
            ),
        },
        "responses": {
            f"E{code}": {
                "description": description,
                **_json(_ref("Error")),
                **({"headers": {"WWW-Authenticate": {"schema": STRING}}} if code == "401" else {}),
            }
            for code, description in ERROR_STATUSES.items()
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """A copy of the document (callers may not change the module's data)."""
    return copy.deepcopy(OPENAPI)
