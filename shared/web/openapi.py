"""The OpenAPI 3.1 document of the submit function, built from the pydantic models.

Schemas come from the models' JSON Schema (so the document cannot drift from the
validation); paths are written by hand. Every request body carries an example, and
tests/unit/test_schemas.py validates each one against ReportIn.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.usecases import reporter
from shared.web.schemas import REPORT_EXAMPLE, Problem, ReportIn, ReportOut, SubmittedOut

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
    "description": "Tracking code, e.g. K7M-2XQ-9RJ (case and dashes are forgiven)",
    "schema": {"type": "string", "maxLength": 40},
}


def _components() -> dict[str, Any]:
    _, top = models_json_schema(
        [
            (ReportIn, "validation"),
            (SubmittedOut, "serialization"),
            (ReportOut, "serialization"),
            (Problem, "serialization"),
            *((op.body, "validation") for op in reporter.OPERATIONS.values()),
        ],
        ref_template=REF,
    )
    return dict(top.get("$defs", {}))


_REPORTER_SUMMARIES = {
    "reply": "Reply to the agency's follow-up (in progress)",
    "answer": "Answer a request for more information (on hold -> back to verification)",
    "confirm": "Confirm the resolution (resolved -> closed)",
    "reopen": "Reopen with a reason (resolved -> in progress)",
    "rating": "Rate the handling 1-5, once (closed)",
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
        paths[f"/api/v1/reports/{{code}}/{name}"] = {
            "post": {
                "operationId": f"reporter_{name}",
                "summary": _REPORTER_SUMMARIES[name],
                "security": [{"reporterToken": []}, {"reporterTokenHeader": []}],
                "parameters": [CODE_PARAM, LANG_PARAM],
                "requestBody": {
                    "required": name != "confirm",
                    "content": {
                        "application/json": {
                            "schema": _ref(model),
                            "example": dict(op.body.EXAMPLE),
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Done: the new status and the timeline event",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "400": _problem("Malformed JSON or tracking code"),
                    "403": _problem("Missing or wrong reporter token; nothing written"),
                    "404": _problem("Unknown code (or confidential, without the token)"),
                    "409": _problem("Not possible in the report's current status"),
                    "415": _problem("A body that is not application/json"),
                    "422": _problem("Invalid body (one `errors` entry per field)"),
                },
            }
        }
        form_example = {
            "token": "<reporter token>",
            **{k: str(v) for k, v in op.body.EXAMPLE.items()},
        }
        paths[f"/lacak/{{code}}/{name}"] = {
            "post": {
                "operationId": f"reporter_{name}_form",
                "summary": _REPORTER_SUMMARIES[name] + " (the tracking page's form)",
                "parameters": [CODE_PARAM, LANG_PARAM],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                            "example": form_example,
                        }
                    },
                },
                "responses": {
                    "303": {"description": "Done: back to the private tracking page"},
                    "403": _html("Wrong or missing token; nothing written"),
                    "404": _html("Unknown code (or confidential, without the token)"),
                    "409": _html("The tracking page with a warning; nothing written"),
                    "422": _html("The tracking page with the error beside its field"),
                },
            }
        }
    return paths


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
        return {
            "get": {
                "operationId": operation,
                "summary": summary,
                "parameters": list(parameters),
                "responses": {
                    "200": ok,
                    "304": {"description": "Not modified (If-None-Match)"},
                    "404": _problem("No figures published for that day, or no such agency"),
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
        "/data/skema": data(
            "openDataSchema",
            "The open data's columns (Frictionless Table Schema, both languages)",
            {"description": "The schema", **json_body},
        ),
        "/laporan": listing,
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
                            "schema": {"type": "string", "minLength": 8, "maxLength": 255},
                        },
                        LANG_PARAM,
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _ref("ReportIn"), "example": example}
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
                        "400": _problem("Malformed JSON, or an invalid Idempotency-Key"),
                        "413": _problem("Body larger than the configured limit"),
                        "415": _problem("Content-Type is not application/json"),
                        "422": _problem(
                            "Validation failed (one `errors` entry per field), an unknown "
                            "field, or the Idempotency-Key was used with another body"
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
                        "with private details."
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
                                    "description": (
                                        "ReportIn's fields, flat: reporter.name, "
                                        "reporter.email, reporter.phone; checkboxes "
                                        "present when ticked; `nonce` is the idempotency "
                                        "key of this form; `website` must stay empty."
                                    ),
                                    "additionalProperties": {"type": "string"},
                                },
                                "example": form_fields,
                            }
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
                        "413": _html("Form larger than the configured limit"),
                        "415": _html("Not application/x-www-form-urlencoded"),
                        "422": _html("The form again, with each error by its field"),
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
            **lost_link_paths(),
            **reporter_paths(),
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
