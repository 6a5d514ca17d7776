"""The OpenAPI 3.1 document of the submit function, built from the pydantic models.

Schemas come from the models' JSON Schema (so the document cannot drift from the
validation); paths are written by hand. Every request body carries an example, and
tests/unit/test_schemas.py validates each one against ReportIn.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.domain.report import ATTACHING_ACTIONS
from shared.usecases import reporter
from shared.web.http import FILE_FIELD, IDEMPOTENCY_KEY
from shared.web.schemas import (
    REPORT_EXAMPLE,
    UPLOAD_EXAMPLE,
    UPLOAD_MEDIA_TYPES,
    ApiReportIn,
    Problem,
    ReportIn,
    ReportOut,
    SubmittedOut,
    UploadIn,
    UploadOut,
)

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def report_example() -> dict[str, Any]:
    return copy.deepcopy(REPORT_EXAMPLE)


def form_example() -> dict[str, str]:
    """The JSON example as the hosted form posts it (flat fields, ticked boxes present)."""
    example = report_example()
    reporter = example.pop("reporter")
    flat = {k: str(v) for k, v in example.items() if not isinstance(v, bool)}
    for box in ("anonymous", "confidential"):
        if example.get(box):
            flat[box] = "1"
    flat.update({f"reporter.{k}": v for k, v in reporter.items()})
    flat["nonce"] = "Yt3f9Qm0bq2Kx8Lw1sVn4cPz"
    flat["website"] = ""
    return flat


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


def _html(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the client may submit again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
LANG_PARAM = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of messages: id (default) or en; else Accept-Language decides",
    "schema": {"type": "string", "enum": ["id", "en"]},
}
CODE_PARAM = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": (
        "Tracking code, e.g. K7M-2XQ-9RJ: nine symbols of Crockford's base 32 (digits and "
        "letters but U; O, I and L are read as 0, 1 and 1), in any case, with blanks, "
        "dashes, dots or underscores anywhere. The ninth is a check symbol (Damm's "
        "algorithm over GF(32)): a code that fails it is a 400 before any lookup"
    ),
    "schema": {
        "type": "string",
        "maxLength": 40,
        "pattern": r"^[\s._-]*(?:[0-9A-TV-Za-tv-z][\s._-]*){9}$",
    },
}


# The server's own check (shared.web.http), for a submission's key and an action's.
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern}
ACTION_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "8 to 255 visible ASCII characters. Retrying the same action with the same key "
        "answers the first attempt's event (200, `Idempotent-Replayed: true`) instead of "
        "taking it twice; the same key with another request is refused with 422. A "
        "report remembers its last 16 keys."
    ),
    "schema": IDEMPOTENCY_KEY_SCHEMA,
}


def _components() -> dict[str, Any]:
    _, top = models_json_schema(
        [
            (ReportIn, "validation"),
            (ApiReportIn, "validation"),
            (UploadIn, "validation"),
            (UploadOut, "serialization"),
            (SubmittedOut, "serialization"),
            (ReportOut, "serialization"),
            (Problem, "serialization"),
            *((op.body, "validation") for op in reporter.OPERATIONS.values()),
        ],
        ref_template=REF,
    )
    schemas = dict(top.get("$defs", {}))
    # A reply's or an answer's body through the API may name files too (api_action
    # takes `attachments` out before the operation's own model checks the rest).
    attachments = schemas["ApiReportIn"]["properties"]["attachments"]
    for op in reporter.OPERATIONS.values():
        if op.action in ATTACHING_ACTIONS:
            model = op.body.__name__
            with_files = copy.deepcopy(schemas[model])
            with_files["properties"]["attachments"] = attachments
            with_files["title"] = _with_files(model)
            schemas[_with_files(model)] = with_files
    return schemas


def _with_files(model: str) -> str:
    return model.removesuffix("In") + "WithFilesIn"


# --- files (shared/web/api_files.py): the same in the reporter's and the agency's APIs ---

FILES_LIMITS = (
    "At most LAPOR_ATTACHMENT_MAX_COUNT files (default 5), each at most "
    "LAPOR_ATTACHMENT_MAX_FILE_BYTES (default 8 MiB) and all together at most "
    "LAPOR_ATTACHMENT_MAX_TOTAL_BYTES (default 20 MiB): photos (JPEG, PNG, WebP, HEIC) "
    "and PDFs, judged by their bytes, never by a name or a Content-Type. Photos are "
    "stored re-encoded without EXIF, GPS or maker data; a PDF only if it parses, "
    "without scripts."
)
FILES_REFUSED = (
    "`files-refused`: nothing was stored; one `errors` entry per refused file (or one "
    "for the whole batch), its `code` (too_many, too_big, total_too_big, empty, "
    "unsupported_type, name_mismatch, heic_unavailable, damaged, too_many_pixels, "
    "pdf_locked, pdf_active_content, infected) and a `message` naming the file in the "
    "answer's language"
)
UNKNOWN_UPLOAD = (
    "`validation` with an `errors` entry `attachments.<i>` (code unknown_upload) for an "
    "upload_id never given out, expired, or to which nothing was PUT; duplicate_upload "
    "for one named twice"
)


FILES_PROPERTY: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
    "description": "The files, one part each (an empty part, an empty file input, is skipped)",
}
FORM_FIELDS = (
    "ReportIn's fields, flat: reporter.name, reporter.email, reporter.phone; checkboxes "
    "present when ticked; `nonce` is the idempotency key of this form; `website` must "
    "stay empty."
)
# What the form readers refuse (400) before they look at a field: the honeypot filled
# in, and a multipart part without a name (a name with a line break in it cannot be
# written in the part's header, so the part has none).
HONEYPOT: dict[str, Any] = {
    "website": {
        "type": "string",
        "pattern": r"^\s*$",
        "description": "The honeypot, hidden from people: anything but blanks is a 400",
    }
}
NAMED_PARTS: dict[str, Any] = {"pattern": r"^[^\r\n]+$"}


def upload_operation(operation_id: str, *, rate_limited: bool) -> dict[str, Any]:
    """``POST /api/v1/uploads``: where to PUT one file (the reporter's API and the agency's)."""
    responses: dict[str, Any] = {
        "201": {
            "description": (
                "PUT the file's bytes to upload_url with exactly these headers before "
                "expires_at (LAPOR_UPLOAD_URL_TTL_S, default 15 minutes); storage refuses "
                "another Content-Type or a body over max_bytes. Then name upload_id in "
                "`attachments`. Uploads never named are deleted after a day."
            ),
            "content": {"application/json": {"schema": _ref("UploadOut")}},
        },
        "400": _problem("Malformed JSON"),
        "413": _problem("Body over 4 KiB"),
        "415": _problem("Content-Type is not application/json"),
        "422": _problem(
            "Invalid body (`validation`: a media_type not listed, a size that is not a "
            "whole number of at least 1, an unknown field), or a size over "
            "LAPOR_ATTACHMENT_MAX_FILE_BYTES (`files-refused`, code too_big)"
        ),
    }
    if rate_limited:
        responses["429"] = _problem(
            "Too many uploads from this client: LAPOR_RATE_LIMIT_SUBMITS x "
            "LAPOR_ATTACHMENT_MAX_COUNT per LAPOR_RATE_LIMIT_WINDOW_S",
            RETRY_AFTER,
        )
    return {
        "operationId": operation_id,
        "summary": "Get a signed URL to upload one file to, for a report or an action",
        "description": FILES_LIMITS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _ref("UploadIn"), "example": UPLOAD_EXAMPLE}
            },
        },
        "responses": responses,
    }


def multipart_body(
    part: str, part_schema: dict[str, Any], description: str, example: dict[str, Any]
) -> dict[str, Any]:
    """A multipart/form-data body: a JSON object in the part ``part`` and the files in
    ``berkas`` parts (for clients that cannot PUT to a signed URL)."""
    return {
        "example": {part: json.dumps(example, ensure_ascii=False), FILE_FIELD: ["<bytes>"]},
        "schema": {
            "type": "object",
            "description": description,
            "required": [part],
            "properties": {part: part_schema, FILE_FIELD: FILES_PROPERTY},
            "additionalProperties": False,
        },
        "encoding": {
            part: {"contentType": "application/json"},
            FILE_FIELD: {"contentType": ", ".join(UPLOAD_MEDIA_TYPES)},
        },
    }


_REPORTER_SUMMARIES = {
    "reply": "Reply to the agency's follow-up (in progress)",
    "answer": "Answer a request for more information (on hold -> back to verification)",
    "confirm": "Confirm the resolution (resolved -> closed)",
    "reopen": "Reopen with a reason (resolved -> in progress)",
    "rating": "Rate the handling 1-5, once (closed)",
    "erase-contact": (
        "Erase the reporter's name and contact details, in any status (the report stays, "
        "anonymous from then on; nobody is told anything more); 422 when already erased"
    ),
}


def lost_link_paths() -> dict[str, Any]:
    """ "Lost your link?" on the lookup page, and the short private link of an SMS."""
    form_example = {"tracking_code": "K7M-2XQ-9RJ", "contact": "siti@contoh.id", "website": ""}
    return {
        "/lupa-tautan": {
            "get": {
                "operationId": "lostLinkPage",
                "summary": "The lookup page with the form, or (?terkirim=1) its one answer",
                "parameters": [
                    {
                        "name": "terkirim",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["1"]},
                    },
                    LANG_PARAM,
                ],
                "responses": {"200": _html("The lookup page, or the answer")},
            },
            "post": {
                "operationId": "lostLink",
                "summary": "Send the private link again to the contact given at submission",
                "description": (
                    "When the tracking code and the e-mail address or phone number belong "
                    "to one report, a link.resend notification goes to that contact. The "
                    "answer is the same whether or not they do, and takes at least "
                    "LAPOR_LOST_LINK_MIN_RESPONSE_S; a report gets at most "
                    "LAPOR_LOST_LINK_REPORT_DAILY_LIMIT links a day."
                ),
                "parameters": [LANG_PARAM],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "description": "`website` must stay empty (the honeypot).",
                                "properties": HONEYPOT,
                                "additionalProperties": {"type": "string"},
                            },
                            "example": form_example,
                        }
                    },
                },
                "responses": {
                    "303": {"description": "Always the same: to /lupa-tautan?terkirim=1"},
                    "400": _html("Honeypot filled or an unreadable form"),
                    "413": _html("Form larger than the configured limit"),
                    "415": _html("Not application/x-www-form-urlencoded"),
                    "422": _html("The lookup page, with each error by its field"),
                    "429": _html("Too many requests from this client", RETRY_AFTER),
                },
            },
        },
        "/l/{link}": {
            "get": {
                "operationId": "shortPrivateLink",
                "summary": "The private link of an SMS: <code>-<short token>",
                "parameters": [
                    {
                        "name": "link",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 60},
                        "example": "K7M2XQ9RJ-3k9x2m7q4p",
                    },
                    LANG_PARAM,
                ],
                "responses": {
                    "303": {
                        "description": (
                            "To the private tracking page (with the reporter token) when "
                            "the short token fits the report, else to the public one"
                        )
                    },
                    "404": _html("Not a tracking code"),
                },
            }
        },
    }


def reporter_paths() -> dict[str, Any]:
    """The reporter's operations: the JSON API and the tracking page's forms."""
    paths: dict[str, Any] = {}
    for name, op in reporter.OPERATIONS.items():
        model = op.body.__name__
        attaching = op.action in ATTACHING_ACTIONS
        paths[f"/api/v1/reports/{{code}}/{name}"] = {
            "post": {
                "operationId": f"reporter_{name}",
                "summary": _REPORTER_SUMMARIES[name],
                "security": [{"reporterToken": []}, {"reporterTokenHeader": []}],
                "parameters": [CODE_PARAM, ACTION_IDEMPOTENCY_KEY, LANG_PARAM],
                "requestBody": {
                    "required": name not in ("confirm", "erase-contact"),
                    "content": {
                        "application/json": {
                            "schema": _ref(_with_files(model) if attaching else model),
                            "example": dict(op.body.EXAMPLE),
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Done: the new status and the timeline event",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "400": _problem("Malformed JSON, tracking code or Idempotency-Key"),
                    "403": _problem("Missing or wrong reporter token; nothing written"),
                    "404": _problem("Unknown code (or confidential, without the token)"),
                    "409": _problem("Not possible in the report's current status"),
                    "415": _problem("A body that is not application/json"),
                    "503": _problem(
                        "Busy: too many changes to this report at once; nothing written. "
                        "Retry-After says when"
                    ),
                    "422": _problem(
                        "Invalid body (one `errors` entry per field)"
                        + ("; " + UNKNOWN_UPLOAD + "; or " + FILES_REFUSED if attaching else "")
                    ),
                },
            }
        }
        form_example = {
            "token": "<reporter token>",
            **{k: str(v) for k, v in op.body.EXAMPLE.items()},
        }
        form_content: dict[str, Any] = {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}},
                "example": form_example,
            }
        }
        if attaching:
            form_content["multipart/form-data"] = {
                "schema": {
                    "type": "object",
                    "description": "The same fields, and files in `berkas` parts. " + FILES_LIMITS,
                    "properties": {FILE_FIELD: FILES_PROPERTY},
                    "propertyNames": NAMED_PARTS,
                    "additionalProperties": {"type": "string"},
                },
                "example": form_example,
            }
        paths[f"/lacak/{{code}}/{name}"] = {
            "post": {
                "operationId": f"reporter_{name}_form",
                "summary": _REPORTER_SUMMARIES[name] + " (the tracking page's form)",
                "parameters": [CODE_PARAM, LANG_PARAM],
                "requestBody": {"required": True, "content": form_content},
                "responses": {
                    "303": {"description": "Done: back to the private tracking page"},
                    "400": _html("Malformed tracking code"),
                    "403": _html("Wrong or missing token; nothing written"),
                    "404": _html("Unknown code (or confidential, without the token)"),
                    "409": _html("The tracking page with a warning; nothing written"),
                    "422": _html("The tracking page with the error beside its field"),
                    "503": _html("Busy: too many changes at once; nothing written"),
                },
            }
        }
    return paths


_TOKEN_QUERY = {
    "name": "token",
    "in": "query",
    "required": False,
    "description": "The reporter token (keep the link secret)",
    "schema": {"type": "string", "maxLength": 64},
}


def _reporter_data_schema() -> dict[str, Any]:
    """ "Unduh data saya": everything held about the reporter (shared.web.reporter_calls)."""
    return {
        "type": "object",
        "required": ["format", "generated_at", "tracking_code", "report", "timeline_export"],
        "properties": {
            "format": {"type": "string", "enum": ["lapor.reporter-data.v1"]},
            "generated_at": {"type": "string", "format": "date-time"},
            "tracking_code": {"type": "string"},
            "report": {
                "type": "object",
                "description": "The report as its reporter sees it (as trackReport, without "
                "`reporter`), its files with signed links",
            },
            "identity": {
                "type": ["object", "null"],
                "description": "The reporter's name and contacts as this function can show "
                "them (masked: the full values are held sealed); null once erased",
            },
            "identity_note": {
                "type": "object",
                "description": "Why the identity is masked here, in Bahasa Indonesia and English",
                "properties": {"id": {"type": "string"}, "en": {"type": "string"}},
            },
            "contact_erased": {"type": ["string", "null"], "enum": ["reporter", "retention", None]},
            "notifications": {"type": "array", "items": {"type": "object"}},
            "timeline_export": {**TIMELINE_EXPORT, "description": "As exportTimeline"},
        },
    }


def reporter_data_paths() -> dict[str, Any]:
    """The reporter's rights over their data: download it, and the page that confirms
    an erasure (the erasure itself is the ``erase-contact`` operation)."""
    schema = _reporter_data_schema()
    return {
        "/api/v1/reports/{code}/my-data": {
            "get": {
                "operationId": "reporterData",
                "summary": "Everything held about the reporter of this report (Unduh data saya)",
                "security": [{"reporterToken": []}, {"reporterTokenHeader": []}],
                "parameters": [CODE_PARAM, LANG_PARAM],
                "responses": {
                    "200": {
                        "description": "The reporter's data; Cache-Control: no-store",
                        "content": {"application/json": {"schema": schema}},
                    },
                    "400": _problem("Malformed tracking code (fails its check symbol)"),
                    "403": _problem("A public report asked without its reporter token"),
                    "404": _problem("Unknown code (or confidential, without the token)"),
                },
            }
        },
        "/lacak/{code}/unduh-data": {
            "get": {
                "operationId": "reporterDataFile",
                "summary": "The same as reporterData, as a file to keep (the tracking page's link)",
                "parameters": [CODE_PARAM, _TOKEN_QUERY, LANG_PARAM],
                "responses": {
                    "200": {
                        "description": (
                            "With the reporter token: the data as an attachment "
                            "(Content-Disposition); without it, the public tracking page"
                        ),
                        "content": {
                            "application/json": {"schema": schema},
                            "text/html": {"schema": {"type": "string"}},
                        },
                    },
                    "400": _html("Malformed tracking code"),
                    "404": _html("Unknown, or confidential without the token"),
                },
            }
        },
        "/lacak/{code}/hapus-kontak": {
            "get": {
                "operationId": "eraseContactPage",
                "summary": "Confirm before erasing the reporter's name and contact details",
                "parameters": [CODE_PARAM, _TOKEN_QUERY, LANG_PARAM],
                "responses": {
                    "200": _html(
                        "With the reporter token: what is erased and what stays, and the "
                        "form that posts erase-contact; without it, the public tracking page"
                    ),
                    "400": _html("Malformed tracking code"),
                    "404": _html("Unknown, or confidential without the token"),
                },
            }
        },
    }


@cache
def public_paths() -> dict[str, Any]:
    """The public figures, their open data and the public list (shared/web/public_pages.py):
    read only, the same for every visitor, cacheable (Cache-Control public and an ETag;
    If-None-Match answers 304)."""
    day_query = {
        "name": "tanggal",
        "in": "query",
        "required": False,
        "description": "A published day (YYYY-MM-DD); the latest when absent",
        "schema": {"type": "string", "format": "date"},
    }
    agency = {
        "name": "agency_id",
        "in": "path",
        "required": True,
        "description": "An agency id of the reference data (not a unit)",
        "schema": {"type": "string", "maxLength": 64},
    }
    day_path = {
        "name": "day",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "date"},
    }
    svg = {"description": "The chart (SVG, no script)", "content": {"image/svg+xml": {}}}
    json_body = {"content": {"application/json": {"schema": {"type": "object"}}}}

    def page(operation: str, summary: str, *parameters: dict[str, Any]) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation,
                "summary": summary,
                "parameters": [*parameters, LANG_PARAM],
                "responses": {
                    "200": _html("The page"),
                    "304": {"description": "Not modified (If-None-Match)"},
                    "404": _html("No figures published for that day, or no such agency"),
                },
            }
        }

    def data(operation: str, summary: str, ok: dict[str, Any], *parameters: Any) -> Any:
        # A chart is drawn into a page, so its 404 is the site's page; data is JSON.
        no_figures = "No figures published for that day, or no such agency"
        missing = _html(no_figures) if ok is svg else _problem(no_figures)
        return {
            "get": {
                "operationId": operation,
                "summary": summary,
                "parameters": list(parameters),
                "responses": {
                    "200": ok,
                    "304": {"description": "Not modified (If-None-Match)"},
                    "404": missing,
                },
            }
        }

    dashboard = page("statistics", "The public dashboard (HTML)", day_query)
    dashboard["get"]["parameters"].insert(
        1,
        {
            "name": "periode",
            "in": "query",
            "required": False,
            "description": "The agency table's period: this month (default) or kumulatif",
            "schema": {"type": "string", "enum": ["kumulatif"]},
        },
    )
    listing = page("publicReports", "Reports that are not confidential, newest first (HTML)")
    listing["get"]["parameters"].insert(
        0,
        {
            "name": "setelah",
            "in": "query",
            "required": False,
            "description": "The cursor of the next page, from the page's own link",
            "schema": {"type": "string", "maxLength": 80},
        },
    )
    listing["get"]["responses"] = {
        "200": _html("One page of the list"),
        "304": {"description": "Not modified (If-None-Match)"},
        "400": _html("A cursor the list never gave out"),
    }
    return {
        "/statistik": dashboard,
        "/statistik/definisi": page("definitions", "What each figure means, the columns"),
        "/statistik/grafik/tren.svg": data(
            "nationalTrendChart", "The 90-day national trend", svg, day_query, LANG_PARAM
        ),
        "/statistik/instansi/{agency_id}": page(
            "agencyStatistics", "One agency", agency, day_query
        ),
        "/statistik/instansi/{agency_id}/tren.svg": data(
            "agencyTrendChart", "One agency's 90-day trend", svg, agency, day_query, LANG_PARAM
        ),
        "/data/harian/{day}.json": data(
            "dailyOpenDataJson",
            "The day's open data: {date, schema, rows}, typed by /data/skema",
            {"description": "The rows", **json_body},
            day_path,
        ),
        "/data/harian/{day}.csv": data(
            "dailyOpenDataCsv",
            "The day's open data as CSV (columns: /data/skema)",
            {"description": "The CSV", "content": {"text/csv": {}}},
            day_path,
        ),
        "/data/instansi/{agency_id}/{day}.json": data(
            "agencyOpenData",
            "One agency's figures of a day (own and with the agencies below it)",
            {"description": "The figures", **json_body},
            agency,
            day_path,
        ),
        "/data/jangkar/{day}.json": data(
            "timelineAnchor",
            "The day's anchor of the timelines: each changed report's public id and head "
            "hash, and their root (docs/timeline-integrity.md)",
            {"description": "The anchor", **json_body},
            day_path,
        ),
        "/data/skema": data(
            "openDataSchema",
            "The open data's columns (Frictionless Table Schema, both languages)",
            {"description": "The schema", **json_body},
        ),
        "/laporan": listing,
        "/data/wilayah/{regency_code}": data(
            "places",
            "A regency's districts (kecamatan) and their villages (desa/kelurahan), "
            "Kemendagri codes and names: the form's choices",
            {"description": "The districts, each with its villages", **json_body},
            {
                "name": "regency_code",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": r"^\d{2}\.\d{2}$"},
                "example": "32.03",
            },
        ),
    }


def unsubscribe_path() -> dict[str, Any]:
    """The link in every e-mail (shared/web/unsubscribe_pages.py): RFC 8058 one-click."""
    token = {
        "name": "token",
        "in": "path",
        "required": True,
        "description": "The signed token of the e-mail's List-Unsubscribe link",
        "schema": {"type": "string", "maxLength": 400},
    }
    unknown = _html("A token Lapor did not sign")
    return {
        "get": {
            "operationId": "unsubscribePage",
            "summary": "What the link stops, and a button; changes nothing",
            "parameters": [token, LANG_PARAM],
            "responses": {"200": _html("The page"), "404": unknown},
        },
        "post": {
            "operationId": "unsubscribe",
            "summary": "Stop it: the page's button, or a mail client's one-click POST",
            "description": (
                "RFC 8058: a mail client posts `List-Unsubscribe=One-Click` (a form or "
                "multipart/form-data), the page's button the same form. The token alone "
                "authorises it, so the body is not read. Doing it again changes nothing."
            ),
            "parameters": [token, LANG_PARAM],
            "responses": {"200": _html("Stopped: the confirmation"), "404": unknown},
        },
    }


# A field of an exported event: disclosed (its value and field salt) or committed only.
_EXPORTED_FIELD = {
    "oneOf": [
        {
            "type": "object",
            "required": ["value", "salt"],
            "properties": {
                "value": {"type": ["string", "integer", "null"]},
                "salt": {"type": "string"},
            },
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["commitment"],
            "properties": {"commitment": {"type": "string"}},
            "additionalProperties": False,
        },
    ]
}
TIMELINE_EXPORT = {
    "type": "object",
    "required": [
        "tracking_code",
        "audience",
        "procedure",
        "canonical_form",
        "hash",
        "head",
        "events",
    ],
    "properties": {
        "tracking_code": {"type": "string"},
        "audience": {"type": "string", "enum": ["public", "reporter"]},
        "procedure": {"type": "string"},
        "canonical_form": {"type": "string"},
        "hash": {"type": "string", "enum": ["sha256"]},
        "head": {"type": ["string", "null"], "description": "The last event's hash"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["seq", "fields"],
                "properties": {
                    "seq": {"type": "integer", "minimum": 1},
                    "legacy": {
                        "type": "boolean",
                        "description": "Written before the chain: shown, not protected",
                    },
                    "prev_hash": {"type": "string"},
                    "hash": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {
                            "oneOf": [
                                _EXPORTED_FIELD,
                                {"type": ["string", "integer", "null"]},
                            ]
                        },
                    },
                },
            },
        },
    },
}


def document() -> dict[str, Any]:
    example = report_example()
    form_fields = form_example()
    schemas = _components()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lapor: submit",
            "version": "1.0.0",
            "description": (
                "Citizens' reports (pengaduan, aspirasi, permintaan informasi): the hosted "
                "form, its JSON API and tracking. Errors are RFC 9457 problem+json with one "
                "`errors` entry per invalid field; messages are in Bahasa Indonesia unless "
                "`?lang=en` or Accept-Language asks for English."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": {
            "/api/v1/reports": {
                "post": {
                    "operationId": "submitReport",
                    "summary": "Submit a report",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                "8 to 255 visible ASCII characters. Resending the same body "
                                "with the same key returns the first answer with status 200 "
                                "(and `Idempotent-Replayed: true`) instead of a second report; "
                                "the same key with another body is refused with 422. Keys "
                                "are remembered for 24 hours."
                            ),
                            "schema": IDEMPOTENCY_KEY_SCHEMA,
                        },
                        LANG_PARAM,
                    ],
                    "description": (
                        "As JSON, with the files uploaded first (POST /api/v1/uploads, then "
                        "a PUT to the signed URL) and named by upload_id in `attachments`; "
                        "or as multipart/form-data, the report's JSON in the part `report` "
                        "and the files in `berkas` parts. " + FILES_LIMITS + " A report "
                        "accepted has all its files; a refused file refuses the report and "
                        "nothing is stored."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _ref("ApiReportIn"),
                                "example": example,
                            },
                            "multipart/form-data": multipart_body(
                                "report",
                                _ref("ReportIn"),
                                "The report's JSON (ReportIn, without attachments) and its "
                                "files. The request may carry LAPOR_MAX_BODY_BYTES for the "
                                "JSON plus LAPOR_ATTACHMENT_MAX_TOTAL_BYTES plus 64 KiB.",
                                example,
                            ),
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Accepted: a new report. Keep reporter_token secret.",
                            "headers": {
                                "Location": {
                                    "description": "The report's API URL",
                                    "schema": {"type": "string"},
                                }
                            },
                            "content": {"application/json": {"schema": _ref("SubmittedOut")}},
                        },
                        "200": {
                            "description": (
                                "Replay: this Idempotency-Key already made a report with this "
                                "body; the same body as the first 201."
                            ),
                            "content": {"application/json": {"schema": _ref("SubmittedOut")}},
                        },
                        "400": _problem(
                            "Malformed JSON, an invalid Idempotency-Key, or a multipart "
                            "body that cannot be read (`malformed-multipart`: cut short, "
                            "a part other than report and berkas, a file in another part, "
                            "more than twice the file limit of parts)"
                        ),
                        "413": _problem(
                            "JSON over LAPOR_MAX_BODY_BYTES (default 64 KiB); multipart "
                            "over that plus LAPOR_ATTACHMENT_MAX_TOTAL_BYTES plus 64 KiB"
                        ),
                        "415": _problem(
                            "Content-Type is neither application/json nor multipart/form-data"
                        ),
                        "422": _problem(
                            "Validation failed (one `errors` entry per field; a multipart "
                            "body without its report part: `errors` names `report`), an "
                            "unknown field, the Idempotency-Key was used with another body; "
                            + UNKNOWN_UPLOAD
                            + "; or "
                            + FILES_REFUSED
                        ),
                        "429": _problem("Too many reports from this client", RETRY_AFTER),
                    },
                }
            },
            "/api/v1/reports/{code}": {
                "get": {
                    "operationId": "trackReport",
                    "summary": "Follow a report by its tracking code",
                    "description": (
                        "Without the reporter token: the public view, and 404 for a "
                        "confidential report (the same answer as an unknown code). With it "
                        "(`Authorization: Bearer` or `X-Reporter-Token`): the reporter's view "
                        "with private details. `place`: exact for the reporter; for the "
                        "public without the address and the point rounded to 3 decimals "
                        "(about 110 m). `attachments`: each file with signed GET URLs valid "
                        "until url_expires_at (LAPOR_ATTACHMENT_URL_TTL_S, default 5 "
                        "minutes): the reporter's always, the public's only on a report "
                        "whose reporter chose show_attachments."
                    ),
                    "security": [{}, {"reporterToken": []}, {"reporterTokenHeader": []}],
                    "parameters": [CODE_PARAM, LANG_PARAM],
                    "responses": {
                        "200": {
                            "description": "The report as the asker may see it",
                            "content": {"application/json": {"schema": _ref("ReportOut")}},
                        },
                        "400": _problem("Malformed tracking code (fails its check symbol)"),
                        "404": _problem("No report the asker may see has this code"),
                    },
                }
            },
            "/api/v1/reports/{code}/timeline": {
                "get": {
                    "operationId": "exportTimeline",
                    "summary": "The report's timeline as an export anyone can verify",
                    "description": (
                        "Each event with the hash of the one before it, in canonical JSON "
                        "(RFC 8785): the fields the asker's view shows with their salts, "
                        "the others as commitments only. Who may ask, and the 404, as for "
                        "trackReport. Verify with tools/verify_timeline.py; the procedure "
                        "is docs/timeline-integrity.md."
                    ),
                    "security": [{}, {"reporterToken": []}, {"reporterTokenHeader": []}],
                    "parameters": [CODE_PARAM],
                    "responses": {
                        "200": {
                            "description": "The export",
                            "content": {"application/json": {"schema": TIMELINE_EXPORT}},
                        },
                        "400": _problem("Malformed tracking code (fails its check symbol)"),
                        "404": _problem("No report the asker may see has this code"),
                    },
                }
            },
            "/api/v1/uploads": {
                "post": {
                    **upload_operation("requestUpload", rate_limited=True),
                    "parameters": [LANG_PARAM],
                }
            },
            "/": {
                "get": {
                    "operationId": "showForm",
                    "summary": "The hosted form (HTML; works without JavaScript)",
                    "parameters": [LANG_PARAM],
                    "responses": {"200": _html("The form")},
                },
                "post": {
                    "operationId": "submitForm",
                    "summary": "Submit the hosted form",
                    "parameters": [LANG_PARAM],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "description": FORM_FIELDS,
                                    "properties": HONEYPOT,
                                    "additionalProperties": {"type": "string"},
                                },
                                "example": form_fields,
                            },
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "description": FORM_FIELDS
                                    + " The files in `berkas` parts (the form's own "
                                    "encoding). " + FILES_LIMITS,
                                    "properties": {FILE_FIELD: FILES_PROPERTY, **HONEYPOT},
                                    "propertyNames": NAMED_PARTS,
                                    "additionalProperties": {"type": "string"},
                                },
                                "example": form_fields,
                            },
                        },
                    },
                    "responses": {
                        "303": {
                            "description": (
                                "Accepted: redirect to the private tracking page "
                                "(/lacak/{code}?token=…&new=1), which shows the code"
                            ),
                            "headers": {
                                "Location": {"schema": {"type": "string"}, "description": "Page"}
                            },
                        },
                        "400": _html("Honeypot filled or an unreadable form"),
                        "413": _html(
                            "Urlencoded over LAPOR_MAX_BODY_BYTES; multipart over that plus "
                            "LAPOR_ATTACHMENT_MAX_TOTAL_BYTES (the page states the limits)"
                        ),
                        "415": _html(
                            "Neither application/x-www-form-urlencoded nor multipart/form-data"
                        ),
                        "422": _html(
                            "The form again, with each error by its field (a refused file: "
                            "every file's reason, and nothing stored)"
                        ),
                        "429": _html("Too many reports from this client", RETRY_AFTER),
                    },
                },
            },
            "/lacak": {
                "get": {
                    "operationId": "lookupForm",
                    "summary": "Type a tracking code",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 40},
                        },
                        LANG_PARAM,
                    ],
                    "responses": {
                        "200": _html("The lookup form"),
                        "303": {"description": "Redirect to /lacak/{code}"},
                        "400": _html("Malformed tracking code"),
                    },
                }
            },
            "/lacak/{code}": {
                "get": {
                    "operationId": "trackPage",
                    "summary": "The tracking page (private details with ?token=)",
                    "parameters": [
                        CODE_PARAM,
                        {
                            "name": "token",
                            "in": "query",
                            "required": False,
                            "description": "The reporter token (keep the link secret)",
                            "schema": {"type": "string", "maxLength": 64},
                        },
                        LANG_PARAM,
                    ],
                    "responses": {
                        "200": _html("The report"),
                        "400": _html("Malformed tracking code"),
                        "404": _html("Unknown, or confidential without the token"),
                    },
                }
            },
            "/lacak/{code}/berkas/{file_id}": {
                "get": {
                    "operationId": "trackedFile",
                    "summary": "One file of a report, through a short-lived signed link",
                    "description": (
                        "For whoever the tracking page shows it to: the reporter with "
                        "?token=, the public only on a public report whose reporter chose "
                        "show_attachments."
                    ),
                    "parameters": [
                        CODE_PARAM,
                        {
                            "name": "file_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "f1a2b3c4d5e",
                        },
                        {
                            "name": "token",
                            "in": "query",
                            "required": False,
                            "description": "The reporter token",
                            "schema": {"type": "string", "maxLength": 64},
                        },
                        {
                            "name": "ukuran",
                            "in": "query",
                            "required": False,
                            "description": "kecil: the image's 320 px WebP thumbnail",
                            "schema": {"type": "string", "enum": ["kecil"]},
                        },
                        LANG_PARAM,
                    ],
                    "responses": {
                        "302": {
                            "description": (
                                "To a signed GET URL valid LAPOR_ATTACHMENT_URL_TTL_S "
                                "(default 5 minutes); Cache-Control: no-store"
                            ),
                            "headers": {
                                "Location": {"schema": {"type": "string"}, "description": "URL"}
                            },
                        },
                        "404": _html("No such file, or not the asker's to see (the same answer)"),
                    },
                }
            },
            **lost_link_paths(),
            **reporter_paths(),
            **reporter_data_paths(),
            **public_paths(),
            "/berhenti/{token}": unsubscribe_path(),
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "reporterToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The reporter_token returned at submission",
                },
                "reporterTokenHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Reporter-Token",
                },
            },
        },
    }
