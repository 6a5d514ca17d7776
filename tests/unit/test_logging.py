"""Structured logging: JSON lines Cloud Logging understands, tied to the request's trace."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from flask import Request, Response
from werkzeug.test import EnvironBuilder

from shared.logging import (
    SOURCE_KEY,
    SPAN_KEY,
    TRACE_KEY,
    CloudLoggingFormatter,
    bind_trace,
    current_trace,
    event_entry,
    http_entry,
    parse_trace_header,
    setup_logging,
    traced,
    unbind_trace,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, put back as it was after the test."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.fixture
def stream(root: logging.Logger) -> io.StringIO:
    out = io.StringIO()
    setup_logging(stream=out)
    return out


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_log_line_is_one_json_object_with_severity_message_time_and_source(
    stream: io.StringIO,
) -> None:
    logging.getLogger("lapor.test").warning("report %s accepted", "r1")

    [entry] = _lines(stream)
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "report r1 accepted"
    assert entry["time"].endswith("Z") and entry["time"][:2] == "20"
    assert entry[SOURCE_KEY]["file"].endswith("test_logging.py")
    assert entry[SOURCE_KEY]["function"] == (
        "test_a_log_line_is_one_json_object_with_severity_message_time_and_source"
    )
    assert int(entry[SOURCE_KEY]["line"]) > 0
    assert TRACE_KEY not in entry


def test_extras_become_fields_and_odd_values_are_stringified(stream: io.StringIO) -> None:
    logging.getLogger("lapor.test").info(
        "published", extra={"report_id": "r1", "attempt": 2, "odd": {1, 2} - {1, 2}}
    )

    [entry] = _lines(stream)
    assert (entry["report_id"], entry["attempt"], entry["odd"]) == ("r1", 2, "set()")
    assert entry["severity"] == "INFO"


def test_an_exception_puts_its_traceback_in_the_message(stream: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("lapor.test").exception("publish failed")

    [entry] = _lines(stream)
    assert entry["severity"] == "ERROR"
    assert entry["message"].startswith("publish failed\nTraceback")
    assert "RuntimeError: boom" in entry["message"]


def test_setup_logging_twice_adds_one_handler_only(root: logging.Logger) -> None:
    out = io.StringIO()
    setup_logging(stream=out)
    setup_logging(stream=out)
    setup_logging(logging.DEBUG, stream=out)

    logging.getLogger("lapor.test").debug("once")

    ours = [h for h in root.handlers if isinstance(h.formatter, CloudLoggingFormatter)]
    assert len(ours) == 1
    assert len(out.getvalue().splitlines()) == 1
    assert root.level == logging.DEBUG


def test_a_bound_traceparent_ties_every_line_to_the_trace(stream: io.StringIO) -> None:
    token = bind_trace(f"00-{TRACE_ID}-00f067aa0ba902b7-01", "lapor-prod")
    try:
        logging.getLogger("lapor.test").info("inside")
    finally:
        unbind_trace(token)
    logging.getLogger("lapor.test").info("outside")

    inside, outside = _lines(stream)
    assert inside[TRACE_KEY] == f"projects/lapor-prod/traces/{TRACE_ID}"
    assert inside[SPAN_KEY] == "00f067aa0ba902b7"
    assert inside["logging.googleapis.com/trace_sampled"] is True
    assert TRACE_KEY not in outside


@pytest.mark.parametrize(
    ("header", "trace", "span", "sampled"),
    [
        (f"00-{TRACE_ID}-00f067aa0ba902b7-00", TRACE_ID, "00f067aa0ba902b7", False),
        (f"{TRACE_ID}/1;o=1", TRACE_ID, "0000000000000001", True),
        (f"{TRACE_ID}/12345678901234567890;o=0", TRACE_ID, "ab54a98ceb1f0ad2", False),
        (f"{TRACE_ID.upper()}/99999999999999999999", TRACE_ID, None, None),  # > 64 bits
        (TRACE_ID, TRACE_ID, None, None),
    ],
)
def test_traceparent_and_cloud_trace_headers_are_parsed(
    header: str, trace: str, span: str | None, sampled: bool | None
) -> None:
    context = parse_trace_header(header, "p")

    assert context is not None
    assert (context.trace, context.span_id, context.sampled) == (
        f"projects/p/traces/{trace}",
        span,
        sampled,
    )


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", f"00-{'0' * 32}-00f067aa0ba902b7-01", f"00-{TRACE_ID}-{'0' * 16}-01"],
)
def test_a_missing_or_malformed_header_binds_no_trace(header: str | None) -> None:
    assert parse_trace_header(header, "p") is None
    token = bind_trace(f"{TRACE_ID}/1;o=1", "p")
    inner = bind_trace(header, "p")  # a previous trace must not leak into this request
    try:
        assert current_trace() is None
    finally:
        unbind_trace(inner)
        unbind_trace(token)


def test_a_trace_bound_in_one_context_is_invisible_in_another() -> None:
    def handle(header: str) -> str | None:
        bind_trace(header, "p")
        trace = current_trace()
        return trace.trace if trace else None

    first = contextvars.copy_context().run(handle, f"{TRACE_ID}/1")
    assert first == f"projects/p/traces/{TRACE_ID}"
    assert current_trace() is None


def test_setup_logging_keeps_httpx_to_warnings(root: logging.Logger) -> None:
    setup_logging(stream=io.StringIO())

    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING


def test_traced_binds_for_the_block_with_the_configured_project(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.config import settings

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "lapor-traced")
    settings.cache_clear()
    with traced(f"{TRACE_ID}/1;o=1"):
        trace = current_trace()
    assert trace is not None and trace.trace == f"projects/lapor-traced/traces/{TRACE_ID}"
    assert current_trace() is None


def request(**headers: str) -> Request:
    """A request built in memory, as functions-framework would hand it over."""
    return Request(EnvironBuilder(headers=list(headers.items())).get_environ())


def test_http_and_event_entries_run_the_handler_in_its_trace(root: logging.Logger) -> None:
    seen: list[str | None] = []

    def remember() -> None:
        trace = current_trace()
        seen.append(trace.trace.rsplit("/", 1)[-1] if trace else None)

    def handler(request: Request) -> Response:
        remember()
        return Response("answer")

    def on_event(event: CloudEvent) -> None:
        remember()

    http = http_entry(handler)
    event = event_entry(on_event)

    assert http.__name__ == "handler" and event.__name__ == "on_event"
    answer = http(request(traceparent=f"00-{TRACE_ID}-00f067aa0ba902b7-01"))
    assert answer.get_data(as_text=True) == "answer"
    http(request(**{"X-Cloud-Trace-Context": f"{TRACE_ID.replace('4', '5')}/1"}))
    http(request())
    attributes = {"type": "t", "source": "s", "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    event(CloudEvent(attributes, None))
    assert seen == [TRACE_ID, TRACE_ID.replace("4", "5"), None, TRACE_ID]
    assert current_trace() is None
    assert any(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers)
