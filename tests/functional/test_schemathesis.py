"""A bounded schemathesis run against each OpenAPI document (issue 11, item 1): every
operation, with valid and with hostile data, through functions-framework against the
real emulators, with real credentials (a reporter's token for a real report; an API
key for each agency role). No answer may be a 5xx, every answer must be one its
document lists, with its content type and, where it declares one, its schema, and a
request the document calls valid must not be refused as malformed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import functions_framework
import hypothesis
import pytest
import schemathesis
from flask import Flask
from google.cloud import firestore
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from shared import wiring
from shared.domain.tracking import new_tracking_code
from shared.web.schemas import REPORT_EXAMPLE
from tools.api_keys import issue_key
from tools.stack import Emulators

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]
# A request the document calls valid may still be refused for what no schema can say:
# credentials (401, 403), a report that does not exist (404) or is in another state
# (409), an Idempotency-Key sent before with another request (422), the rate limit
# (429), a busy store (503). Any other refusal (a 400, a 413, a 415) means the document
# does not state what the server enforces.
ACCEPTED_IF_VALID = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "503"]
# Per operation and generation mode: small, so the whole run stays well under a minute.
MAX_EXAMPLES = 5


@schemathesis.serializer("image/heic", "image/heif")
def _photo_bytes(context: Any, value: Any) -> bytes:
    """A file part of a type schemathesis has no sample of (the multipart API's
    ``berkas`` may be HEIC): its bytes as drawn; the server judges them by content."""
    return value if isinstance(value, bytes) else str(value).encode()


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)
    calls: int = 0

    def add(self, label: str, error: BaseException) -> None:
        first_line = str(error).strip().splitlines()[:12]
        self.failures.append(f"{label}: " + " | ".join(first_line))


# What no schema can describe, so a valid request carries one a client really holds: a
# tracking code's check symbol (the documents say it; a random code fails it 31 times
# in 32) and the cursors, opaque and only ever copied from an earlier answer.
OPAQUE_QUERY = ("cursor", "setelah")


def _as_a_client_holds_it(case: Any) -> None:
    for where in (case.path_parameters, case.query):
        if where and "code" in where:
            where["code"] = new_tracking_code()
    for name in OPAQUE_QUERY:
        (case.query or {}).pop(name, None)


def _run(
    schema: Any,
    findings: Findings,
    credentials: list[dict[str, str]],
    path_parameters: dict[str, str] | None = None,
) -> None:
    """Every operation in both modes; the cases take ``credentials`` in turn."""
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=ACCEPTED_IF_VALID
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            @hypothesis.given(case=strategy)
            def run(case: Any) -> None:
                if case.meta.generation.mode.is_positive:
                    _as_a_client_holds_it(case)
                # Every other case names the real report, so its token is checked too.
                if findings.calls % 2 and case.path_parameters:
                    for name, value in (path_parameters or {}).items():
                        if name in case.path_parameters:
                            case.path_parameters[name] = value
                headers = credentials[findings.calls % len(credentials)]
                findings.calls += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # No hostile variant exists (an operation that takes nothing at all).
                assert mode is GenerationMode.NEGATIVE, operation.label
            # schemathesis reports its failures as an exception group
            except (AssertionError, BaseExceptionGroup) as error:
                findings.add(f"{operation.label} [{mode.value}]", error)


def _app(source: str, target: str) -> Flask:
    app: Flask = functions_framework.create_app(target=target, source=source)
    return app


@pytest.fixture
def submit_app(clean_emulators: Emulators) -> Iterator[Flask]:
    wiring.reset()
    yield _app("functions/submit/main.py", "submit")
    wiring.reset()


@pytest.fixture
def agency_flask(clean_emulators: Emulators) -> Iterator[Flask]:
    wiring.reset()
    yield _app("functions/agency/main.py", "agency")
    wiring.reset()


def test_the_reporter_api_answers_hostile_input_as_its_document_says(submit_app: Flask) -> None:
    client = submit_app.test_client()
    out = client.post("/api/v1/reports", json=copy.deepcopy(REPORT_EXAMPLE)).get_json()
    code, token = out["tracking_code"], out["reporter_token"]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", submit_app)
    findings = Findings()
    _run(schema, findings, [{"Authorization": f"Bearer {token}"}], {"code": code})
    print("calls", findings.calls)
    assert not findings.failures, "\n".join(findings.failures)


def test_the_agency_api_answers_hostile_input_as_its_document_says(
    agency_flask: Flask, db: firestore.Client
) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", agency_flask)
    findings = Findings()
    keys = [
        issue_key(db, agency_id, role, "schemathesis")
        for agency_id, role in (
            ("nasional", "national_admin"),
            ("dpupr-cianjur", "agency_admin"),
            ("uptd-jalan-cianjur", "unit_officer"),
        )
    ]
    _run(schema, findings, [{"Authorization": f"Bearer {key}"} for key in keys])
    print("calls", findings.calls)
    assert not findings.failures, "\n".join(findings.failures)
