"""Structured logs Cloud Logging understands: one JSON object per line on stdout.

On Cloud Functions (Cloud Run underneath) a JSON line on stdout becomes a structured
entry: ``severity`` sets the level, ``message`` the summary, and the
``logging.googleapis.com/*`` keys tie the entry to its source line and its request's
trace. Anything passed with ``extra=`` becomes a field of ``jsonPayload``.

An entry point is decorated with :func:`http_entry` or :func:`event_entry`: that calls
:func:`setup_logging` once and, per request or event, binds the trace its
``traceparent`` (or ``X-Cloud-Trace-Context``) names (:func:`traced`), so every line
it logs groups under its trace in the console.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # importing this module loads neither Flask nor CloudEvents
    from cloudevents.http import CloudEvent
    from flask import Request, Response

TRACE_KEY = "logging.googleapis.com/trace"
SPAN_KEY = "logging.googleapis.com/spanId"
SAMPLED_KEY = "logging.googleapis.com/trace_sampled"
SOURCE_KEY = "logging.googleapis.com/sourceLocation"

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

# Python's level names are Cloud Logging severities; a custom level becomes DEFAULT.
_SEVERITY = {
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "CRITICAL": "CRITICAL",
}

# W3C: version-traceid-parentid-flags, lower-case hex; all-zero ids are invalid.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# Google's legacy header: TRACE_ID/SPAN_ID;o=OPTIONS (span id in decimal, both optional).
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=(\d))?$")


@dataclass(frozen=True)
class TraceContext:
    trace: str  # projects/<project>/traces/<trace id>
    span_id: str | None = None  # 16 hex digits, as Cloud Logging expects
    sampled: bool | None = None


_trace: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "lapor_trace", default=None
)


def parse_trace_header(header: str | None, project: str) -> TraceContext | None:
    """The trace named by a ``traceparent`` or ``X-Cloud-Trace-Context`` value, or None."""
    if not header:
        return None
    value = header.strip()
    if m := _TRACEPARENT.match(value.lower()):
        trace_id, span_id, flags = m.groups()
        if trace_id == "0" * 32 or span_id == "0" * 16:
            return None
        return TraceContext(
            f"projects/{project}/traces/{trace_id}", span_id, bool(int(flags, 16) & 1)
        )
    if m := _CLOUD_TRACE.match(value):
        trace_id, span, option = m.groups()
        span_hex = f"{int(span):016x}" if span and int(span) < 2**64 else None
        return TraceContext(
            f"projects/{project}/traces/{trace_id.lower()}",
            span_hex,
            None if option is None else option == "1",
        )
    return None


def bind_trace(header: str | None, project: str) -> contextvars.Token[TraceContext | None]:
    """Tie the log lines that follow (in this context) to the request's trace.

    Returns the token for :func:`unbind_trace`; an unparseable header binds nothing, so
    a previous request's trace never leaks into this one.
    """
    return _trace.set(parse_trace_header(header, project))


def unbind_trace(token: contextvars.Token[TraceContext | None]) -> None:
    _trace.reset(token)


def current_trace() -> TraceContext | None:
    return _trace.get()


@contextmanager
def traced(header: str | None) -> Iterator[None]:
    """Bind the trace ``header`` names for the block; the project comes from settings."""
    from shared.config import settings

    token = bind_trace(header, settings().project)
    try:
        yield
    finally:
        unbind_trace(token)


def http_entry(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """An HTTP function's entry: logging set up once, each request in its trace."""
    setup_logging()

    @functools.wraps(handler)
    def entry(request: Request) -> Response:
        headers = request.headers
        with traced(headers.get("traceparent") or headers.get("X-Cloud-Trace-Context")):
            return handler(request)

    return entry


def event_entry(handler: Callable[[CloudEvent], None]) -> Callable[[CloudEvent], None]:
    """A CloudEvent function's entry: logging set up once, each event in its trace."""
    setup_logging()

    @functools.wraps(handler)
    def entry(cloud_event: CloudEvent) -> None:
        with traced(cloud_event.get("traceparent")):
            handler(cloud_event)

    return entry


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record, in the shape Cloud Logging's agent parses."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelname, "DEFAULT"),
            "message": record.getMessage(),
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "logger": record.name,
            # LogEntrySourceLocation: its int64 line travels as a JSON string.
            SOURCE_KEY: {
                "file": record.pathname,
                "line": str(record.lineno),
                "function": record.funcName,
            },
        }
        trace = _trace.get()
        if trace is not None:
            entry[TRACE_KEY] = trace.trace
            if trace.span_id:
                entry[SPAN_KEY] = trace.span_id
            if trace.sampled is not None:
                entry[SAMPLED_KEY] = trace.sampled
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            # The stack in the message lets Error Reporting pick the entry up.
            entry["message"] = f"{entry['message']}\n{self.formatException(record.exc_info)}"
        elif record.exc_text:
            entry["message"] = f"{entry['message']}\n{record.exc_text}"
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


_MARK = "_lapor_cloud_logging"


def setup_logging(level: int | str = logging.INFO, stream: TextIO | None = None) -> None:
    """Send the root logger's records to stdout (or ``stream``) as JSON.

    Calling it again adds no second handler: it only sets the level and, when a stream
    is given, points the existing handler at it. So every entry point may call it, and
    a test may capture the output whatever was loaded before it. httpx is kept to
    warnings: its INFO line names every URL it requests, webhook URLs included.
    """
    root = logging.getLogger()
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for existing in root.handlers:
        if getattr(existing, _MARK, False):
            if stream is not None and isinstance(existing, logging.StreamHandler):
                existing.setStream(stream)
            return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    setattr(handler, _MARK, True)
    root.addHandler(handler)
