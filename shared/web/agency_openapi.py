"""The OpenAPI 3.1 document of the agency function, built from the body models.

Every request body has an example taken from its model (``json_schema_extra``);
tests/unit/test_agency_usecase.py validates each example against its model.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.domain.report import Priority, State
from shared.ports import DeliveryStatus
from shared.web.agency_app import (
    ACTION_PART,
    OPERATIONS,
    ForwardIn,
    MessageIn,
    ReasonIn,
    SupervisoryIn,
    VerifyIn,
)
from shared.web.dispatch import DOCUMENT_ID
from shared.web.openapi import (
    FILES_LIMITS,
    FILES_REFUSED,
    UNKNOWN_UPLOAD,
    multipart_body,
    upload_operation,
)
from shared.web.schemas import AttachmentOut, PlaceOut, Problem, UploadIn, UploadOut

REF = "#/components/schemas/{model}"

_SUMMARIES = {
    "verify": "Verify a submitted report and disposition it (admins)",
    "forward": "Forward a dispositioned report to a unit of the agency (admins)",
    "follow-up": "Post a follow-up (tindak lanjut); the reporter sees it",
    "not-our-authority": "Bukan Wewenang: return the report for re-routing, with a reason (admins)",
    "hold": "Put a submitted report on hold, asking the reporter for more (admins; clock paused)",
    "archive": "Archive a report with a reason (admins): a submitted or on-hold one, or a "
    "dispositioned one before any follow-up (only the admin of the agency it was routed to)",
    "resolve": "Declare the report resolved; the reporter confirms or reopens",
    "mark-supervisory": "Mark a complaint berkadar pengawasan with a reason (admins): its "
    "disposition's deadline becomes 60 working days from the disposition",
}

# What each operation's 403, 409 and 422 mean beyond the generic.
FILES_FOR_ACTIONS = (
    "Files: as JSON, upload each first (POST /api/v1/uploads, then a PUT to the signed "
    "URL) and name it in `attachments`; or as multipart/form-data, the JSON in the part "
    "`body` and the files in `berkas` parts. " + FILES_LIMITS + " The reporter sees them."
)
_REFUSALS: dict[str, dict[str, str]] = {
    "archive": {
        "403": "The caller's role may not archive, or the report was routed to another "
        "agency than the caller's (a dispositioned report)",
        "409": "Not submitted, on hold or dispositioned (a follow-up came); nothing changed",
    },
    "follow-up": {
        "422": "Invalid body (one `errors` entry per field), "
        + UNKNOWN_UPLOAD
        + "; or "
        + FILES_REFUSED
        + "; or more than 30 files on the report",
    },
    "resolve": {
        "422": "Invalid body (one `errors` entry per field), "
        + UNKNOWN_UPLOAD
        + "; or "
        + FILES_REFUSED
        + "; or more than 30 files on the report",
    },
    "mark-supervisory": {
        "403": "A unit officer may not mark a report",
        "409": "Not dispositioned or in progress; nothing changed",
        "422": "Invalid body, or the report is not a complaint",
    },
}

# The fields of a report the agency API shows (inbox lines, details, action results).
REPORT_FIELDS: dict[str, Any] = {
    "id": {"type": "string"},
    "seq": {
        "type": "integer",
        "description": "The report's version: the sequence number of its last timeline "
        'event. Send it back as If-Match: "<seq>" to act only on this version',
    },
    "tracking_code": {"type": "string"},
    "type": {"type": "string"},
    "state": {"type": "string", "enum": [s.value for s in State]},
    "agency_id": {"type": ["string", "null"]},
    "verify_due": {"type": "string", "format": "date"},
    "resolve_due": {
        "type": ["string", "null"],
        "format": "date",
        "description": "The current disposition's resolution deadline",
    },
    "clock_due": {
        "type": ["string", "null"],
        "format": "date",
        "description": "Due date of the clock of the current state: verification in "
        "submitted, resolution in dispositioned and in_progress; null otherwise",
    },
    "overdue": {
        "type": "boolean",
        "description": "clock_due is before today (Asia/Jakarta)",
    },
    "age_working_days": {
        "type": "integer",
        "description": "Working days since submission, to today or to the closing/archive",
    },
    "escalation_tier": {
        "type": ["string", "null"],
        "description": "The last escalation tier fired for the report's clock",
    },
    "escalations": {
        "type": "array",
        "items": {"type": "string"},
        "description": "The tiers fired for the report's clock, in order",
    },
    "assignee_id": {
        "type": ["string", "null"],
        "description": "The staff account handling it in its agency (set in the console); "
        "staff only, never shown to the reporter or the public",
    },
    "assignee_name": {"type": ["string", "null"]},
    "priority": {"type": "string", "enum": [p.value for p in Priority]},
}
EVENT_FIELDS: dict[str, Any] = {
    "seq": {"type": "integer"},
    "action": {"type": "string"},
    "at": {"type": "string", "format": "date-time"},
    "label": {
        "type": "string",
        "description": "What happened, in the answer's language; a disposition says how it "
        "was routed (named by the reporter, rule, classifier and confidence, or admin)",
    },
    "routing": {
        "type": "object",
        "description": "On a disposition: method (named, rule, classifier, manual), agency_id, "
        "rule_id, confidence, admin_agency_id",
    },
}

_MOMENT = {"type": ["string", "null"], "format": "date-time"}
_DELIVERY_STATUSES = [s.value for s in DeliveryStatus]
CHANNEL_FIELDS: dict[str, Any] = {
    "channel": {"type": "string", "enum": ["webhook", "email", "sms"]},
    "status": {"type": "string", "enum": _DELIVERY_STATUSES},
    "attempts": {"type": "integer"},
    "address": {
        "type": "string",
        "description": "The e-mail address written to: only on e-mails to the caller's own "
        "agency (never a reporter's contact, never a webhook URL or secret)",
    },
    "last_status_code": {
        "type": ["integer", "null"],
        "description": "The receiver's HTTP status, the relay's SMTP reply code",
    },
    "last_error": {"type": ["string", "null"]},
    "first_attempt_at": _MOMENT,
    "last_attempt_at": _MOMENT,
    "delivered_at": _MOMENT,
    "digest_id": {
        "type": ["string", "null"],
        "description": "The hourly digest (agency.YYYY-MM-DDTHH) that carried it",
    },
}
DELIVERY_FIELDS: dict[str, Any] = {
    "notification_id": {"type": "string"},
    "report_id": {"type": ["string", "null"], "description": "null: about no report"},
    "tracking_code": {"type": ["string", "null"]},
    "kind": {"type": "string", "description": "report.dispositioned, report.accepted, ..."},
    "recipient": {"type": "string", "enum": ["agency", "reporter"]},
    "agency_id": {"type": ["string", "null"], "description": "The agency told; null: the reporter"},
    "status": {
        "type": "string",
        "enum": _DELIVERY_STATUSES,
        "description": "Of the whole: a channel still retrying or failed decides; without "
        "a channel, why none (no_channel, skipped, failed: report gone or dead-lettered)",
    },
    "attempts": {"type": "integer"},
    "last_error": {"type": ["string", "null"]},
    "first_attempt_at": _MOMENT,
    "last_attempt_at": _MOMENT,
    "delivered_at": _MOMENT,
    "updated_at": _MOMENT,
    "channels": {"type": "array", "items": {"type": "object", "properties": CHANNEL_FIELDS}},
}

DELIVERIES: dict[str, Any] = {
    "operationId": "failedDeliveries",
    "summary": "Failed notification deliveries, last changed first (admins)",
    "description": (
        "Notifications that were refused for good or that Pub/Sub gave up on "
        "(dead-lettered), or a channel of one: every one for the national admin, those to "
        "the caller's own agency for an agency admin. Unit officers are refused (403)."
    ),
    "parameters": [
        {
            "name": "status",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "enum": ["failed"]},
        },
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    ],
    "responses": {
        "200": {
            "description": "One page; pass next_cursor back for the next",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "items": {
                                "type": "array",
                                "items": {"$ref": REF.format(model="Delivery")},
                            },
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    }
                }
            },
        },
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _problem(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
        **extra,
    }


# Others changed the same report until the transaction's retries ran out.
BUSY = _problem(
    "Busy: too many changes to this report at once; nothing written. Retry-After says when"
)
UNAUTHORIZED = _problem(
    "Missing, unknown or revoked API key",
    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
)
REPORT_ID = {
    "name": "report_id",
    "in": "path",
    "required": True,
    # What the URL map matches (shared.web.dispatch): any other id is a 404.
    "schema": {"type": "string", "pattern": f"^{DOCUMENT_ID.pattern}$"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'Act only if the report is still this version: "<seq>" (quoted) as the '
    "inbox or the report showed it; 412 when it changed since",
    "schema": {"type": "string", "pattern": '^"[0-9]{1,9}"$'},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "8 to 255 visible ASCII characters, yours alone (another caller's same "
    "key is another key). Retrying the same action with the same key answers the first "
    "attempt's event (200, `Idempotent-Replayed: true`) instead of taking it twice; the "
    "same key with another request is refused with 422. A report remembers its last 16 keys",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{8,255}$"},
}
LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of problem titles: en (default) or id; else Accept-Language decides",
    "schema": {"type": "string", "enum": ["en", "id"]},
}


ACTED = {
    "type": "object",
    "properties": {
        "report": _ref("Report"),
        "event": _ref("Event"),
        "published": {
            "type": "boolean",
            "description": "Whether what the action emitted is on the bus now (else the "
            "sweeper publishes it later)",
        },
    },
}

DOSSIER = {
    "operationId": "reportDossier",
    "summary": "The Ombudsman RI referral dossier of a report (national admin only)",
    "description": (
        "One self-contained document: the report (never an anonymous reporter's identity), "
        "its full timeline, every agency that held it and for how long (working and "
        "calendar days, from each disposition to Bukan Wewenang or the end), every "
        "reminder and escalation and whom it told, the notification delivery log, and the "
        "latest published figures of the agencies that held it (figures.day is null, and "
        "each agency's published false, when none were published). JSON by default; HTML "
        "(Bahasa Indonesia, or English with lang=en) with format=html or an Accept header "
        "preferring text/html."
    ),
    "parameters": [
        REPORT_ID,
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "json or html; without it, the Accept header decides (JSON "
            "unless text/html is preferred)",
            "schema": {"type": "string", "enum": ["json", "html"]},
        },
        {
            "name": "lang",
            "in": "query",
            "required": False,
            "description": "The HTML document's language: id (default) or en; problem "
            "titles as elsewhere",
            "schema": {"type": "string", "enum": ["en", "id"]},
        },
    ],
    "responses": {
        "200": {
            "description": "The dossier",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "dossier_version": {"type": "integer"},
                            "generated_at": {"type": "string", "format": "date-time"},
                            "report": _ref("Report"),
                            "timeline": {"type": "array", "items": _ref("Event")},
                            "holdings": {"type": "array", "items": {"type": "object"}},
                            "escalations": {"type": "array", "items": {"type": "object"}},
                            "deliveries": {"type": "array", "items": {"type": "object"}},
                            "figures": {"type": "object"},
                        },
                    }
                },
                "text/html": {"schema": {"type": "string"}},
            },
        },
        "400": _problem("format is neither json nor html"),
        "401": UNAUTHORIZED,
        "404": _problem("Unknown, or the caller is not the national admin"),
    },
}


def _with_unauthorized(operation: dict[str, Any]) -> dict[str, Any]:
    operation["parameters"] = [LANG]
    operation["responses"]["401"] = UNAUTHORIZED
    return operation


def examples() -> dict[str, dict[str, Any]]:
    """operation -> the example body the document shows."""
    return {name: dict(op.body.EXAMPLE) for name, op in OPERATIONS.items()}


@cache
def document() -> dict[str, Any]:
    _, top = models_json_schema(
        [
            (VerifyIn, "validation"),
            (ForwardIn, "validation"),
            (MessageIn, "validation"),
            (ReasonIn, "validation"),
            (SupervisoryIn, "validation"),
            (UploadIn, "validation"),
            (UploadOut, "serialization"),
            (AttachmentOut, "serialization"),
            (PlaceOut, "serialization"),
            (Problem, "serialization"),
        ],
        ref_template=REF,
    )
    schemas = dict(top.get("$defs", {}))
    schemas["Report"] = {"type": "object", "properties": REPORT_FIELDS}
    schemas["Event"] = {"type": "object", "properties": EVENT_FIELDS}
    schemas["Delivery"] = {"type": "object", "properties": DELIVERY_FIELDS}
    schemas["ReportDetail"] = {
        "allOf": [
            _ref("Report"),
            {
                "type": "object",
                "properties": {
                    "timeline": {"type": "array", "items": _ref("Event")},
                    "deliveries": {
                        "type": "array",
                        "items": _ref("Delivery"),
                        "description": "Who was told of the report, how, and how it went",
                    },
                    "place": {
                        **_ref("PlaceOut"),
                        "description": "Exactly where: the address and the point as given",
                    },
                    "attachments": {
                        "type": "array",
                        "items": _ref("AttachmentOut"),
                        "description": "Every file, in the order added, with signed GET "
                        "URLs valid until url_expires_at (LAPOR_ATTACHMENT_URL_TTL_S, "
                        "default 5 minutes): ask for the report again for fresh ones",
                    },
                    "show_attachments": {
                        "type": "boolean",
                        "description": "Whether the reporter let the public see the files",
                    },
                    "contact_erased": {
                        "type": ["string", "null"],
                        "enum": ["reporter", "retention", None],
                        "description": "The reporter's name and contact details were erased "
                        "(by the reporter: kontak dihapus oleh pelapor; or after the "
                        "retention period): nobody to reach, nothing to show",
                    },
                },
            },
        ]
    }
    shown = examples()
    paths: dict[str, Any] = {
        "/api/v1/inbox": {
            "get": {
                "operationId": "inbox",
                "summary": "Reports the caller may see, newest first (overdue: most overdue first)",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in State]},
                    },
                    {
                        "name": "overdue",
                        "in": "query",
                        "description": "true: the clock of the current state ran out "
                        "(clock_due before today, Asia/Jakarta), most overdue first",
                        "schema": {"type": "boolean"},
                    },
                    {
                        "name": "escalated",
                        "in": "query",
                        "description": "true: an escalation tier fired for the running clock",
                        "schema": {"type": "boolean"},
                    },
                    {
                        "name": "queue",
                        "in": "query",
                        "description": "admin: the admin queue (submitted reports; national "
                        "admin: all, regional admins: their region)",
                        "schema": {"type": "string", "enum": ["admin"]},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                    LANG,
                ],
                "responses": {
                    "200": {
                        "description": "One page; pass next_cursor back for the next",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": _ref("Report")},
                                        "next_cursor": {"type": ["string", "null"]},
                                    },
                                }
                            }
                        },
                    },
                    "400": _problem("Invalid parameter or cursor"),
                    "401": UNAUTHORIZED,
                    "403": _problem("queue=admin by a unit officer"),
                },
            }
        },
        "/api/v1/reports/{report_id}": {
            "get": {
                "operationId": "reportDetail",
                "summary": "One report with its timeline (no identity for anonymous reports)",
                "parameters": [REPORT_ID, LANG],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {"application/json": {"schema": _ref("ReportDetail")}},
                    },
                    "401": UNAUTHORIZED,
                    "404": _problem("Unknown, or not the caller's to see"),
                },
            }
        },
        "/api/v1/reports/{report_id}/dossier": {"get": DOSSIER},
        "/api/v1/uploads": {
            "post": _with_unauthorized(upload_operation("requestUpload", rate_limited=False))
        },
        "/api/v1/deliveries": {
            "get": {
                **DELIVERIES,
                "parameters": [*DELIVERIES["parameters"], LANG],
                "responses": {
                    **DELIVERIES["responses"],
                    "400": _problem("status is not failed, or an invalid limit or cursor"),
                    "401": UNAUTHORIZED,
                    "403": _problem("A unit officer"),
                },
            }
        },
    }
    for name, op in OPERATIONS.items():
        model = op.body.__name__
        refusals = _REFUSALS.get(name, {})
        takes_files = op.body is MessageIn
        paths[f"/api/v1/reports/{{report_id}}/{name}"] = {
            "post": {
                "operationId": name.replace("-", "_"),
                "summary": _SUMMARIES[name],
                **({"description": FILES_FOR_ACTIONS} if takes_files else {}),
                "parameters": [REPORT_ID, IF_MATCH, IDEMPOTENCY_KEY, LANG],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref(model), "example": shown[name]},
                        **(
                            {
                                "multipart/form-data": multipart_body(
                                    ACTION_PART,
                                    _ref(model),
                                    "The action's JSON (without attachments) and its files. "
                                    "The request may carry LAPOR_MAX_BODY_BYTES for the JSON "
                                    "plus LAPOR_ATTACHMENT_MAX_TOTAL_BYTES plus 64 KiB.",
                                    shown[name],
                                )
                            }
                            if takes_files
                            else {}
                        ),
                    },
                },
                "responses": {
                    "200": {
                        "description": "Done: the report after the action and its new event",
                        "content": {"application/json": {"schema": ACTED}},
                    },
                    "400": _problem(
                        "Malformed JSON, or a malformed If-Match or Idempotency-Key"
                        + (", or an unreadable multipart body" if takes_files else "")
                    ),
                    "401": UNAUTHORIZED,
                    "403": _problem(
                        refusals.get("403", "The caller's role may not take this action")
                    ),
                    "404": _problem("Unknown, or not the caller's to see"),
                    "409": _problem(
                        refusals.get(
                            "409", "Illegal in the report's current state; nothing changed"
                        )
                    ),
                    "412": _problem(
                        "If-Match named a version the report is no longer; nothing changed"
                    ),
                    "413": _problem(
                        "JSON over 16 KiB"
                        + ("; multipart over the limit stated above" if takes_files else "")
                    ),
                    "415": _problem(
                        "Neither application/json nor multipart/form-data"
                        if takes_files
                        else "Not application/json"
                    ),
                    "422": _problem(
                        refusals.get("422", "Invalid body (one `errors` entry per field) or target")
                        + "; or an Idempotency-Key already used for another request"
                    ),
                    "503": BUSY,
                },
            }
        }
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lapor: agency API",
            "version": "1.0.0",
            "description": (
                "For agency staff. Authenticate with `Authorization: Bearer lpr_…` (an API "
                "key per agency and role). Reports of other agencies answer 404. Errors are "
                "RFC 9457 problem+json, titled in English unless `?lang=id` or "
                "Accept-Language asks for Bahasa Indonesia."
            ),
        },
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }
